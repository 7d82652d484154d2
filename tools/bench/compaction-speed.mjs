#!/usr/bin/env node
// Compaction speed: encode latency and throughput of compacted versus dense models, in one run. Not a
// test: a benchmark whose numbers go in reports.
//
//   npx nx run @prunekit/tensor-core:build && node tools/bench/compaction-speed.mjs [--fractions 0.2,0.4,0.6] [--repeats 3]
//
// For each model (../shared/models/mini-encoder and a BERT-base-sized random model generated into /tmp
// by tools/bench/make_random_bert.py) and each fraction f, every layer loses round(f * heads) whole heads
// (smallest attention-output norm) and as many FFN neurons (smallest |up row| * |down column|) as make
// f of the layer's attention + FFN parameters; compact() builds the smaller model. Measured: forward +
// mean pooling at sequence length 128, batch 1 (latency) and batch 32 (latency, and
// throughput in sequences/s). Dense and compacted models are measured in interleaved rounds and the
// best time of each is kept, so load from other processes on the machine hits every variant alike.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { magnitudeRemoval } from './removal.mjs';

const root = path.resolve(import.meta.dirname, '..', '..');
const shared = process.env.PRUNEKIT_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const python = path.join(root, 'tools', '.venv', 'bin', 'python');
const { values } = parseArgs({
  options: {
    fractions: { type: 'string', default: '0.2,0.4,0.6' },
    repeats: { type: 'string', default: '5' },
    'repeats-b1': { type: 'string', default: '10' },
    'seq-len': { type: 'string', default: '128' },
    models: { type: 'string', default: 'mini,base' },
  },
});
const fractions = values.fractions.split(',').map(Number);
const repeats = Number(values.repeats);
const repeatsB1 = Number(values['repeats-b1']);
const seqLen = Number(values['seq-len']);
const dist = path.join(root, 'packages/tensor-core/dist/index.js');
for (const [what, p] of [['../shared', shared], ['the tensor-core build (npx nx run @prunekit/tensor-core:build)', dist]]) {
  if (!fs.existsSync(p)) {
    console.error(`compaction-speed: missing ${what}: ${p}`);
    process.exit(1);
  }
}
const tc = await import(dist);
const tf = await import('@tensorflow/tfjs-core');

const models = [];
if (values.models.includes('mini')) models.push(['mini-encoder', path.join(shared, 'models/mini-encoder')]);
if (values.models.includes('base')) {
  const bertBase = path.join(os.tmpdir(), 'prunekit-bench-bert-base-random');
  if (!fs.existsSync(path.join(bertBase, 'model.safetensors'))) {
    if (!fs.existsSync(python)) {
      console.error(`compaction-speed: missing the Python venv (bash tools/python/setup-venv.sh): ${python}`);
      process.exit(1);
    }
    const r = spawnSync(python, [path.join(root, 'tools/bench/make_random_bert.py'), bertBase, '--tokenizer-from', path.join(shared, 'models/mini-encoder')], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(1);
  }
  models.push(['BERT-base-sized (random)', bertBase]);
}

function inputsFor(model, batch) {
  const vocab = model.config.vocabSize;
  const ids = Int32Array.from({ length: batch * seqLen }, (_, i) => (i % seqLen === 0 ? 2 : 5 + ((i * 7919) % (vocab - 10))));
  return {
    inputIds: tf.tensor2d(ids, [batch, seqLen], 'int32'),
    attentionMask: tf.ones([batch, seqLen], 'int32'),
    tokenTypeIds: tf.zeros([batch, seqLen], 'int32'),
  };
}

function encodeOnce(model, inputs) {
  const t0 = performance.now();
  tf.tidy(() => tc.pool(model.forward(inputs).lastHiddenState, inputs.attentionMask, 'mean').dataSync());
  return performance.now() - t0;
}

function best(xs) {
  return Math.min(...xs);
}

const backend = await tc.initBackend();
const started = performance.now();
console.log(`backend: ${backend.name} (TensorFlow ${backend.tensorflowVersion}); ${os.cpus().length} cores (${os.cpus()[0]?.model}); seq len ${seqLen}; ` +
  `dense and compacted models measured in interleaved rounds (best of ${repeats} at batch 32, of ${repeatsB1} at batch 1), so load from other processes hits all alike`);
const rows = [];
for (const [label, dir] of models) {
  const dense = tc.loadModel(dir);
  const b1 = inputsFor(dense, 1);
  const b32 = inputsFor(dense, 32);
  const denseParams = tc.layerLinearParameters(dense);
  const variants = [{ f: 0, model: dense }];
  for (const f of fractions) variants.push({ f, model: tc.compact(dense, tc.planFromLists(dense, magnitudeRemoval(tc, dense, f))) });
  for (const v of variants) {
    v.t1 = [];
    v.t32 = [];
    encodeOnce(v.model, b1);
    encodeOnce(v.model, b32);
  }
  for (let r = 0; r < Math.max(repeats, repeatsB1); r++) {
    for (const v of variants) {
      if (r < repeatsB1) v.t1.push(encodeOnce(v.model, b1));
      if (r < repeats) v.t32.push(encodeOnce(v.model, b32));
    }
    console.error(`  ${label}: round ${r + 1} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  const base = { l1: best(variants[0].t1), l32: best(variants[0].t32) };
  for (const v of variants) {
    const params = tc.layerLinearParameters(v.model);
    const l1 = best(v.t1);
    const l32 = best(v.t32);
    const s0 = v.model.config.layers[0];
    rows.push({ model: label, removed: 1 - params / denseParams, params, l1, l32, thr: (32 * 1000) / l32, r1: base.l1 / l1, r32: base.l32 / l32, shape: `${s0.numHeads}h/${s0.intermediateSize}` });
  }
  tf.dispose([...Object.values(b1), ...Object.values(b32)]);
  for (const v of variants) v.model.dispose();
}

console.log('\n| model | attn+FFN params removed | layer-0 shape (heads/FFN) | b1 latency ms | b1 speedup | b32 latency ms | b32 throughput seq/s | b32 speedup (= throughput ratio) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.model} | ${(100 * r.removed).toFixed(1)}% (${(r.params / 1e6).toFixed(2)}M left) | ${r.shape} | ${r.l1.toFixed(1)} | ${r.r1.toFixed(2)}x | ${r.l32.toFixed(0)} | ${r.thr.toFixed(1)} | ${r.r32.toFixed(2)}x |`);
}
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
