import { CommanderError } from 'commander';
import { CliError, builtinMethods, errorMessage, pluginArgs, processIo } from '@prunekit/cli-support';
import { loadPlugins, pluginsFromEnv, settleOutputs } from '@prunekit/tensor-core';
import type { BenchContext } from './context.js';
import { buildBenchProgram } from './program.js';

/** Runs `prunekit-bench <argv...>` and resolves to the exit status; errors become one line on stderr. */
export async function run(argv: readonly string[], overrides: Partial<BenchContext> = {}): Promise<number> {
  const io = overrides.io ?? processIo();
  try {
    const methods = overrides.methods ?? builtinMethods();
    await loadPlugins([...pluginsFromEnv(), ...pluginArgs(argv)], methods);
    await buildBenchProgram({ ...overrides, io, methods }).parseAsync([...argv], { from: 'user' });
    settleOutputs(true);
    return 0;
  } catch (e) {
    settleOutputs(false);
    if (e instanceof CommanderError) return e.exitCode;
    io.err(`prunekit-bench: ${errorMessage(e)}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}
