// A work queue on Redis through BullMQ, for work that outgrows one process: benchmark grid cells and
// shards of gradient statistics. Jobs carry idempotent ids (a hash of what they compute), so
// enqueuing the same work twice never duplicates it; workers on any machine take jobs, retry with
// exponential backoff, and a worker that dies mid-job loses its lock, after which another worker
// takes the job again (BullMQ's stalled-job check). Results are files the jobs write (shared
// filesystem); the queue only holds job descriptions and states.
//
// bullmq is an optional peer dependency, loaded on first use: code that never uses a queue does not
// need it (the apps depend on it).
import { createHash } from 'node:crypto';
import type { ConnectionOptions, Job, Queue, Worker } from 'bullmq';

export class QueueError extends Error {
  override name = 'QueueError';
}

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  password?: string;
  username?: string;
}

/** Parses `redis://[user:password@]host[:port][/db]` (naming the flag in errors). */
export function parseRedisUrl(text: string, flag = '--queue'): RedisTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new QueueError(`${flag} expects redis://HOST:PORT[/DB] (got "${text}")`);
  }
  if (u.protocol !== 'redis:') throw new QueueError(`${flag} expects a redis:// URL (got "${text}")`);
  if (!u.hostname) throw new QueueError(`${flag} expects redis://HOST:PORT[/DB]: no host in "${text}"`);
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new QueueError(`${flag}: database "${dbText}" in "${text}" is not a non-negative integer`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''), port, db,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
  };
}

/** A stable job id from what the job computes (BullMQ ids must not contain ':'; hex never does). */
export function jobIdOf(kind: string, parameters: unknown): string {
  return `${kind}-${createHash('sha256').update(stableJson(parameters)).digest('hex').slice(0, 32)}`;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return v === undefined ? 'null' : JSON.stringify(v);
}

type BullMq = typeof import('bullmq');
let bullmq: Promise<BullMq> | null = null;
function loadBullMq(): Promise<BullMq> {
  bullmq ??= import('bullmq').catch((e: unknown) => {
    bullmq = null;
    throw new QueueError(`the job queue needs the "bullmq" package (npm install bullmq): ${(e as Error).message}`);
  });
  return bullmq;
}

function connectionOf(t: RedisTarget): ConnectionOptions {
  // fail fast instead of retrying forever when Redis is not there
  return { host: t.host, port: t.port, db: t.db, ...(t.password ? { password: t.password } : {}), ...(t.username ? { username: t.username } : {}), maxRetriesPerRequest: null, connectTimeout: 5000 };
}

export interface JobSpec<T = unknown> {
  /** idempotent id (jobIdOf) */
  id: string;
  /** handler name: which worker handler runs it */
  kind: string;
  /** one line for people */
  label: string;
  data: T;
}

export interface EnqueueOptions {
  /** tries in all (default 3) */
  attempts?: number;
  /** first retry delay in ms, doubled each retry (default 2000) */
  backoffMs?: number;
}

export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'unknown';

export interface QueueProgress {
  total: number;
  completed: number;
  failed: number;
  active: number;
  waiting: number;
  /** seconds since waiting started */
  elapsed: number;
  /** estimated seconds left from the mean time per finished job, or null before the first */
  eta: number | null;
}

export interface WaitResult {
  completed: string[];
  failed: { id: string; label: string; reason: string }[];
}

/** The producer side: enqueue jobs and follow them to the end. */
export class WorkQueue {
  private constructor(private readonly queue: Queue, readonly target: RedisTarget, readonly name: string) {}

  static async open(url: string, name = 'prunekit'): Promise<WorkQueue> {
    const target = parseRedisUrl(url);
    const { Queue } = await loadBullMq();
    const queue = new Queue(name, { connection: connectionOf(target) });
    try {
      await withTimeout(queue.waitUntilReady(), 8000, `no Redis answered at ${target.host}:${target.port} (db ${target.db})`);
    } catch (e) {
      await queue.close().catch(() => undefined);
      throw e instanceof QueueError ? e : new QueueError(`Redis at ${target.host}:${target.port}: ${(e as Error).message}`);
    }
    return new WorkQueue(queue, target, name);
  }

  /**
   * Adds jobs under their ids. A job that exists already is left alone (no duplicate), except a
   * job that failed for good, which is retried: a rerun picks up what failed before.
   */
  async enqueue(jobs: readonly JobSpec[], options: EnqueueOptions = {}): Promise<{ added: number; existing: number; retried: number }> {
    let added = 0;
    let existing = 0;
    let retried = 0;
    for (const j of jobs) {
      const prior = await this.queue.getJob(j.id);
      if (prior) {
        const state = await prior.getState();
        if (state === 'failed') {
          await prior.retry('failed');
          retried++;
        } else existing++;
        continue;
      }
      await this.queue.add(j.kind, { label: j.label, payload: j.data }, {
        jobId: j.id, attempts: options.attempts ?? 3, backoff: { type: 'exponential', delay: options.backoffMs ?? 2000 },
        removeOnComplete: false, removeOnFail: false,
      });
      added++;
    }
    return { added, existing, retried };
  }

