#!/usr/bin/env node
// Gradient throughput for GAPrune's statistics: triplets/s of forward + backward (InfoNCE, MLP weight
// gradients accumulated as Fisher and mean gradient), prunekit versus PyTorch on the same model and
// batches in one run, and peak memory. Not a test: a benchmark whose numbers go in reports.
//
//   npx nx run @prunekit/scoring-fisher:build && node tools/bench/gradient-throughput.mjs [--batches 8] [--batch 16] [--micro-batch 0,16]
//
// Triplets: the demo's TAT-QA training slice (apps/cli/demo/data/finance/train, BM25 negatives), as JSON;
// runs before 2026-11-30 used the demo's former authored finance triplets (shorter texts).
// Models: ../shared/models/mini-encoder and the BERT-base-sized random model of make_random_bert.py.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..', '..');
const shared = process.env.PRUNEKIT_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const python = path.join(root, 'tools', '.venv', 'bin', 'python');
const { values } = parseArgs({ options: { batches: { type: 'string', default: '8' }, batch: { type: 'string', default: '16' }, 'only-node': { type: 'string' }, 'micro-batch': { type: 'string', default: '0,16' } } });
// prunekit is measured once per --micro-batch value (0 = the whole batch in one backward pass)
const microBatches = values['micro-batch'].split(',').map(Number);
const batches = Number(values.batches);
const batch = Number(values.batch);

if (values['only-node']) {
  // child mode: one model, prunekit only, so peak RSS is per model
  const { initBackend, SentenceEncoder, prunableParameters, MLP_ONLY } = await import(path.join(root, 'packages/tensor-core/dist/index.js'));
  const { GradStatsAccumulator, tokenizeTriplets, disposeTripletInputs } = await import(path.join(root, 'packages/scoring-fisher/dist/index.js'));
  const [dir, file] = values['only-node'].split('::');
  await initBackend();
  const triplets = JSON.parse(fs.readFileSync(file, 'utf8'));
  const enc = await SentenceEncoder.load(dir, { maxLength: 128 });
  const params = prunableParameters(enc.model, MLP_ONLY).map((p) => p.name);
  const mb = microBatches[0];
  const acc = new GradStatsAccumulator(enc.model, params, 'mean', mb > 0 ? { microBatch: mb } : {});
  const chunks = Array.from({ length: batches }, (_, i) => triplets.slice(i * batch, (i + 1) * batch));
  const stepOnce = async (c) => {
    const inputs = await tokenizeTriplets(enc.tokenizer, c, 128);
    acc.add(inputs);
    disposeTripletInputs(inputs);
  };
  await stepOnce(chunks[0]);
  const t0 = performance.now();
  for (const c of chunks) await stepOnce(c);
  const dt = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ triplets_per_s: (batch * batches) / dt, seconds: dt, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

for (const p of [path.join(root, 'packages/scoring-fisher/dist/index.js'), python, shared]) {
  if (!fs.existsSync(p)) {
    console.error(`gradient-throughput: missing ${p} (build with \`npx nx run @prunekit/scoring-fisher:build\`; Python venv: bash tools/python/setup-venv.sh)`);
    process.exit(1);
  }
}
const { readBeir, tripletsFromRetrieval } = await import(path.join(root, 'packages/scoring-fisher/dist/index.js'));
const demoTrain = await readBeir(path.join(root, 'apps/cli/demo/data/finance/train'), 'train');
const triplets = (await tripletsFromRetrieval(demoTrain, { negatives: 'bm25', seed: 0 })).slice(0, batch * (batches + 1));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-gt-'));
const file = path.join(tmp, 'triplets.json');
fs.writeFileSync(file, JSON.stringify(triplets));
const bertBase = path.join(os.tmpdir(), 'prunekit-bench-bert-base-random');
if (!fs.existsSync(path.join(bertBase, 'model.safetensors'))) {
  const r = spawnSync(python, [path.join(root, 'tools/bench/make_random_bert.py'), bertBase, '--tokenizer-from', path.join(shared, 'models/mini-encoder')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model}); ${batches} batches of ${batch} triplets (+1 warm-up), max length 128, gradients of the MLP matrices`);
console.log('\n| model | prunekit micro-batch | prunekit triplets/s | PyTorch triplets/s | ratio | prunekit peak RSS MB | PyTorch peak RSS MB |');
console.log('|---|---|---|---|---|---|---|');
for (const [label, dir] of [['mini-encoder', path.join(shared, 'models/mini-encoder')], ['BERT-base-sized (random)', bertBase]]) {
  const theirs = spawnSync(python, [path.join(root, 'tools/bench/gradient_throughput.py'), dir, file, String(batch), String(batches)], { encoding: 'utf8' });
  if (theirs.status !== 0) {
    console.error(theirs.stderr);
    process.exit(1);
  }
  const b = JSON.parse(theirs.stdout.trim().split('\n').pop());
  for (const mb of microBatches) {
    const ours = spawnSync(process.execPath, [import.meta.filename, '--batches', String(batches), '--batch', String(batch), '--micro-batch', String(mb), '--only-node', `${dir}::${file}`], { encoding: 'utf8' });
    if (ours.status !== 0) {
      console.error(ours.stderr);
      process.exit(1);
    }
    const a = JSON.parse(ours.stdout.trim().split('\n').pop());
    console.log(`| ${label} | ${mb > 0 ? `${mb} sequences` : 'whole batch'} | ${a.triplets_per_s.toFixed(2)} | ${b.triplets_per_s.toFixed(2)} | ${(a.triplets_per_s / b.triplets_per_s).toFixed(2)} | ${a.peak_rss_mb.toFixed(0)} | ${b.peak_rss_mb.toFixed(0)} |`);
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
