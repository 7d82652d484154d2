#!/usr/bin/env node
// Structured pruning on mini-encoder: parameters, file size and finance / general scores of structured
// GAPrune (published DAI), gaprune-balanced (prunekit variant) and structured magnitude / Taylor / random,
// at one fraction of encoder parameters removed. A measurement script, not a test (numbers go in READMEs).
//
//   npx nx run-many -t build -p @prunekit/tensor-core @prunekit/scoring-fisher @prunekit/benchmarks-mteb
//   node tools/bench/structured-measure.mjs [--sparsity 0.5] [--domain-size 256] [--general-size 256]
//        [--stats-batches 16] [--methods gaprune,gaprune-balanced,magnitude,taylor,random] [--out DIR]
//        [--retrain-steps 0] [--distill cosine]
//
// Data (never a split that is scored): finance domain triplets from TAT-QA retrieval *dev* qrels with BM25
// negatives; general triplets from STS-B *train* pairs scored ≥ 4 with BM25 negatives. Scored: TATQARetrieval
// (test, nDCG@10) and STSBenchmark (test, Spearman). Also Spearman(score, |W|) per weight over the FFN
// matrices for the published DAI and for gaprune-balanced.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..', '..');
const imp = (pkg) => import(path.join(root, 'packages', pkg, 'dist', 'index.js'));
const tc = await imp('tensor-core');
const sf = await imp('scoring-fisher');
const mteb = await imp('benchmarks-mteb');

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: path.resolve(root, '..', '..', 'shared', 'models', 'mini-encoder') },
    data: { type: 'string', default: '/work/shared/datasets' },
    out: { type: 'string', default: '/tmp/structured-measure' },
    sparsity: { type: 'string', default: '0.5' },
    'domain-size': { type: 'string', default: '256' },
    'general-size': { type: 'string', default: '256' },
    'stats-batches': { type: 'string', default: '16' },
    methods: { type: 'string', default: 'gaprune,gaprune-balanced,magnitude,taylor,random' },
    structure: { type: 'string', default: 'heads,neurons' },
    'retrain-steps': { type: 'string', default: '0' },
    distill: { type: 'string' },
    tasks: { type: 'string', default: 'TATQARetrieval,STSBenchmark' },
  },
});
const model = fs.existsSync(a.model) ? a.model : '/work/shared/models/mini-encoder';
await tc.initBackend();
fs.mkdirSync(a.out, { recursive: true });
const seed = 0;
const tatqa = await sf.readBeir(path.join(a.data, 'tatqa_retrieval'), 'dev');
const domain = await sf.tripletsFromRetrieval(tatqa, { negatives: 'bm25', seed, limit: Number(a['domain-size']) });
const stsPairs = mteb.readJsonl(path.join(a.data, 'glue_stsb', 'train.jsonl')).map((r) => r.row).filter((r) => Number(r.score) >= 4).map((r) => ({ a: r.sentence1, b: r.sentence2 }));
const general = tc.createRng(seed).fork('general').shuffle(sf.tripletsFromPairs(stsPairs, { negatives: 'bm25', seed })).slice(0, Number(a['general-size']));
console.log(`triplets: domain ${domain.length} (TAT-QA dev), general ${general.length} (STS-B train ≥ 4)`);

const registry = mteb.TaskRegistry.builtin();
const tasks = a.tasks.split(',').map((n) => registry.getTask(n));
async function evaluate(dir, name) {
  const enc = await tc.SentenceEncoder.load(dir);
  try {
    const encoder = { name, fingerprint: enc.fingerprint, encode: (texts) => enc.encode(texts) };
    const out = {};
    for (const t of tasks) {
      const r = await mteb.evaluateTask(encoder, t, { datasetsRoot: a.data, cacheDir: path.join(a.out, 'cache'), onWarning: () => {} });
      out[t.name] = mteb.mainScore(r);
    }
    let params = 0;
    for (const t of enc.model.params.values()) params += t.size;
    return { params, encoderParams: tc.layerLinearParameters(enc.model), fileBytes: fs.statSync(path.join(dir, 'model.safetensors')).size, scores: out };
  } finally {
    enc.dispose();
  }
}

const rows = [];
const t0 = performance.now();
rows.push({ method: 'dense', ...(await evaluate(model, 'dense')) });
console.log(JSON.stringify(rows.at(-1)));
const structure = sf.parseStructure(a.structure);
const workDir = path.join(a.out, 'work');
for (const method of a.methods.split(',')) {
  const out = path.join(a.out, `${method}-${a.sparsity}${Number(a['retrain-steps']) > 0 ? `-rt${a['retrain-steps']}${a.distill ? `-${a.distill}` : ''}` : ''}`);
  const t1 = performance.now();
  const r = await sf.runStructuredPrune({
    model, out, method, sparsity: Number(a.sparsity), structure, domain, general, batchSize: 16, maxBatches: Number(a['stats-batches']), seed, workDir,
    retrainSteps: Number(a['retrain-steps']), ...(a.distill ? { distill: a.distill } : {}),
  });
  const ev = await evaluate(out, method);
  rows.push({ method, achievedSparsity: r.allocation.achievedSparsity, removedHeads: r.allocation.removed.filter((g) => g.kind === 'head').length, removedNeurons: r.allocation.removed.filter((g) => g.kind === 'ffn_neuron').length, seconds: (performance.now() - t1) / 1000, ...ev });
  console.log(JSON.stringify(rows.at(-1)));
}

// Spearman(score, |W|) over the FFN matrices, published DAI vs gaprune-balanced (statistics from the cache)
const enc = await tc.SentenceEncoder.load(model);
const ffn = sf.prunableWeights(enc, tc.parsePolicy('mlp'));
const statsFiles = fs.readdirSync(workDir).filter((f) => f.endsWith('.safetensors') && !f.includes('partial'));
const load = (label) => sf.loadGradStats(path.join(workDir, statsFiles.find((f) => f.startsWith(label))));
const corr = {};
if (statsFiles.some((f) => f.startsWith('domain')) && statsFiles.some((f) => f.startsWith('general'))) {
  const d = load('domain');
  const g = load('general');
  const flat = (m) => Float32Array.from([...m.values()].flatMap((x) => [...x.scores]));
  const mag = Float32Array.from([...ffn.values()].flatMap((w) => [...w.data].map(Math.abs)));
  corr.published = sf.spearman(flat(sf.daiScores(ffn, d, g)), mag);
  corr.publishedSamples = sf.spearman(flat(sf.daiScores(ffn, d, g, { fisherNormalisation: 'samples' })), mag);
  corr.balanced = sf.spearman(flat(sf.balancedDaiScores(ffn, d, g)), mag);
}
enc.dispose();
const summary = { model, sparsity: Number(a.sparsity), structure, stats: { domain: domain.length, general: general.length, batches: Number(a['stats-batches']) }, spearmanVsAbsW: corr, rows, seconds: (performance.now() - t0) / 1000 };
fs.writeFileSync(path.join(a.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(JSON.stringify(corr));
console.log('method            params    file MB  enc.removed  ' + tasks.map((t) => t.name.padEnd(16)).join(''));
for (const r of rows) console.log(`${r.method.padEnd(17)} ${String(r.params).padStart(8)}  ${(r.fileBytes / 1e6).toFixed(2).padStart(7)}  ${r.achievedSparsity === undefined ? '      -' : (r.achievedSparsity * 100).toFixed(2).padStart(6) + '%'}     ${tasks.map((t) => r.scores[t.name].toFixed(4).padEnd(16)).join('')}`);