  async state(id: string): Promise<{ state: JobState; reason: string }> {
    const job = await this.queue.getJob(id);
    if (!job) return { state: 'unknown', reason: 'not in the queue' };
    const s = await job.getState();
    const state: JobState = s === 'completed' || s === 'failed' || s === 'active' || s === 'delayed' ? s : s === 'unknown' ? 'unknown' : 'waiting';
    return { state, reason: job.failedReason };
  }

  /** Polls the jobs until every one has completed or failed for good; reports progress each poll. */
  async waitFor(jobs: readonly JobSpec[], onProgress?: (p: QueueProgress) => void, pollMs = 500): Promise<WaitResult> {
    const t0 = performance.now();
    const done = new Map<string, { ok: boolean; reason: string }>();
    for (;;) {
      let active = 0;
      let waiting = 0;
      for (const j of jobs) {
        if (done.has(j.id)) continue;
        const { state, reason } = await this.state(j.id);
        if (state === 'completed') done.set(j.id, { ok: true, reason: '' });
        else if (state === 'failed') done.set(j.id, { ok: false, reason });
        else if (state === 'unknown') done.set(j.id, { ok: false, reason: 'the job disappeared from the queue (Redis restarted without persistence, or the queue was emptied); run again to enqueue it anew' });
        else if (state === 'active') active++;
        else waiting++;
      }
      const completed = [...done.values()].filter((d) => d.ok).length;
      const failed = done.size - completed;
      const elapsed = (performance.now() - t0) / 1000;
      const finishedHere = done.size;
      onProgress?.({ total: jobs.length, completed, failed, active, waiting, elapsed, eta: finishedHere > 0 ? (elapsed / finishedHere) * (jobs.length - finishedHere) : null });
      if (done.size === jobs.length) break;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    return {
      completed: jobs.filter((j) => done.get(j.id)!.ok).map((j) => j.id),
      failed: jobs.filter((j) => !done.get(j.id)!.ok).map((j) => ({ id: j.id, label: j.label, reason: done.get(j.id)!.reason })),
    };
  }

  /** Removes every job of this queue (tests, or a fresh start). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export type JobHandler = (payload: unknown, info: { id: string; label: string; attempt: number }) => Promise<void>;

export interface WorkerOptions {
  /** jobs at once in this process (default 1: the work itself uses every core) */
  concurrency?: number;
  /** ms a job's lock lasts without renewal; a worker silent that long is taken for dead (default 30000) */
  lockMs?: number;
  /** ms between checks for jobs whose worker died (default lockMs / 2) */
  stalledCheckMs?: number;
  /** times a job may be found stalled before it fails (default 3) */
  maxStalled?: number;
  onEvent?: (e: { type: 'started' | 'completed' | 'failed'; id: string; label: string; attempt: number; error?: string; seconds?: number }) => void;
}

/** Runs jobs of the queue with the given handlers (by job kind) until close() is called. */
export async function startWorker(url: string, name: string, handlers: Readonly<Record<string, JobHandler>>, options: WorkerOptions = {}): Promise<{ close(): Promise<void>; worker: Worker }> {
  const target = parseRedisUrl(url);
  const { Worker } = await loadBullMq();
  const lockMs = options.lockMs ?? 30000;
  const worker = new Worker(name, async (job: Job<{ label: string; payload: unknown }>) => {
    const handler = handlers[job.name];
    const id = job.id ?? '?';
    const label = job.data.label;
    const attempt = job.attemptsMade + 1;
    if (!handler) throw new QueueError(`no handler for jobs of kind "${job.name}" in this worker (it handles ${Object.keys(handlers).join(', ')})`);
    options.onEvent?.({ type: 'started', id, label, attempt });
    const t0 = performance.now();
    try {
      await handler(job.data.payload, { id, label, attempt });
    } catch (e) {
      options.onEvent?.({ type: 'failed', id, label, attempt, error: (e as Error).message });
      throw e;
    }
    options.onEvent?.({ type: 'completed', id, label, attempt, seconds: (performance.now() - t0) / 1000 });
  }, {
    connection: connectionOf(target), concurrency: options.concurrency ?? 1,
    lockDuration: lockMs, stalledInterval: options.stalledCheckMs ?? Math.max(1000, Math.floor(lockMs / 2)), maxStalledCount: options.maxStalled ?? 3,
  });
  await withTimeout(worker.waitUntilReady(), 8000, `no Redis answered at ${target.host}:${target.port} (db ${target.db})`);
  return { worker, close: () => worker.close() };
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => { reject(new QueueError(message)); }, ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
