#!/usr/bin/env node
// Candidate main-job data (issue 13 item 8) measured on the bundled tiny-encoder: is it unsaturated, and
// does dense beat random pruning? Slices of redistributable sets, built under --out (nothing is bundled):
//   finance: TAT-QA retrieval (CC BY 4.0) test split, a seeded sample of --queries queries, corpus = their
//            relevant documents + seeded other documents up to --docs;
//   general: STS Benchmark (scores CC BY-SA 4.0) test split, a seeded sample of --pairs pairs.
// Models: dense; structured random 50% (heads+neurons, seeds 0-2); structured magnitude 50%.
//
//   npx nx run-many -t build -p @prunekit/tensor-core @prunekit/scoring-fisher @prunekit/benchmarks-mteb
//   node tools/bench/demo-data-candidates.mjs [--queries 150] [--docs 300] [--pairs 300] [--out DIR]
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
    data: { type: 'string', default: '/work/shared/datasets' },
    out: { type: 'string', default: '/tmp/demo-data-candidates' },
    queries: { type: 'string', default: '150' },
    docs: { type: 'string', default: '300' },
    pairs: { type: 'string', default: '300' },
    sparsity: { type: 'string', default: '0.5' },
  },
});
await tc.initBackend();
const model = path.join(root, 'apps', 'cli', 'demo', 'tiny-encoder');
const rng = tc.createRng(7);
fs.rmSync(a.out, { recursive: true, force: true });
fs.mkdirSync(a.out, { recursive: true });

// finance slice
const src = path.join(a.data, 'tatqa_retrieval');
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '');
const qrels = lines(path.join(src, 'qrels', 'test.tsv')).slice(1).map((l) => l.split('\t'));
const qids = rng.fork('q').shuffle([...new Set(qrels.map((r) => r[0]))].sort()).slice(0, Number(a.queries));
const qset = new Set(qids);
const keptQrels = qrels.filter((r) => qset.has(r[0]));
const relevant = new Set(keptQrels.map((r) => r[1]));
const corpus = lines(path.join(src, 'corpus.jsonl')).map((l) => JSON.parse(l));
const others = rng.fork('d').shuffle(corpus.filter((d) => !relevant.has(String(d._id)))).slice(0, Math.max(0, Number(a.docs) - relevant.size));
const keepDocs = new Set([...relevant, ...others.map((d) => String(d._id))]);
const fin = path.join(a.out, 'tatqa-slice');
fs.mkdirSync(path.join(fin, 'qrels'), { recursive: true });
fs.writeFileSync(path.join(fin, 'corpus.jsonl'), corpus.filter((d) => keepDocs.has(String(d._id))).map((d) => JSON.stringify(d)).join('\n') + '\n');
fs.writeFileSync(path.join(fin, 'queries.jsonl'), lines(path.join(src, 'queries.jsonl')).filter((l) => qset.has(String(JSON.parse(l)._id))).join('\n') + '\n');
fs.writeFileSync(path.join(fin, 'qrels', 'test.tsv'), ['query-id\tcorpus-id\tscore', ...keptQrels.map((r) => r.join('\t'))].join('\n') + '\n');
// general slice
const gen = path.join(a.out, 'stsb-slice');
fs.mkdirSync(gen, { recursive: true });
fs.writeFileSync(path.join(gen, 'test.jsonl'), rng.fork('p').shuffle(lines(path.join(a.data, 'glue_stsb', 'test.jsonl'))).slice(0, Number(a.pairs)).join('\n') + '\n');
const tasks = [
  mteb.validateTask({ name: 'TATQA-slice', type: 'retrieval', domain: 'finance', description: 'TAT-QA test slice', data: fin, splits: ['test'] }, 'candidates'),
  mteb.validateTask({ name: 'STSB-slice', type: 'sts', domain: 'general', description: 'STS-B test slice', data: gen, splits: ['test'] }, 'candidates'),
];
console.log(`finance slice: ${qids.length} queries, ${keepDocs.size} documents (${relevant.size} relevant); general slice: ${a.pairs} STS-B pairs`);

async function evaluate(enc, name) {
  const encoder = { name, fingerprint: enc.fingerprint, encode: (texts) => enc.encode(texts) };
  const out = {};
  for (const t of tasks) out[t.name] = mteb.mainScore(await mteb.evaluateTask(encoder, t, { datasetsRoot: a.data, onWarning: () => {} }));
  return out;
}

const dense = await tc.SentenceEncoder.load(model);
const rows = [{ model: 'dense', ...(await evaluate(dense, 'dense')) }];
console.log(JSON.stringify(rows.at(-1)));
const structure = ['heads', 'neurons'];
const names = sf.structuredParameterNames(dense.model, structure);
const variants = [
  ...[0, 1, 2].map((s) => ({ name: `random-s${s}`, groups: sf.randomGroupScores(dense.model, s, structure) })),
  { name: 'magnitude', groups: sf.scoreGroups(dense.model, new Map(names.map((n) => { const t = dense.model.params.get(n); return [n, { shape: [...t.shape], scores: t.dataSync() }]; })), { structure, aggregate: 'l2' }) },
];
for (const v of variants) {
  const r = sf.pruneStructured(dense.model, v.groups, { sparsity: Number(a.sparsity), structure });
  const enc = new tc.SentenceEncoder(r.model, dense.tokenizer, dense.pooling, dense.maxLength, v.name);
  rows.push({ model: v.name, ...(await evaluate(enc, v.name)) });
  console.log(JSON.stringify(rows.at(-1)));
  r.model.dispose();
}
fs.writeFileSync(path.join(a.out, 'summary.json'), `${JSON.stringify({ queries: qids.length, docs: keepDocs.size, pairs: Number(a.pairs), sparsity: Number(a.sparsity), rows }, null, 2)}\n`);
