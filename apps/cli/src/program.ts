import { Command } from 'commander';
import { initBackend } from '@prunekit/tensor-core';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const version = (require('../package.json') as { version: string }).version;

/** The `prunekit` command tree; main.ts parses process.argv with it. */
export function buildProgram(): Command {
  const program = new Command('prunekit')
    .description('Score, mask, gate and physically remove weights of transformer encoders; measure the result MTEB-style.')
    .version(version)
    .showHelpAfterError();

  program
    .command('info')
    .description('show the compute backend in use and the versions of the toolkit')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { json?: boolean }) => {
      const backend = await initBackend();
      const info = { prunekit: version, node: process.versions.node, backend };
      if (opts.json) {
        console.log(JSON.stringify(info, null, 2));
      } else {
        console.log(`prunekit ${version} on Node ${process.versions.node}`);
        console.log(`backend: ${backend.name}${backend.tensorflowVersion ? ` (TensorFlow ${backend.tensorflowVersion})` : ''}, tfjs-core ${backend.tfjsVersion}`);
        if (backend.fallbackReason) console.log(`not native because: ${backend.fallbackReason}`);
      }
    });
  return program;
}
