import { Command } from 'commander';
import { createRequire } from 'node:module';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerSuites } from './commands/suites.js';
import { registerWorker } from './commands/worker.js';
import { benchContext, type BenchContext } from './context.js';

const require = createRequire(import.meta.url);
const version = (require('../package.json') as { version: string }).version;

const COMMANDS: ((program: Command, ctx: BenchContext) => void)[] = [
  registerRun,
  registerReport,
  registerSuites,
  registerWorker,
];

/** The `prunekit-bench` command tree (commander never exits the process; run() maps errors to a status). */
export function buildBenchProgram(overrides: Partial<BenchContext> = {}): Command {
  const ctx = benchContext(overrides);
  const program = new Command('prunekit-bench')
    .description('Run benchmark suites over models and write results/ and a report.')
    .version(version)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => { ctx.io.out(s); },
      writeErr: (s) => { ctx.io.err(s); },
      outputError: (s, write) => { write(s.replace(/^error: /, 'prunekit-bench: ')); },
    })
    .showHelpAfterError('(add --help for usage)');
  for (const register of COMMANDS) register(program, ctx);
  return program;
}
