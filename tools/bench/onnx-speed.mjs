#!/usr/bin/env node
// Deployment speed: dense versus compacted models (25/50/70% of attention + FFN parameters removed)
// in tfjs-node, onnxruntime-node and PyTorch, batch 1 and 32, in one run. Not a test: a benchmark
// whose numbers go in reports.
//
//   npx nx run @prunekit/tensor-core:build && node tools/bench/onnx-speed.mjs [--fractions 0.25,0.5,0.7] [--models mini,base]
//
// Models: ../shared/models/mini-encoder and a BERT-base-sized random model (tools/bench/make_random_bert.py,
// generated into the temp folder once). Structure: whole heads and FFN neurons by magnitude group
// scores (tools/bench/removal.mjs), compacted by tensor-core's compact(). Each variant is exported with
// tensor-core's ONNX exporter and saved as a prunekit folder for PyTorch. Measured: forward + mean
// pooling at sequence length 128 (all tokens real), best of interleaved rounds per runtime, so load
// from other processes hits every variant alike. onnxruntime: graph optimisation 'all', 2 intra-op
// threads; PyTorch: 2 threads; tfjs-node: TensorFlow's default pool. Also reports the largest
// |difference| of each runtime's batch-1 embedding from tfjs's, parameters and file sizes.
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
    fractions: { type: 'string', default: '0.25,0.5,0.7' },
    repeats: { type: 'string', default: '3' },
    'repeats-b1': { type: 'string', default: '8' },
    'seq-len': { type: 'string', default: '128' },
    models: { type: 'string', default: 'mini,base' },
    threads: { type: 'string', default: '2' },
    'no-torch': { type: 'boolean', default: false },
  },
});
const fractions = values.fractions.split(',').map(Number);
const repeats = Number(values.repeats);
const repeatsB1 = Number(values['repeats-b1']);
const seqLen = Number(values['seq-len']);
const threads = Number(values.threads);
const dist = path.join(root, 'packages/tensor-core/dist/index.js');
for (const [what, p] of [['../shared', shared], ['the tensor-core build (npx nx run @prunekit/tensor-core:build)', dist], ['the Python venv (bash tools/python/setup-venv.sh)', python]]) {
  if (!fs.existsSync(p)) {
    console.error(`onnx-speed: missing ${what}: ${p}`);
    process.exit(1);
  }
}
const tc = await import(dist);
const tf = await import('@tensorflow/tfjs-core');
const ort = await import('onnxruntime-node');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-onnx-speed-'));
const models = [];
if (values.models.includes('mini')) models.push(['mini-encoder', path.join(shared, 'models/mini-encoder')]);
if (values.models.includes('base')) {
  const bertBase = path.join(os.tmpdir(), 'prunekit-bench-bert-base-random');
  if (!fs.existsSync(path.join(bertBase, 'model.safetensors'))) {
    const r = spawnSync(python, [path.join(root, 'tools/bench/make_random_bert.py'), bertBase, '--tokenizer-from', path.join(shared, 'models/mini-encoder')], { stdio: 'inherit' });
    if (r.status !== 0) process.exit(1);
  }
  models.push(['BERT-base-sized (random)', bertBase]);
}

