#!/usr/bin/env node
// Encode speed: prunekit (tfjs-node) versus PyTorch sentence-transformers on the same machine, in one
// run, on the same 2000 real sentences. Not a test: a benchmark whose numbers go in reports.
//
//   npx nx run @prunekit/tensor-core:build && node tools/bench/encode-speed.mjs [--sentences 2000] [--repeats 3]
//
// Models: ../shared/models/mini-encoder and a BERT-base-sized random model (generated into /tmp by
// tools/bench/make_random_bert.py). Sentences: the first N texts of glue_sst2/test.jsonl and
// banking77/test.jsonl alternately (real data read at run time from ../shared/datasets).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..', '..');
const shared = process.env.PRUNEKIT_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const python = path.join(root, 'tools', '.venv', 'bin', 'python');
const { values } = parseArgs({ options: { sentences: { type: 'string', default: '2000' }, repeats: { type: 'string', default: '3' }, 'batch-size': { type: 'string', default: '32' } } });
const n = Number(values.sentences);
const repeats = Number(values.repeats);
const batchSize = Number(values['batch-size']);

for (const [what, p] of [['../shared', shared], ['the Python venv (bash tools/python/setup-venv.sh)', python], ['the tensor-core build (npx nx run @prunekit/tensor-core:build)', path.join(root, 'packages/tensor-core/dist/index.js')]]) {
  if (!fs.existsSync(p)) {
    console.error(`encode-speed: missing ${what}: ${p}`);
    process.exit(1);
  }
}
const { initBackend, SentenceEncoder } = await import(path.join(root, 'packages/tensor-core/dist/index.js'));

function readTexts(file, field) {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)[field]);
}
const a = readTexts(path.join(shared, 'datasets/glue_sst2/test.jsonl'), 'text');
const b = readTexts(path.join(shared, 'datasets/banking77/test.jsonl'), 'text');
const sentences = [];
for (let i = 0; sentences.length < n; i++) {
  if (i < a.length) sentences.push(a[i]);
  if (i < b.length && sentences.length < n) sentences.push(b[i]);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-speed-'));
const sentencesFile = path.join(tmp, 'sentences.json');
fs.writeFileSync(sentencesFile, JSON.stringify(sentences));

const bertBase = path.join(os.tmpdir(), 'prunekit-bench-bert-base-random');
if (!fs.existsSync(path.join(bertBase, 'model.safetensors'))) {
  const r = spawnSync(python, [path.join(root, 'tools/bench/make_random_bert.py'), bertBase, '--tokenizer-from', path.join(shared, 'models/mini-encoder')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}

const backend = await initBackend();
console.log(`backend: ${backend.name} (TensorFlow ${backend.tensorflowVersion}); ${os.cpus().length} cores (${os.cpus()[0]?.model}); ${sentences.length} sentences, batch ${batchSize}, best of ${repeats}`);
const rows = [];
for (const [label, dir] of [['mini-encoder', path.join(shared, 'models/mini-encoder')], ['BERT-base-sized (random)', bertBase]]) {
  const enc = await SentenceEncoder.load(dir);
  await enc.encode(sentences.slice(0, 64), { batchSize });
  const times = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await enc.encode(sentences, { batchSize });
    times.push((performance.now() - t0) / 1000);
  }
  enc.dispose();
  const ours = sentences.length / Math.min(...times);
  const py = spawnSync(python, [path.join(root, 'tools/bench/encode_speed.py'), dir, sentencesFile, String(batchSize), String(repeats)], { encoding: 'utf8' });
  if (py.status !== 0) {
    console.error(py.stderr);
    process.exit(1);
  }
  const theirs = JSON.parse(py.stdout.trim().split('\n').pop());
  rows.push({ model: label, prunekit: ours, pytorch: theirs.sentences_per_s, ratio: ours / theirs.sentences_per_s, torchThreads: theirs.threads });
}
console.log('\n| model | prunekit sentences/s | PyTorch sentence-transformers sentences/s | ratio (prunekit / PyTorch) |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.model} | ${r.prunekit.toFixed(1)} | ${r.pytorch.toFixed(1)} | ${r.ratio.toFixed(2)} |`);
console.log(`\n(PyTorch used ${rows[0]?.torchThreads} threads)`);
if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
fs.rmSync(tmp, { recursive: true, force: true });
