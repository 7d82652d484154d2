// The benchmark grid and statistics shards on a real Redis (BullMQ): two worker processes take the
// cells of a suite, one is killed with SIGKILL in the middle of a cell, and every cell still
// completes exactly once, with results equal to a local run; a rerun enqueues nothing; shards of
// `prunekit score` run as jobs and merge to the one-process statistics.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResults } from '@prunekit/benchmarks-mteb';
import { memoryIo } from '@prunekit/cli';
import { SentenceEncoder, WorkQueue, initBackend, jobIdOf, parsePolicy, prunableParameters } from '@prunekit/tensor-core';
import { SCORE_SHARD_JOB, computeGradStats, mergeGradStatsShards, type ScoreShardJob } from '@prunekit/scoring-fisher';
import { sharedPath, warnSkip, workspaceRoot } from '../../../tools/test-support/shared.js';
import { writeSyntheticTasks } from '../../cli/src/test-support/synthetic.js';
import { readCompletions } from './cells.js';
import { run } from './run.js';

const redisServer = ((): string | null => {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  const reason = 'redis-server is not installed (apt-get install -y redis-server; .ci/run installs it)';
  if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  warnSkip(reason);
  return null;
})();
const tiny = sharedPath('models/tiny-encoder');
const benchMain = path.join(workspaceRoot, 'apps', 'bench', 'dist', 'main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => { resolve(port); });
    });
  });
}

interface WorkerProc {
  proc: ChildProcess;
  events: Record<string, unknown>[];
  exited: Promise<number | null>;
}

function startWorker(url: string, queueName: string, onEvent?: (w: WorkerProc, e: Record<string, unknown>) => void): WorkerProc {
  const proc = spawn(process.execPath, [benchMain, 'worker', '--queue', url, '--queue-name', queueName, '--lock-seconds', '2', '--exit-when-idle', '60', '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: process.env.CI ?? '' } });
  const w: WorkerProc = { proc, events: [], exited: new Promise((resolve) => { proc.on('exit', (code) => { resolve(code); }); }) };
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as Record<string, unknown>;
      w.events.push(e);
      onEvent?.(w, e);
    }
  });
  proc.stderr!.resume();
  return w;
}

const scores = (dir: string): Map<string, number> => new Map(readResults(dir).map((r) => [`${r.model_name}/${r.task_name}`, Object.values(r.scores)[0]![0]!.main_score]));

