// `prunekit-bench methods`: the methods the bench resolves, from the same registry as `prunekit
// prune` (built-ins plus plugins from --plugin / PRUNEKIT_PLUGINS, loaded before parsing).
import type { Command } from 'commander';
import { collect, printJson } from '@prunekit/cli-support';
import { methodHelp, optionSpecs } from '@prunekit/tensor-core';
import type { BenchContext } from '../context.js';

export function registerMethods(program: Command, ctx: BenchContext): void {
  program
    .command('methods')
    .description('list the registered methods and their options (the registry `prunekit prune --method` uses)')
    .option('--plugin <module>', 'load methods from a plugin module (repeatable; also PRUNEKIT_PLUGINS)', collect)
    .option('--json', 'print machine-readable JSON')
    .action((opts: { json?: boolean }) => {
      const defs = ctx.methods.list();
      if (opts.json) {
        printJson(ctx.io, defs.map((d) => ({ name: d.name, family: d.family, description: d.description, needs: d.needs, options: optionSpecs(d.options) })));
        return;
      }
      for (const d of defs) ctx.io.out(`${methodHelp(d, '    ')}\n`);
    });
}
