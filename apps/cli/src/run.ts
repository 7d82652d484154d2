// The process boundary: parse argv, run the command, turn any error into one line
// `prunekit: <message>` on stderr and an exit status. main.ts only calls this.
import { CommanderError } from 'commander';
import { settleOutputs } from '@prunekit/tensor-core';
import { buildProgram } from './program.js';
import type { CliContext } from './util/context.js';
import { CliError, errorMessage } from '@prunekit/cli-support';
import { processIo } from '@prunekit/cli-support';
import { loadPlugins, pluginsFromEnv } from '@prunekit/tensor-core';
import { builtinMethods, pluginArgs } from '@prunekit/cli-support';

/** Runs `prunekit <argv...>` (argv without node and script) and resolves to the exit status. */
export async function run(argv: readonly string[], overrides: Partial<CliContext> = {}): Promise<number> {
  const io = overrides.io ?? processIo();
  try {
    const methods = overrides.methods ?? builtinMethods();
    await loadPlugins([...pluginsFromEnv(), ...pluginArgs(argv)], methods);
    await buildProgram({ ...overrides, io, methods, argv }).parseAsync(argv, { from: 'user' });
    // outputs a command claimed: marker written, work area and lock removed
    settleOutputs(true);
    return 0;
  } catch (e) {
    settleOutputs(false);
    // commander has printed its own usage errors (and --help / --version output) already
    if (e instanceof CommanderError) return e.exitCode;
    io.err(`prunekit: ${errorMessage(e)}\n`);
    if (process.env.PRUNEKIT_DEBUG && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}
