// A suite on a job queue: the coordinator (`prunekit-bench run --queue URL`) plans the suite's cells,
// enqueues those not done as BullMQ jobs, follows them to the end, then runs the suite once more in
// collect mode to write the same results and report a local run writes. Workers
// (`prunekit-bench worker --queue URL`) take jobs: a bench cell runs the suite with only that cell
// executed; a statistics shard computes one shard of `prunekit score`. Results are files under the
// run's --out folder, which coordinator and workers share (same paths on a shared filesystem).
import path from 'node:path';
import cliProgress from 'cli-progress';
import { WorkQueue, jobIdOf, startWorker, type JobHandler, type JobSpec, type QueueProgress } from '@prunekit/tensor-core';
import { SCORE_SHARD_JOB, runScoreShardJob, type ScoreShardJob } from '@prunekit/scoring-fisher';
import type { CliIo } from '@prunekit/cli-support';
import { collectCells, planCells, workerCells } from './cells.js';
import type { BenchContext } from './context.js';
import type { BenchOutcome, BenchRunContext, BenchSuite } from './suites/types.js';

export const BENCH_CELL_JOB = 'bench-cell';

/** What a worker needs to run one cell (paths as the coordinator sees them). */
export interface BenchCellJob {
  /** kind:name of the suite */
  suite: string;
  models: string[];
  dataRoot: string;
  outDir: string;
  cacheDir: string | null;
  batchSize: number;
  quick: boolean;
  tasksDirs: string[];
  /** the cell's key */
  cell: string;
}

export interface QueueRunOptions {
  url: string;
  name: string;
  /** JSON lines on stdout instead of a progress bar */
  json: boolean;
  attempts: number;
  backoffMs: number;
  pollMs?: number;
}

function formatSeconds(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '?';
  return s < 90 ? `${s.toFixed(0)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** A progress display of queue jobs: a bar on a terminal, a line per change otherwise, JSON lines with --json. */
function queueProgress(io: CliIo, json: boolean): { update(p: QueueProgress): void; stop(): void } {
  let last = '';
  if (json) {
    return {
      update(p) {
        const line = JSON.stringify({ event: 'progress', ...p });
        const key = `${p.completed}/${p.failed}/${p.active}/${p.waiting}`;
        if (key !== last) io.out(`${line}\n`);
        last = key;
      },
      stop() { /* nothing drawn */ },
    };
  }
  if (io.tty) {
    const bar = new cliProgress.SingleBar({
      stream: io.tty,
      format: 'queue [{bar}] {value}/{total} done, {failed} failed, {active} running, {waiting} waiting, ETA {etaText}',
      hideCursor: true,
    }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      update(p) {
        const payload = { failed: p.failed, active: p.active, waiting: p.waiting, etaText: formatSeconds(p.eta) };
        if (!started) {
          bar.start(p.total, p.completed + p.failed, payload);
          started = true;
        } else bar.update(p.completed + p.failed, payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  return {
    update(p) {
      const key = `${p.completed}/${p.failed}/${p.active}`;
      if (key === last) return;
      last = key;
      io.err(`queue: ${p.completed + p.failed}/${p.total} done (${p.failed} failed), ${p.active} running, ${p.waiting} waiting, ${formatSeconds(p.elapsed)} elapsed, ETA ${formatSeconds(p.eta)}\n`);
    },
    stop() { /* lines only */ },
  };
}

/**
 * Runs a suite through the queue and returns the outcome of the final (collect) pass: the same
 * results a local run gives, with a failure for every cell that failed on the queue.
 */
export async function runSuiteOnQueue(io: CliIo, suite: BenchSuite, runCtx: BenchRunContext, options: QueueRunOptions): Promise<BenchOutcome & { queue: { enqueued: number; existing: number; retried: number; failed: number } }> {
  const plan = planCells(runCtx.outDir);
  await suite.run({ ...runCtx, cells: plan });
  const payloadOf = (cell: string): BenchCellJob => ({
    suite: `${suite.kind}:${suite.name}`, models: [...runCtx.models], dataRoot: runCtx.dataRoot, outDir: runCtx.outDir,
    cacheDir: runCtx.cacheDir ?? null, batchSize: runCtx.batchSize, quick: runCtx.quick, tasksDirs: [...runCtx.tasksDirs], cell,
  });
  // the id names what the cell computes, so enqueuing the same suite and output again never duplicates it
  const jobs: JobSpec<BenchCellJob>[] = plan.pending.map((c) => ({ id: jobIdOf(BENCH_CELL_JOB, payloadOf(c.key)), kind: BENCH_CELL_JOB, label: c.label, data: payloadOf(c.key) }));
  const reasons = new Map<string, string>();
  let counts = { added: 0, existing: 0, retried: 0 };
  if (jobs.length > 0) {
    const queue = await WorkQueue.open(options.url, options.name);
    try {
      counts = await queue.enqueue(jobs, { attempts: options.attempts, backoffMs: options.backoffMs });
      if (options.json) io.out(`${JSON.stringify({ event: 'enqueued', cells: jobs.length, ...counts, queue: options.name })}\n`);
      else io.err(`queue ${options.name}: ${jobs.length} cells to run (${counts.added} enqueued, ${counts.existing} already queued, ${counts.retried} failed before and retried); start workers with \`prunekit-bench worker --queue ${options.url}\`\n`);
      const progress = queueProgress(io, options.json);
      try {
        const waited = await queue.waitFor(jobs, (p) => { progress.update(p); }, options.pollMs);
        for (const f of waited.failed) reasons.set(jobs.find((j) => j.id === f.id)!.data.cell, f.reason);
      } finally {
        progress.stop();
      }
    } finally {
      await queue.close();
    }
  }
  const collect = collectCells(runCtx.outDir, reasons);
  const outcome = await suite.run({ ...runCtx, cells: collect });
  return { ...outcome, queue: { enqueued: counts.added, existing: counts.existing, retried: counts.retried, failed: reasons.size } };
}

