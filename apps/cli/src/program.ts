import { Command } from 'commander';
import { registerEval } from './commands/eval.js';
import { registerInfo } from './commands/info.js';
import { registerTasks } from './commands/tasks.js';
import { registerPrune } from './commands/prune.js';
import { registerScore } from './commands/score.js';
import { registerDemo } from './commands/demo.js';
import { registerArtifact } from './commands/artifact.js';
import { registerExport } from './commands/export.js';
import { defaultContext, type CliContext } from './util/context.js';
import { cliVersion } from './util/version.js';

/**
 * The `prunekit` command tree. Each command lives in commands/<name>.ts and exports one
 * register function; add yours to this list.
 */
const COMMANDS: ((program: Command, ctx: CliContext) => void)[] = [
  registerInfo,
  registerTasks,
  registerEval,
  registerPrune,
  registerScore,
  registerDemo,
  registerArtifact,
  registerExport,
];

/**
 * Builds the program. Commander never exits the process: errors are thrown (CommanderError for
 * usage errors, which it has already printed), and run() turns them into an exit status.
 */
export function buildProgram(overrides: Partial<CliContext> = {}): Command {
  const ctx = defaultContext(overrides);
  const program = new Command('prunekit')
    .description('Score, mask, gate and physically remove weights of transformer encoders; measure the result MTEB-style.')
    .version(cliVersion)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => { ctx.io.out(s); },
      writeErr: (s) => { ctx.io.err(s); },
      outputError: (s, write) => { write(s.replace(/^error: /, 'prunekit: ')); },
    })
    .showHelpAfterError('(add --help for usage)')
    .option('--verbose', "also print TensorFlow's native log lines (same as PRUNEKIT_TF_LOG=1)")
    .hook('preAction', (command) => {
      // read by tensor-core's initBackend, which every command reaches after this hook
      if (command.opts<{ verbose?: boolean }>().verbose) process.env.PRUNEKIT_TF_LOG = '1';
    });
  for (const register of COMMANDS) register(program, ctx);
  return program;
}
