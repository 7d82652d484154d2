// `prunekit info`: the compute backend in use and the versions.
import type { Command } from 'commander';
import { initBackend } from '@prunekit/tensor-core';
import type { CliContext } from '../util/context.js';
import { printJson } from '@prunekit/cli-support';
import { cliVersion } from '../util/version.js';

export function registerInfo(program: Command, ctx: CliContext): void {
  program
    .command('info')
    .description('show the compute backend in use and the versions of the toolkit')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { json?: boolean }) => {
      const { io } = ctx;
      const backend = await initBackend({ warn: (l) => { io.err(`${l}\n`); } });
      const info = { prunekit: cliVersion, node: process.versions.node, backend };
      if (opts.json) {
        printJson(io, info);
        return;
      }
      io.out(`prunekit ${cliVersion} on Node ${process.versions.node}\n`);
      io.out(`backend: ${backend.name}${backend.tensorflowVersion ? ` (TensorFlow ${backend.tensorflowVersion})` : ''}, tfjs-core ${backend.tfjsVersion}\n`);
      if (backend.fallbackReason) io.out(`not native because: ${backend.fallbackReason}\n`);
    });
}