/** The worker's job handlers: bench cells and statistics shards. */
export function benchJobHandlers(ctx: BenchContext, overrides: { dataRoot?: string }): Record<string, JobHandler> {
  return {
    [BENCH_CELL_JOB]: async (payload) => {
      const p = payload as BenchCellJob;
      const suite = ctx.suites.get(p.suite, { tasksDirs: p.tasksDirs });
      const runner = workerCells(p.outDir, p.cell);
      await suite.run({
        io: ctx.io, loadEncoder: ctx.loadEncoder, models: p.models, dataRoot: overrides.dataRoot ?? p.dataRoot, outDir: p.outDir,
        resultsDir: path.join(p.outDir, 'results'), cacheDir: p.cacheDir ?? undefined, batchSize: p.batchSize, quick: p.quick, tasksDirs: p.tasksDirs,
        cells: runner, methods: ctx.methods,
      });
      if (runner.error) throw runner.error;
      if (!runner.ran) throw new Error(`cell "${p.cell}" is not part of suite ${p.suite} here (different models or presets than the coordinator's?)`);
    },
    [SCORE_SHARD_JOB]: async (payload) => {
      await runScoreShardJob(payload as ScoreShardJob);
    },
  };
}

export interface WorkerRunOptions {
  url: string;
  name: string;
  concurrency: number;
  lockMs: number;
  dataRoot?: string;
  /** exit after this many seconds without a job (undefined: run until SIGINT/SIGTERM) */
  idleExitSeconds?: number;
  json: boolean;
}

/** Runs a worker until it is stopped (signal) or idle for idleExitSeconds. */
export async function runWorker(ctx: BenchContext, options: WorkerRunOptions): Promise<{ completed: number; failed: number }> {
  let completed = 0;
  let failed = 0;
  let active = 0;
  let lastActivity = performance.now();
  const say = (e: Record<string, unknown>, text: string): void => {
    if (options.json) ctx.io.out(`${JSON.stringify(e)}\n`);
    else ctx.io.err(`${text}\n`);
  };
  const handlers = benchJobHandlers(ctx, options.dataRoot ? { dataRoot: options.dataRoot } : {});
  const worker = await startWorker(options.url, options.name, handlers, {
    concurrency: options.concurrency, lockMs: options.lockMs,
    onEvent: (e) => {
      lastActivity = performance.now();
      if (e.type === 'started') active++;
      else {
        active--;
        if (e.type === 'completed') completed++;
        else failed++;
      }
      say({ event: e.type, pid: process.pid, ...e }, `prunekit-bench worker ${process.pid}: ${e.type} ${e.label} (attempt ${e.attempt})${e.seconds !== undefined ? ` in ${e.seconds.toFixed(1)} s` : ''}${e.error ? `: ${e.error}` : ''}`);
    },
  });
  say({ event: 'ready', pid: process.pid, queue: options.name }, `prunekit-bench worker ${process.pid}: waiting for jobs on ${options.url} (queue ${options.name}); Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      clearInterval(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    const timer = setInterval(() => {
      if (options.idleExitSeconds !== undefined && active === 0 && (performance.now() - lastActivity) / 1000 >= options.idleExitSeconds) stop();
    }, 250);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await worker.close();
  say({ event: 'stopped', pid: process.pid, completed, failed }, `prunekit-bench worker ${process.pid}: stopped after ${completed} jobs (${failed} failed attempts)`);
  return { completed, failed };
}
