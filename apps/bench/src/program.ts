import { Command } from 'commander';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const version = (require('../package.json') as { version: string }).version;

/** The `prunekit-bench` command tree. Suites register here as the methods land. */
export function buildBenchProgram(): Command {
  return new Command('prunekit-bench')
    .description('Run method x sparsity x task benchmark matrices and write results/ and a report.')
    .version(version)
    .showHelpAfterError();
}
