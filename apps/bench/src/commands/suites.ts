// `prunekit-bench suites`: the suites run accepts, by kind.
import type { Command } from 'commander';
import { collect, printJson } from '@prunekit/cli-support';
import type { BenchContext } from '../context.js';

export function registerSuites(program: Command, ctx: BenchContext): void {
  program
    .command('suites')
    .description('list the benchmark suites')
    .option('--tasks-dir <dir>', 'also read task files (and suites/) from this folder; repeatable', collect)
    .option('--json', 'print machine-readable JSON')
    .action((opts: { tasksDir?: string[]; json?: boolean }) => {
      const suites = ctx.suites.list({ tasksDirs: opts.tasksDir ?? [] });
      if (opts.json) {
        printJson(ctx.io, suites.map((s) => ({ name: s.name, kind: s.kind, description: s.description })));
        return;
      }
      for (const k of ctx.suites.kinds()) {
        ctx.io.out(`${k.name}: ${k.description}\n`);
        for (const s of suites.filter((x) => x.kind === k.name)) ctx.io.out(`  ${s.name.padEnd(12)} ${s.description}\n`);
      }
    });
}
