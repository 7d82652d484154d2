import { CommanderError } from 'commander';
import { settleOutputs } from '@prunekit/tensor-core';
import { CliError, errorMessage, processIo } from '@prunekit/cli';
import type { BenchContext } from './context.js';
import { buildBenchProgram } from './program.js';

/** Runs `prunekit-bench <argv...>` and resolves to the exit status; errors become one line on stderr. */
export async function run(argv: readonly string[], overrides: Partial<BenchContext> = {}): Promise<number> {
  const io = overrides.io ?? processIo();
  try {
    await buildBenchProgram({ ...overrides, io }).parseAsync([...argv], { from: 'user' });
    settleOutputs(true);
    return 0;
  } catch (e) {
    settleOutputs(false);
    if (e instanceof CommanderError) return e.exitCode;
    io.err(`prunekit-bench: ${errorMessage(e)}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}
