#!/usr/bin/env node
// Wall-clock of a benchmark suite on the BullMQ queue with 1, 2, ... workers, each worker pinned to
// its own CPU core (taskset), so n workers on this machine stand in for n one-core machines. Not a
// test: a benchmark whose numbers go in the bench README ("Many machines").
//
//   npm start && node tools/bench/queue-scaling.mjs [--workers 1,2] [--suite gaprune] [--model ../shared/models/tiny-encoder] [--no-pin]
//
// For each worker count: a fresh redis-server on a free loopback port, a fresh output folder, the
// coordinator (`prunekit-bench run --queue`, not pinned: it plans, waits and writes the report) and
// n workers (`prunekit-bench worker --json`, worker i on core i). Reports the suite's wall time, the
// speed-up against one worker, and each cell's time from the workers' `completed` events.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..', '..');
const shared = process.env.PRUNEKIT_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2' },
    suite: { type: 'string', default: 'gaprune' },
    model: { type: 'string', default: path.join(shared, 'models', 'tiny-encoder') },
    'data-root': { type: 'string', default: path.join(shared, 'datasets') },
    full: { type: 'boolean', default: false },
    keep: { type: 'string' },
    // without pinning every worker uses every core (what two workers on this one machine really get)
    'no-pin': { type: 'boolean', default: false },
  },
});
const benchMain = path.join(root, 'apps', 'bench', 'bin', 'prunekit-bench.mjs');
const redisServer = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
if (!redisServer) throw new Error('redis-server is not installed (apt-get install -y redis-server)');
const taskset = values['no-pin'] ? '' : spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).stdout.trim();
const cores = os.availableParallelism();

const freePort = () => new Promise((resolve, reject) => {
  const srv = net.createServer();
  srv.once('error', reject);
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
});

function start(cmd, args, core, onLine) {
  const [file, argv] = taskset && core !== undefined ? [taskset, ['-c', String(core % cores), cmd, ...args]] : [cmd, args];
  const proc = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  proc.stdout.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); onLine?.(line); }
  });
  let err = '';
  proc.stderr.on('data', (d) => { err = (err + d.toString()).slice(-4000); });
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve({ code, err })));
  return { proc, exited };
}

const results = [];
for (const n of values.workers.split(',').map(Number)) {
  const dir = fs.mkdtempSync(path.join(values.keep ?? os.tmpdir(), `pk-scaling-${n}-`));
  const port = await freePort();
  const redis = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const url = `redis://127.0.0.1:${port}`;
  const queueName = `scaling-${n}`;
  const cells = [];
  const t0 = performance.now();
  const out = path.join(dir, 'out');
  const coordinator = start(process.execPath, [benchMain, 'run', '--suite', values.suite, ...(values.full ? [] : ['--quick']), '--models', values.model, '--data-root', values['data-root'], '--out', out, '--queue', url, '--queue-name', queueName, '--json']);
  const workers = Array.from({ length: n }, (_, i) => start(process.execPath, [benchMain, 'worker', '--queue', url, '--queue-name', queueName, '--exit-when-idle', '20', '--json'], i, (line) => {
    if (!line.startsWith('{')) return;
    const e = JSON.parse(line);
    if (e.event === 'completed') cells.push({ worker: i, label: e.label, seconds: e.seconds });
    if (e.event === 'completed' || e.event === 'failed') process.stderr.write(`  [${n} workers] worker ${i}: ${e.event} ${e.label}${e.seconds !== undefined ? ` ${e.seconds.toFixed(1)} s` : ''}\n`);
  }));
  const c = await coordinator.exited;
  const wall = (performance.now() - t0) / 1000;
  for (const w of workers) w.proc.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  redis.kill('SIGTERM');
  if (c.code !== 0) throw new Error(`coordinator with ${n} workers exited ${c.code}: ${c.err}`);
  results.push({ workers: n, wall, cells });
  process.stderr.write(`${n} worker(s): ${wall.toFixed(1)} s\n`);
  if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
}

const base = results[0].wall;
console.log(`suite ${values.suite}${values.full ? '' : ' --quick'} on ${path.basename(values.model)}; ${cores} cores, load average before: ${os.loadavg()[0].toFixed(2)}; workers pinned one core each: ${taskset ? 'yes' : values['no-pin'] ? 'no (--no-pin)' : 'no (taskset missing)'}\n`);
console.log('| workers | wall time (s) | speed-up vs 1 worker | cells |');
console.log('|---:|---:|---:|---:|');
for (const r of results) console.log(`| ${r.workers} | ${r.wall.toFixed(1)} | ${(base / r.wall).toFixed(2)}× | ${r.cells.length} |`);
console.log(`\nPer cell with one worker (${taskset ? 'one core' : 'every core'}):\n`);
console.log('| cell | seconds |');
console.log('|---|---:|');
for (const c of results[0].cells) console.log(`| ${c.label} | ${c.seconds.toFixed(1)} |`);
console.log(JSON.stringify({ results }));