const ms = (x) => (x === undefined ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratio = (x) => (x === undefined ? 'n/a' : `${x.toFixed(2)}x`);

function tokenIds(vocab, batch) {
  return Int32Array.from({ length: batch * seqLen }, (_, i) => (i % seqLen === 0 ? 2 : 5 + ((i * 7919) % (vocab - 10))));
}

function tfjsRunner(model, batch) {
  const inputs = {
    inputIds: tf.tensor2d(tokenIds(model.config.vocabSize, batch), [batch, seqLen], 'int32'),
    attentionMask: tf.ones([batch, seqLen], 'int32'),
    tokenTypeIds: tf.zeros([batch, seqLen], 'int32'),
  };
  return {
    run: () => Promise.resolve(tf.tidy(() => tc.pool(model.forward(inputs).lastHiddenState, inputs.attentionMask, 'mean').dataSync())),
    dispose: () => tf.dispose(Object.values(inputs)),
  };
}

function ortRunner(session, vocab, batch) {
  const t = (a) => new ort.Tensor('int64', BigInt64Array.from(a, (v) => BigInt(v)), [batch, seqLen]);
  const feeds = { input_ids: t(tokenIds(vocab, batch)), attention_mask: t(new Int32Array(batch * seqLen).fill(1)), token_type_ids: t(new Int32Array(batch * seqLen)) };
  return { run: async () => (await session.run(feeds, ['sentence_embedding'])).sentence_embedding.data, dispose: () => {} };
}

async function timeIt(runner) {
  const t0 = performance.now();
  await runner.run();
  return performance.now() - t0;
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function dirBytes(dir) {
  return fs.readdirSync(dir).filter((f) => f.startsWith('model.')).reduce((a, f) => a + fs.statSync(path.join(dir, f)).size, 0);
}

const backend = await tc.initBackend();
const started = performance.now();
const load = os.loadavg();
console.log(`onnx-speed: ${os.cpus().length} cores (${os.cpus()[0]?.model}); load average ${load.map((x) => x.toFixed(1)).join(' ')} at start; ` +
  `tfjs-node ${backend.name} (TensorFlow ${backend.tensorflowVersion}), onnxruntime-node ${ort.env.versions?.node ?? ''} (opt 'all', ${threads} intra-op threads), PyTorch ${threads} threads; ` +
  `seq len ${seqLen}; best of ${repeats} (batch 32) / ${repeatsB1} (batch 1) interleaved rounds`);
const rows = [];
for (const [label, dir] of models) {
  const dense = tc.loadModel(dir, { encoderOnly: true });
  const denseParams = tc.layerLinearParameters(dense);
  const variants = [{ f: 0, model: dense }];
  for (const f of fractions) variants.push({ f, model: tc.compact(dense, tc.planFromLists(dense, magnitudeRemoval(tc, dense, f))) });
  const pooling = { mode: 'mean', normalize: false };
  for (const [i, v] of variants.entries()) {
    v.key = `${label}#${i}`;
    v.onnxDir = path.join(work, `${path.basename(dir)}-${i}-onnx`);
    fs.mkdirSync(v.onnxDir);
    const { serialized } = tc.buildOnnxModel(v.model, pooling);
    fs.writeFileSync(path.join(v.onnxDir, 'model.onnx'), serialized.model);
    v.onnxBytes = serialized.model.byteLength;
    v.stDir = path.join(work, `${path.basename(dir)}-${i}`);
    await tc.saveCompacted(v.model, v.stDir);
    v.stBytes = dirBytes(v.stDir);
    v.session = await ort.InferenceSession.create(path.join(v.onnxDir, 'model.onnx'), { graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1 });
    v.runners = {
      tfjs: { b1: tfjsRunner(v.model, 1), b32: tfjsRunner(v.model, 32) },
      ort: { b1: ortRunner(v.session, v.model.config.vocabSize, 1), b32: ortRunner(v.session, v.model.config.vocabSize, 32) },
    };
    v.times = { tfjs: { b1: [], b32: [] }, ort: { b1: [], b32: [] } };
    const ref = await v.runners.tfjs.b1.run();
    v.tfjsEmbedding = ref;
    v.ortDiff = maxAbsDiff(await v.runners.ort.b1.run(), ref);
    await v.runners.tfjs.b32.run();
    await v.runners.ort.b32.run();
  }
  for (let r = 0; r < Math.max(repeats, repeatsB1); r++) {
    for (const v of variants) {
      for (const rt of ['tfjs', 'ort']) {
        if (r < repeatsB1) v.times[rt].b1.push(await timeIt(v.runners[rt].b1));
        if (r < repeats) v.times[rt].b32.push(await timeIt(v.runners[rt].b32));
      }
    }
    console.error(`  ${label}: round ${r + 1} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  let torch = {};
  if (!values['no-torch']) {
    const spec = path.join(work, 'torch-spec.json');
    const out = path.join(work, 'torch-out.json');
    fs.writeFileSync(spec, JSON.stringify({ seq_len: seqLen, repeats, repeats_b1: repeatsB1, threads, models: variants.map((v) => ({ key: v.key, dir: v.stDir })) }));
    console.error(`  ${label}: PyTorch (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    const r = spawnSync(python, [path.join(root, 'tools/bench/onnx_speed_torch.py'), '--spec', spec, '--out', out], { stdio: 'inherit' });
    // a failed PyTorch leg leaves its columns n/a; the Node measurements are still reported
    if (r.status !== 0) console.error(`onnx-speed: the PyTorch leg failed (${r.error?.message ?? `exit ${r.status}`}); its columns are n/a`);
    else torch = JSON.parse(fs.readFileSync(out, 'utf8'));
  }
  const best = (xs) => Math.min(...xs);
  const base = variants[0];
  for (const v of variants) {
    const params = tc.layerLinearParameters(v.model);
    const t = torch[v.key];
    const bt = torch[base.key];
    const row = {
      model: label,
      removed: 1 - params / denseParams,
      params,
      total: v.model.numParameters() - [...v.model.params.keys()].filter((k) => k.startsWith('pooler.')).reduce((a, k) => a + v.model.params.get(k).size, 0),
      shape: `${v.model.config.layers[0].numHeads}h/${v.model.config.layers[0].intermediateSize}`,
      onnxMB: v.onnxBytes / 1e6,
      stMB: v.stBytes / 1e6,
      ortDiff: v.ortDiff,
      torchDiff: t ? maxAbsDiff(t.embedding_b1, v.tfjsEmbedding) : NaN,
    };
    for (const rt of ['tfjs', 'ort']) {
      for (const b of ['b1', 'b32']) {
        row[`${rt}_${b}`] = best(v.times[rt][b]);
        row[`${rt}_${b}_x`] = best(base.times[rt][b]) / best(v.times[rt][b]);
      }
    }
    if (t) {
      row.torch_b1 = t.b1_ms;
      row.torch_b32 = t.b32_ms;
      row.torch_b1_x = bt.b1_ms / t.b1_ms;
      row.torch_b32_x = bt.b32_ms / t.b32_ms;
    }
    rows.push(row);
  }
  console.error(`  ${label}: done (${((performance.now() - started) / 1000).toFixed(0)} s); load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  printTable(rows);
  for (const v of variants) {
    for (const rt of Object.values(v.runners)) for (const r of Object.values(rt)) r.dispose();
    await v.session.release();
    if (v.model !== dense) v.model.dispose();
  }
  dense.dispose();
}

function printTable(list) {
  console.log('\nLatency in ms (speedup over dense of the same runtime); forward + mean pooling, seq len ' + seqLen);
  console.log('| model | attn+FFN removed | params (encoder, no pooler) | layer-0 heads/FFN | ONNX MB | safetensors MB | tfjs b1 | tfjs b32 | ORT b1 | ORT b32 | PyTorch b1 | PyTorch b32 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of list) {
    console.log(`| ${r.model} | ${(100 * r.removed).toFixed(1)}% | ${(r.total / 1e6).toFixed(2)}M | ${r.shape} | ${r.onnxMB.toFixed(1)} | ${r.stMB.toFixed(1)} | ` +
      `${ms(r.tfjs_b1)} (${ratio(r.tfjs_b1_x)}) | ${ms(r.tfjs_b32)} (${ratio(r.tfjs_b32_x)}) | ${ms(r.ort_b1)} (${ratio(r.ort_b1_x)}) | ${ms(r.ort_b32)} (${ratio(r.ort_b32_x)}) | ` +
      `${ms(r.torch_b1)} (${ratio(r.torch_b1_x)}) | ${ms(r.torch_b32)} (${ratio(r.torch_b32_x)}) |`);
  }
  console.log('\nmax |embedding difference| from tfjs at batch 1: ' + list.map((r) => `${r.model} ${(100 * r.removed).toFixed(0)}%: ORT ${r.ortDiff.toExponential(1)}, PyTorch ${Number.isNaN(r.torchDiff) ? 'n/a' : r.torchDiff.toExponential(1)}`).join('; '));
}
printTable(rows);
console.log(`\nload average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at end; total ${((performance.now() - started) / 1000).toFixed(0)} s`);
fs.rmSync(work, { recursive: true, force: true });
