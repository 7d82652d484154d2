// `prunekit tasks`: the tasks and suites eval can run (built-ins plus --tasks-dir folders).
import type { Command } from 'commander';
import type { CliContext } from '../util/context.js';
import { collect } from '@prunekit/cli-support';
import { printJson } from '@prunekit/cli-support';
import { taskRegistry } from '@prunekit/cli-support';

export function registerTasks(program: Command, ctx: CliContext): void {
  program
    .command('tasks')
    .description('list the evaluation tasks and suites')
    .option('--tasks-dir <dir>', 'also read task files (and suites/) from this folder; repeatable', collect)
    .option('--json', 'print machine-readable JSON')
    .action((opts: { tasksDir?: string[]; json?: boolean }) => {
      const { io } = ctx;
      const registry = taskRegistry(opts.tasksDir);
      const tasks = registry.listTasks();
      const suites = registry.listSuites();
      if (opts.json) {
        printJson(io, {
          tasks: tasks.map((t) => ({ name: t.name, type: t.type, domain: t.domain, data: t.data, splits: t.splits, metric: t.metric, options: t.options, description: t.description ?? null, source: t.source ?? null })),
          suites: suites.map((s) => ({ name: s.name, tasks: s.tasks, description: s.description ?? null, source: s.source ?? null })),
        });
        return;
      }
      const rows = tasks.map((t) => [t.name, t.type, t.domain, t.metric, t.splits.join(','), t.data]);
      const head = ['task', 'type', 'domain', 'metric', 'splits', 'data'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
      io.out(`${line(head)}\n${rows.map(line).join('\n')}\n\nsuites:\n`);
      const w = Math.max(...suites.map((s) => s.name.length));
      for (const s of suites) io.out(`  ${s.name.padEnd(w)}  ${s.tasks.join(', ')}\n`);
    });
}
