// `prunekit-bench worker`: takes jobs from the queue that `prunekit-bench run --queue` and
// `prunekit score --queue` fill, and runs them (benchmark cells, statistics shards) until stopped.
import type { Command } from 'commander';
import { checkDataRoot, positiveInt } from '@prunekit/cli';
import type { BenchContext } from '../context.js';
import { runWorker } from '../queue.js';

interface WorkerFlags {
  queue: string;
  queueName: string;
  dataRoot?: string;
  concurrency: number;
  lockSeconds: number;
  exitWhenIdle?: number;
  json?: boolean;
}

export function registerWorker(program: Command, ctx: BenchContext): void {
  program
    .command('worker')
    .description('run queued jobs (benchmark cells, statistics shards) from a BullMQ queue on Redis until stopped (Ctrl-C / SIGTERM)')
    .requiredOption('--queue <url>', 'redis://HOST:PORT[/DB]')
    .option('--queue-name <name>', 'queue name in Redis', 'prunekit')
    .option('--data-root <dir>', 'datasets root on this machine (default: the path the coordinator gave)')
    .option('--concurrency <n>', 'jobs at once in this process (each job already uses every core)', positiveInt('--concurrency'), 1)
    .option('--lock-seconds <n>', 'a job whose worker is silent this long is taken for dead and run again elsewhere', positiveInt('--lock-seconds'), 30)
    .option('--exit-when-idle <seconds>', 'stop after this many seconds without a job', positiveInt('--exit-when-idle'))
    .option('--json', 'one JSON line per event on stdout')
    .action(async (o: WorkerFlags) => {
      if (o.dataRoot) checkDataRoot(o.dataRoot);
      await runWorker(ctx, {
        url: o.queue, name: o.queueName, concurrency: o.concurrency, lockMs: o.lockSeconds * 1000, json: o.json ?? false,
        ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}),
        ...(o.exitWhenIdle === undefined ? {} : { idleExitSeconds: o.exitWhenIdle }),
      });
    });
}