describe.skipIf(!redisServer || !tiny)('bench grid on a BullMQ queue (real Redis, worker processes)', () => {
  let redis: ChildProcess;
  let url = '';
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-queue-'));
  const workers: WorkerProc[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(benchMain)) throw new Error(`${benchMain} is missing: the bench app's test target builds it first (nx dependsOn build)`);
    const port = await freePort();
    redis = spawn(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', root], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      try {
        const q = await WorkQueue.open(url, 'probe');
        await q.close();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`redis-server did not start on ${url}`);
  });

  afterAll(async () => {
    for (const w of workers) w.proc.kill('SIGKILL');
    redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('two workers, one killed mid-cell: every cell completes exactly once, results equal a local run, a rerun enqueues nothing', async () => {
    const syn = writeSyntheticTasks();
    const models = ['m1', 'm2', 'm3', 'm4'].map((n) => {
      const d = path.join(root, 'models', n);
      fs.cpSync(tiny!, d, { recursive: true });
      return d;
    });
    const args = (out: string): string[] => ['run', '--suite', 'toy', '--tasks-dir', syn.tasksDir, '--models', models.join(','), '--data-root', syn.dataRoot, '--out', out, '--no-cache'];
    const localIo = memoryIo();
    expect(await run(args(path.join(root, 'local')), { io: localIo })).toBe(0);

    const queueName = `grid-${process.pid}`;
    let killed: { pid: number; label: unknown } | null = null;
    const onEvent = (w: WorkerProc, e: Record<string, unknown>): void => {
      // kill the first worker that starts a cell, in the middle of it
      if (e.event === 'started' && killed === null) {
        killed = { pid: w.proc.pid!, label: e.label };
        w.proc.kill('SIGKILL');
      }
    };
    workers.push(startWorker(url, queueName, onEvent), startWorker(url, queueName, onEvent));
    const out = path.join(root, 'queued');
    const io = memoryIo();
    expect(await run([...args(out), '--queue', url, '--queue-name', queueName, '--json'], { io })).toBe(0);
    expect(killed).not.toBeNull();
    expect(await workers[0]!.exited.then(() => true)).toBe(true);
    const lines = io.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ event: 'enqueued', cells: 4, added: 4 });
    expect(lines.at(-1)).toMatchObject({ event: 'done', failures: [] });

    // exactly once: one completion line per cell, although the killed worker's cell was started twice
    const completions = readCompletions(out);
    expect([...completions.values()]).toEqual([1, 1, 1, 1]);
    const survivor = workers.find((w) => w.proc.pid !== killed!.pid)!;
    expect(survivor.events.filter((e) => e.event === 'started' && e.label === killed!.label).length).toBe(1);
    // the same numbers as the local run, for every model and task
    const local = scores(path.join(root, 'local', 'results'));
    const queued = scores(path.join(out, 'results'));
    expect(local.size).toBe(4 * syn.names.length);
    expect([...queued.keys()].sort()).toEqual([...local.keys()].sort());
    for (const [k, v] of local) expect(queued.get(k)).toBe(v);
    expect(fs.existsSync(path.join(out, 'report.md'))).toBe(true);

    // a rerun finds every cell done and enqueues nothing
    const again = memoryIo();
    expect(await run([...args(out), '--queue', url, '--queue-name', queueName, '--json'], { io: again })).toBe(0);
    expect(again.stdout).not.toContain('"event":"enqueued"');
    expect(readCompletions(out).size).toBe(4);
  });

  it('statistics shards run as queue jobs and merge to the one-process statistics', async () => {
    const data = path.join(root, 'triplets.jsonl');
    const rows = Array.from({ length: 10 }, (_, i) => ({ query: `question number ${i} about rates`, positive: `answer ${i}: the rate is ${i} percent`, negative: `unrelated sentence ${i} about weather` }));
    fs.writeFileSync(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const queueName = `shards-${process.pid}`;
    const w = startWorker(url, queueName);
    workers.push(w);
    const base = { model: tiny!, data, targets: 'mlp', batchSize: 2, seed: 1 };
    const jobs = [0, 1, 2].map((index) => {
      const job: ScoreShardJob = { ...base, shard: { index, count: 3 }, out: path.join(root, 'shards', `s${index}.safetensors`) };
      return { id: jobIdOf(SCORE_SHARD_JOB, job), kind: SCORE_SHARD_JOB, label: `shard ${index + 1}/3`, data: job };
    });
    const q = await WorkQueue.open(url, queueName);
    try {
      expect(await q.enqueue(jobs)).toEqual({ added: 3, existing: 0, retried: 0 });
      expect(await q.enqueue(jobs)).toEqual({ added: 0, existing: 3, retried: 0 });
      const done = await q.waitFor(jobs, undefined, 200);
      expect(done.failed).toEqual([]);
    } finally {
      await q.close();
    }
    const merged = mergeGradStatsShards(jobs.map((j) => j.data.out));
    await initBackend();
    const enc = await SentenceEncoder.load(tiny!);
    try {
      const params = prunableParameters(enc.model, parsePolicy('mlp')).map((p) => p.name);
      const whole = await computeGradStats(enc, rows, { params, batchSize: 2, seed: 1 });
      for (const n of params) {
        const a = merged.fisher.get(n)!;
        const b = whole.fisher.get(n)!;
        let scale = 0;
        let worst = 0;
        for (let i = 0; i < a.length; i++) {
          scale = Math.max(scale, Math.abs(b[i]!));
          worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        }
        expect(worst / scale).toBeLessThan(1e-6);
      }
    } finally {
      enc.dispose();
    }
  });
});
