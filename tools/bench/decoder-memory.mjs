#!/usr/bin/env node
// Memory at the papers' scale: a random-weight model of Qwen3-Embedding-0.6B's shape (596M parameters,
// bf16 shards converted to fp32 on load) encodes texts and computes GAPrune's domain and general
// statistics (InfoNCE gradients of the gate/up/down matrices, micro-batched, streamed into Fisher and
// mean-gradient accumulators); peak RSS and throughput, prunekit versus PyTorch (sentence-transformers,
// float32) on the same texts and triplets, each in its own process. Not a test: numbers for reports.
//
//   npx nx run @prunekit/scoring-fisher:build && node tools/bench/decoder-memory.mjs [--texts 32] [--batches 1] [--batch 8] [--micro-batch 8] [--layers 28]
//
// Texts and triplets: STS-B train sentence pairs from ../shared/datasets (query = sentence1, positive =
// sentence2, negative = another pair's sentence2), max length 64 tokens.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..', '..');
const shared = process.env.PRUNEKIT_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const python = path.join(root, 'tools', '.venv', 'bin', 'python');
const { values } = parseArgs({
  options: {
    texts: { type: 'string', default: '32' },
    batches: { type: 'string', default: '1' },
    batch: { type: 'string', default: '8' },
    'micro-batch': { type: 'string', default: '8' },
    layers: { type: 'string', default: '28' },
    'encode-batch': { type: 'string', default: '8' },
    'only-node': { type: 'string' },
  },
});

const rssMb = () => process.resourceUsage().maxRSS / 1024;

if (values['only-node']) {
  const [dir, file] = values['only-node'].split('::');
  const work = JSON.parse(fs.readFileSync(file, 'utf8'));
  const { initBackend, SentenceEncoder, prunableParameters, MLP_ONLY } = await import(path.join(root, 'packages/tensor-core/dist/index.js'));
  const { GradStatsAccumulator, tokenizeTriplets, disposeTripletInputs } = await import(path.join(root, 'packages/scoring-fisher/dist/index.js'));
  await initBackend();
  let t = performance.now();
  const enc = await SentenceEncoder.load(dir, { maxLength: 64 });
  const loadS = (performance.now() - t) / 1000;
  const loadRss = rssMb();
  await enc.encode(work.texts.slice(0, 4), { batchSize: work.encode_batch });
  t = performance.now();
  await enc.encode(work.texts, { batchSize: work.encode_batch });
  const encS = (performance.now() - t) / 1000;
  const encodeRss = rssMb();
  const params = prunableParameters(enc.model, MLP_ONLY).map((p) => p.name);
  const prompt = enc.prompts.query ?? '';
  t = performance.now();
  let n = 0;
  const kept = [];
  for (const split of ['domain', 'general']) {
    const acc = new GradStatsAccumulator(enc.model, params, enc.pooling.mode, { microBatch: work.micro_batch });
    for (const batch of work[split]) {
      const inputs = await tokenizeTriplets(enc.tokenizer, batch.map((x) => ({ ...x, query: prompt + x.query })), 64);
      acc.add(inputs);
      disposeTripletInputs(inputs);
      n += batch.length;
    }
    kept.push(acc.result({})); // both statistics stay in memory, as GAPrune scoring needs them together
  }
  const gradS = (performance.now() - t) / 1000;
  const total = enc.model.numParameters();
  console.log(JSON.stringify({
    load_s: loadS, load_rss_mb: loadRss, encode_texts_per_s: work.texts.length / encS, encode_rss_mb: encodeRss,
    gaprune_triplets_per_s: n / gradS, peak_rss_mb: rssMb(), params: total, mlp_params: params.reduce((a, p) => a + enc.model.params.get(p).size, 0), stats: kept.length,
  }));
  process.exit(0);
}

for (const p of [path.join(root, 'packages/scoring-fisher/dist/index.js'), python, path.join(shared, 'datasets/glue_stsb/train.jsonl')]) {
  if (!fs.existsSync(p)) {
    console.error(`decoder-memory: missing ${p} (build with \`npx nx run @prunekit/scoring-fisher:build\`; Python venv: bash tools/python/setup-venv.sh; ../shared datasets)`);
    process.exit(1);
  }
}
const layers = Number(values.layers);
const modelDir = path.join(os.tmpdir(), `prunekit-bench-qwen3-0.6b-random${layers === 28 ? '' : `-${layers}l`}`);
if (!fs.existsSync(path.join(modelDir, 'config.json'))) {
  const r = spawnSync(python, [path.join(root, 'tools/bench/make_random_qwen3.py'), modelDir, '--layers', String(layers)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}
const rows = fs.readFileSync(path.join(shared, 'datasets/glue_stsb/train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const batch = Number(values.batch);
const nb = Number(values.batches);
const triplets = (offset) => Array.from({ length: nb }, (_, b) => Array.from({ length: batch }, (_, i) => {
  const r = rows[offset + b * batch + i];
  return { query: r.sentence1, positive: r.sentence2, negative: rows[offset + b * batch + i + 500].sentence2 };
}));
const work = {
  texts: rows.slice(0, Number(values.texts)).map((r) => r.sentence1),
  encode_batch: Number(values['encode-batch']),
  micro_batch: Number(values['micro-batch']),
  domain: triplets(1000),
  general: triplets(2000),
};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-dm-'));
const file = path.join(tmp, 'work.json');
fs.writeFileSync(file, JSON.stringify(work));
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop());
};
const ours = run(process.execPath, [import.meta.filename, '--only-node', `${modelDir}::${file}`]);
const theirs = run(python, [path.join(root, 'tools/bench/decoder_memory.py'), modelDir, file]);
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model}), load average ${os.loadavg()[0].toFixed(1)}; ${(ours.params / 1e6).toFixed(1)}M parameters (${(ours.mlp_params / 1e6).toFixed(1)}M in gate/up/down)`);
console.log(`encode: ${work.texts.length} texts in batches of ${work.encode_batch}; GAPrune statistics: ${nb} domain + ${nb} general batches of ${batch} triplets, micro-batch ${work.micro_batch}, max length 64\n`);
console.log('| | prunekit | PyTorch | ratio |');
console.log('|---|---|---|---|');
const row = (label, key, digits = 2) => console.log(`| ${label} | ${ours[key].toFixed(digits)} | ${theirs[key].toFixed(digits)} | ${(ours[key] / theirs[key]).toFixed(2)} |`);
row('load (s)', 'load_s', 1);
row('RSS after load (MB)', 'load_rss_mb', 0);
row('encode (texts/s)', 'encode_texts_per_s');
row('RSS after encode (MB)', 'encode_rss_mb', 0);
row('GAPrune statistics (triplets/s)', 'gaprune_triplets_per_s', 3);
row('peak RSS (MB)', 'peak_rss_mb', 0);
console.log(`\nprunekit peak RSS per parameter: ${((ours.peak_rss_mb * 1048576) / ours.params).toFixed(1)} bytes (PyTorch ${((theirs.peak_rss_mb * 1048576) / theirs.params).toFixed(1)})`);
console.log(JSON.stringify({ prunekit: ours, pytorch: theirs }));
