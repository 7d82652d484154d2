import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readResults, validateTask } from '@prunekit/benchmarks-mteb';
import { memoryIo } from '@prunekit/cli-support';
import { readTriplets, runPrune } from '@prunekit/scoring-fisher';
import { MaskSet, readManifest, readSafetensors } from '@prunekit/tensor-core';
import { workspaceRoot } from '../../../../tools/test-support/shared.js';
import { run } from '../run.js';
import { SuiteRegistry } from './registry.js';
import { QUICK_PRESET, makeGapruneKind, presetVariants, variantName, type GaprunePreset } from './gaprune.js';
import {
  CHEMLIT_EVAL_TASK, chemistryDomainTriplets, financeDomainTriplets, generalTriplets, seededSample, splitBudget, splitChemlit,
  subsampleRetrievalTask, writeTriplets,
} from './gaprune-data.js';

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}
const qrels = (pairs: [string, string][]): string => `query-id\tcorpus-id\tscore\n${pairs.map(([q, d]) => `${q}\t${d}\t1`).join('\n')}\n`;

const WORDS = ['revenue', 'margin', 'debt', 'equity', 'cash', 'lease', 'tax', 'asset', 'income', 'cost', 'share', 'bond'];

/** A datasets root shaped like ../shared/datasets, a few lines per file. Test queries say "TEST", dev "DEV". */
function writeSyntheticGapruneData(root: string): void {
  const docs = Array.from({ length: 16 }, (_, i) => ({ _id: `d${i}`, title: '', text: `${WORDS[i % 12]} ${WORDS[(i + 5) % 12]} table row ${i}` }));
  write(path.join(root, 'tatqa_retrieval', 'corpus.jsonl'), jsonl(docs));
  const queries = [
    ...Array.from({ length: 8 }, (_, i) => ({ _id: `qd${i}`, text: `DEV what is the ${WORDS[i]} in row ${i}` })),
    ...Array.from({ length: 6 }, (_, i) => ({ _id: `qt${i}`, text: `TEST how much ${WORDS[i + 6]} in row ${i + 8}` })),
  ];
  write(path.join(root, 'tatqa_retrieval', 'queries.jsonl'), jsonl(queries));
  write(path.join(root, 'tatqa_retrieval', 'qrels', 'dev.tsv'), qrels(Array.from({ length: 8 }, (_, i) => [`qd${i}`, `d${i}`])));
  write(path.join(root, 'tatqa_retrieval', 'qrels', 'test.tsv'), qrels(Array.from({ length: 6 }, (_, i) => [`qt${i}`, `d${i + 8}`])));
  const intents = ['card_arrival', 'top_up', 'exchange_rate'];
  write(path.join(root, 'banking77', 'train.jsonl'), jsonl(Array.from({ length: 18 }, (_, i) => ({ text: `${intents[i % 3]!.replace('_', ' ')} question ${i} ${WORDS[i % 12]}`, label: intents[i % 3] }))));
  write(path.join(root, 'banking77', 'test.jsonl'), jsonl([{ text: 'TEST card', label: 'card_arrival' }, { text: 'TEST top up', label: 'top_up' }]));
  write(path.join(root, 'glue_stsb', 'train.jsonl'), jsonl(Array.from({ length: 10 }, (_, i) => ({ sentence1: `sts a ${i} ${WORDS[i]}`, sentence2: `sts b ${i} ${WORDS[i]}`, score: i % 2 === 0 ? 4.2 : 1.5 }))));
  write(path.join(root, 'glue_stsb', 'test.jsonl'), jsonl(Array.from({ length: 6 }, (_, i) => ({ sentence1: `TEST ${WORDS[i]} rises`, sentence2: `TEST ${WORDS[(i * 5) % 12]} rises`, score: i }))));
  write(path.join(root, 'glue_mrpc', 'train.jsonl'), jsonl(Array.from({ length: 10 }, (_, i) => ({ sentence1: `mrpc a ${i} ${WORDS[i]}`, sentence2: `mrpc b ${i} ${WORDS[i]}`, label: i % 2 }))));
  write(path.join(root, 'glue_rte', 'train.jsonl'), jsonl(Array.from({ length: 10 }, (_, i) => ({ sentence1: `rte premise ${i} ${WORDS[i]}`, sentence2: `rte hypothesis ${i}`, label: i < 4 ? 1 : 0 }))));
  write(path.join(root, 'chemlit_qa_retrieval', 'corpus.jsonl'), jsonl(Array.from({ length: 10 }, (_, i) => ({ _id: `c${i}`, title: '', text: `catalyst ${i} polymer ${WORDS[i]}` }))));
  write(path.join(root, 'chemlit_qa_retrieval', 'queries.jsonl'), jsonl(Array.from({ length: 10 }, (_, i) => ({ _id: `q${i}`, text: `which catalyst ${i}` }))));
  write(path.join(root, 'chemlit_qa_retrieval', 'qrels', 'test.tsv'), qrels(Array.from({ length: 10 }, (_, i) => [`q${i}`, `c${i}`])));
  write(path.join(root, 'chemprot', 'train.jsonl'), jsonl(Array.from({ length: 12 }, (_, i) => ({ text: `<< protein ${i} >> binds [[ drug ${WORDS[i]} ]]`, label: i % 2 ? 'INHIBITOR' : 'AGONIST' }))));
}

function tmpRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-gaprune-data-'));
  writeSyntheticGapruneData(root);
  return root;
}

describe('gaprune data preparation (synthetic shared-datasets layout)', () => {
  it('seededSample and splitBudget: deterministic, capped, as equal as the sources allow', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    expect(seededSample(items, 5, 3, 'x')).toEqual(seededSample(items, 5, 3, 'x'));
    expect(seededSample(items, 5, 3, 'x')).not.toEqual(seededSample(items, 5, 4, 'x'));
    expect(seededSample(items, 50, 3, 'x').sort((a, b) => a - b)).toEqual(items);
    expect(splitBudget(9, [100, 100, 100])).toEqual([3, 3, 3]);
    expect(splitBudget(9, [1, 100, 100])).toEqual([1, 4, 4]);
    expect(splitBudget(10, [2, 3, 1])).toEqual([2, 3, 1]);
  });

  it('finance triplets: TAT-QA dev qrels (never test) plus same-intent Banking77 train pairs; identical across runs', async () => {
    const root = tmpRoot();
    const a = await financeDomainTriplets(root, { size: 10, pairShare: 0.3, seed: 0 });
    expect(a.triplets).toHaveLength(10);
    expect(a.counts).toEqual({ 'tatqa_retrieval dev': 7, 'banking77 train (same-intent pairs)': 3 });
    expect(a.available).toEqual({ 'tatqa_retrieval dev': 8, 'banking77 train (same-intent pairs)': 9 });
    const texts = a.triplets.flatMap((t) => [t.query, t.positive, t.negative ?? '']);
    expect(texts.some((t) => t.includes('TEST'))).toBe(false);
    // dev positives are the dev-relevant documents d0..d7
    const dev = a.triplets.filter((t) => t.query.startsWith('DEV'));
    expect(dev).toHaveLength(7);
    for (const t of dev) {
      const row = Number(/row (\d+)$/.exec(t.query)![1]);
      expect(t.positive).toBe(`${WORDS[row % 12]} ${WORDS[(row + 5) % 12]} table row ${row}`);
      expect(t.negative).toBeDefined();
      expect(t.negative).not.toBe(t.positive);
    }
    const intent = (s: string): string => s.split(' question')[0]!;
    for (const t of a.triplets.filter((x) => x.query.includes(' question '))) {
      expect(intent(t.positive)).toBe(intent(t.query));
      expect(intent(t.negative!)).not.toBe(intent(t.query));
    }
    const b = await financeDomainTriplets(root, { size: 10, pairShare: 0.3, seed: 0 });
    expect(b).toEqual(a);
    const c = await financeDomainTriplets(root, { size: 10, pairShare: 0.3, seed: 1 });
    expect(c.triplets).not.toEqual(a.triplets);
    const file = path.join(root, 'out', 'finance.jsonl');
    writeTriplets(file, a.triplets);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(a.triplets);
  });

  it('general triplets: STS-B ≥ 4, MRPC label 1, RTE label 1 (entailment), equal shares, seeded', () => {
    const root = tmpRoot();
    const g = generalTriplets(root, { size: 12, seed: 0 });
    expect(g.available).toEqual({ 'glue_stsb train (score ≥ 4)': 5, 'glue_mrpc train (paraphrases)': 5, 'glue_rte train (entailments)': 4 });
    expect(g.counts).toEqual({ 'glue_stsb train (score ≥ 4)': 4, 'glue_mrpc train (paraphrases)': 4, 'glue_rte train (entailments)': 4 });
    for (const t of g.triplets) {
      const i = Number(/ (\d+) /.exec(t.query)![1]);
      if (t.query.startsWith('sts')) expect(i % 2).toBe(0);
      if (t.query.startsWith('mrpc')) expect(i % 2).toBe(1);
      if (t.query.startsWith('rte')) expect(i).toBeLessThan(4);
      expect(t.negative?.split(' ')[0]).toBe(t.query.split(' ')[0]); // negatives from the same source
      expect(t.negative).not.toBe(t.positive);
    }
    expect(generalTriplets(root, { size: 12, seed: 0 })).toEqual(g);
  });

  it('chemistry: ChemLit-QA queries split in halves; triplets only from one, the other a derived BEIR folder', async () => {
    const root = tmpRoot();
    const dir = path.join(root, 'out', 'chemlit-eval');
    const s = splitChemlit(root, dir, 0);
    expect(s.tripletQueries).toHaveLength(5);
    expect(s.evalQueries).toHaveLength(5);
    expect([...s.tripletQueries, ...s.evalQueries].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `q${i}`).sort());
    expect(splitChemlit(root, dir, 0)).toEqual(s);
    expect(s.task).toMatchObject({ name: CHEMLIT_EVAL_TASK, type: 'retrieval', domain: 'chemistry', data: path.resolve(dir), splits: ['test'] });
    const evalQrels = fs.readFileSync(path.join(dir, 'qrels', 'test.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[0]);
    expect(evalQrels.sort()).toEqual(s.evalQueries);
    expect(fs.readFileSync(path.join(dir, 'queries.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
    expect(fs.readFileSync(path.join(dir, 'corpus.jsonl'), 'utf8').trim().split('\n')).toHaveLength(10);
    const t = await chemistryDomainTriplets(root, s, { size: 8, pairShare: 0.25, seed: 0 });
    expect(t.counts).toEqual({ 'chemlit_qa_retrieval (triplet half of test queries)': 5, 'chemprot train (same-relation pairs)': 3 });
    const evalTexts = new Set(s.evalQueries.map((q) => `which catalyst ${q.slice(1)}`));
    for (const x of t.triplets) expect(evalTexts.has(x.query)).toBe(false);
  });

  it('subsampleRetrievalTask keeps every relevant document and a seeded sample of the rest', () => {
    const root = tmpRoot();
    const task = validateTask({ name: 'Fin', type: 'retrieval', domain: 'finance', data: 'tatqa_retrieval', splits: ['test'] });
    const a = subsampleRetrievalTask(task, root, path.join(root, 'sub'), 10, 0);
    expect(a.task.name).toBe('Fin-sub10');
    expect(a.note).toMatch(/^subsampled: Fin-sub10 searches 10 of 16 Fin documents \(all 6 relevant/);
    const ids = fs.readFileSync(path.join(root, 'sub', 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { _id: string })._id);
    expect(ids).toHaveLength(10);
    for (let i = 8; i < 14; i++) expect(ids).toContain(`d${i}`);
    const again = subsampleRetrievalTask(task, root, path.join(root, 'sub2'), 10, 0);
    expect(fs.readFileSync(path.join(root, 'sub2', 'corpus.jsonl'), 'utf8')).toBe(fs.readFileSync(path.join(root, 'sub', 'corpus.jsonl'), 'utf8'));
    expect(again.task.data).toBe(path.resolve(root, 'sub2'));
    expect(subsampleRetrievalTask(task, root, path.join(root, 'sub3'), 100, 0).task).toBe(task);
  });
});

const TINY: GaprunePreset = {
  ...QUICK_PRESET,
  name: 'tiny',
  sparsity: 0.5,
  sweep: [0.3, 0.5],
  sweepMethods: ['magnitude', 'gaprune'],
  baselines: ['magnitude', 'random', 'fisher'],
  randomSeeds: [0, 1],
  retrainSeeds: [0],
  retrainSteps: 2,
  statsBatches: 2,
  batchSize: 4,
  domainSize: 10,
  generalSize: 9,
  pairShare: 0.3,
  domainTasks: { finance: ['ToyFinRetrieval'], chemistry: [CHEMLIT_EVAL_TASK] },
  generalTasks: ['ToySTS'],
  quickTasks: [],
  corpusCaps: { ToyFinRetrieval: 12 },
};

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);

describe('gaprune suite kind: a miniature run (tiny-encoder, synthetic data, 2 tasks)', () => {
  const root = tmpRoot();
  const tasksDir = path.join(root, 'tasks');
  write(path.join(tasksDir, 'toy.json'), JSON.stringify([
    { name: 'ToyFinRetrieval', type: 'retrieval', domain: 'finance', data: 'tatqa_retrieval', splits: ['test'], options: { kValues: [1, 3, 10] } },
    { name: 'ToySTS', type: 'sts', domain: 'general', data: 'glue_stsb', splits: ['test'] },
  ]));
  const out = path.join(root, 'bench');
  const io = memoryIo();
  const model = path.join(workspaceRoot, 'apps', 'cli', 'demo', 'tiny-encoder');
  const suites = new SuiteRegistry().register(makeGapruneKind({ presets: { default: TINY, quick: TINY } }));
  const status = run(['run', '--suite', 'gaprune', '--quick', '--models', model, '--data-root', root, '--tasks-dir', tasksDir, '--out', out], { io, suites });
  const names = presetVariants(TINY).map(variantName);

  it('derives every pruned model once through the method registry, as artifacts with masks at the asked sparsity, and the retrained one keeps them', async () => {
    expect(await status).toBe(0);
    expect(names).toEqual(['dense', 'gaprune-50', 'magnitude-50', 'random-50-s0', 'random-50-s1', 'fisher-50', 'gaprune-gamma0-50', 'gaprune-rt2-50-s0', 'magnitude-30', 'gaprune-30']);
    // the ablation is GAPrune with γ = 0, recorded in its manifest's options
    const ablation = readManifest(path.join(out, 'models', 'tiny-encoder', 'gaprune-gamma0-50'));
    expect(ablation.method).toBe('gaprune');
    expect(ablation.options.gamma).toBe(0);
    expect(readManifest(path.join(out, 'models', 'tiny-encoder', 'random-50-s1')).options.seed).toBe(1);
    for (const n of names.slice(1)) {
      const dir = path.join(out, 'models', 'tiny-encoder', n);
      expect(fs.existsSync(path.join(dir, 'config.json')), n).toBe(true);
      const manifest = readManifest(dir);
      expect(manifest.method, n).toBe(n.startsWith('gaprune-rt') ? 'retrain' : n.replace(/-\d+(-s\d+)?$/, '').replace('gaprune-gamma0', 'gaprune'));
      const masks = MaskSet.load(path.join(dir, manifest.files.masks!)).masks;
      expect(masks.stats().sparsity, n).toBeCloseTo(n.includes('-30') ? 0.3 : 0.5, 3);
      expect(manifest.sparsity?.total, n).toBeCloseTo(n.includes('-30') ? 0.3 : 0.5, 3);
      if (!n.startsWith('gaprune-rt')) expect(manifest.options.targets, n).toBe('mlp');
      expect(masks.names().every((m) => /intermediate|output\.dense/.test(m) && !m.includes('attention'))).toBe(true);
    }
    const gm = MaskSet.load(path.join(out, 'models', 'tiny-encoder', 'gaprune-50', 'prunekit', 'masks.safetensors')).masks;
    const rdir = path.join(out, 'models', 'tiny-encoder', 'gaprune-rt2-50-s0');
    const rm = MaskSet.load(path.join(rdir, 'prunekit', 'masks.safetensors')).masks;
    const name = gm.names()[0]!;
    expect(rm.masks.get(name)!.data).toEqual(gm.masks.get(name)!.data);
    // the retrained artifact says what it was made from (lineage) and keeps its losses
    const retrain = readManifest(rdir);
    expect(retrain.options).toMatchObject({ steps: 2, seed: 0, batchSize: 4 });
    expect((retrain.metrics as { losses: number[] }).losses).toHaveLength(2);
    expect(retrain.lineage[0]).toMatchObject({ method: 'gaprune', path: path.join(out, 'models', 'tiny-encoder', 'gaprune-50') });
    // pruned weights stay zero after retraining, and retraining changed the kept ones
    const w = readSafetensors(path.join(rdir, 'model.safetensors')).tensors.get(name)!.data as Float32Array;
    const w0 = readSafetensors(path.join(out, 'models', 'tiny-encoder', 'gaprune-50', 'model.safetensors')).tensors.get(name)!.data as Float32Array;
    const m = gm.masks.get(name)!.data;
    let changed = 0;
    for (let i = 0; i < w.length; i++) {
      if (m[i] === 0) expect(Math.abs(w[i]!)).toBe(0);
      else if (w[i] !== w0[i]) changed++;
    }
    expect(changed).toBeGreaterThan(0);
    // statistics were computed once (domain, general) and reused by every method
    expect(fs.readdirSync(path.join(out, 'work', 'tiny-encoder')).filter((f) => f.endsWith('.safetensors') && !f.includes('partial'))).toHaveLength(2);
    expect(fs.existsSync(path.join(out, 'data', 'finance-triplets.jsonl'))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'data', 'general-triplets.jsonl'), 'utf8').trim().split('\n')).toHaveLength(9);
  });

  it('the registry path gives the weights scoring-fisher\'s runPrune (the suite\'s path before the registry) gives', async () => {
    await status;
    const dir = path.join(out, 'models', 'tiny-encoder', 'gaprune-50');
    const direct = path.join(root, 'direct-gaprune-50');
    await runPrune({
      model, out: direct, method: 'gaprune', sparsity: TINY.sparsity, targets: TINY.targets,
      domain: await readTriplets(path.join(out, 'data', 'finance-triplets.jsonl')), general: await readTriplets(path.join(out, 'data', 'general-triplets.jsonl')),
      batchSize: TINY.batchSize, maxBatches: TINY.statsBatches, workDir: path.join(root, 'direct-work'),
    });
    const a = readSafetensors(path.join(dir, 'model.safetensors')).tensors;
    const b = readSafetensors(path.join(direct, 'model.safetensors')).tensors;
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    let differing = 0;
    for (const [k, t] of a) {
      const x = t.data as Float32Array;
      const y = b.get(k)!.data as Float32Array;
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) differing++; // === : a pruned −0.0 there is +0.0 here
    }
    expect(differing).toBe(0);
  }, 120_000);

  it('names each model in the results per method, sparsity and seed', async () => {
    await status;
    const results = readResults(path.join(out, 'results'));
    expect([...new Set(results.map((r) => r.model_name))].sort()).toEqual(names.map((n) => `tiny-encoder/${n}`).sort());
    expect([...new Set(results.map((r) => r.task_name))].sort()).toEqual(['ToyFinRetrieval-sub12', 'ToySTS']);
    // dense is the model as given; pruned models have their own fingerprints
    expect(new Set(results.map((r) => r.model_revision)).size).toBe(names.length);
  });

  it('report: notes state the data, statistics, reductions and DAI diagnostics; the table, chart and verdict follow', async () => {
    await status;
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^- preset tiny \(--quick\): 10 models per base model: dense, gaprune-50, .*gaprune-gamma0-50.*targets = mlp/m);
    expect(md).toMatch(/^- statistics: 2 batches of 4 triplets per data set/m);
    expect(md).toMatch(/^- data \(seeded subsamples, seed 0; BM25 hard negatives\): finance triplets 10 \(tatqa_retrieval dev: 7 of 8; banking77 train \(same-intent pairs\): 3 of 9\); general triplets 9 /m);
    expect(md).toMatch(/^- splits: finance triplets come from TAT-QA \*\*dev\*\* qrels/m);
    expect(md).toMatch(/^- subsampled: ToyFinRetrieval-sub12 searches 12 of 16 ToyFinRetrieval documents/m);
    expect(md).toMatch(/^- quick: tasks ToyFinRetrieval, ToySTS instead of TATQARetrieval, FinancialPhraseBankClassification, Banking77Classification, STSBenchmark, SST2Classification, MRPCPairClassification, SciFact; .*2 retraining steps instead of 100; 2 statistics batches of 4 instead of 32 of 16/m);
    expect(md).toMatch(/^- DAI diagnostics \(tiny-encoder\/gaprune-50, tiny-encoder\): Spearman\(DAI, \|W\|\) = [\d.-]+ over \d+ sampled weights; mean terms over layers: F_D·\|W\| /m);
    expect(md).toMatch(/^- tiny-encoder\/gaprune-rt2-50-s0: retraining loss [\d.]+ → [\d.]+ over 2 steps/m);
    expect(md).toContain('## GAPrune vs baselines: tiny-encoder');
    expect(md).toContain('| method | sparsity | seeds | finance mean | % of dense | general mean | % of dense |');
    expect(md).toMatch(/^\| dense \| 0% \| 1 \| -?[\d.]+ \| 100\.0% \| -?[\d.]+ \| 100\.0% \|$/m);
    expect(md).toMatch(/^\| random \| 50% \| 2 \| -?[\d.]+ ± [\d.]+ \| -?[\d.]+% \| -?[\d.]+ ± [\d.]+ \| -?[\d.]+% \|$/m);
    expect(md).toMatch(/^\| gaprune-rt2 \| 50% \| 1 \| /m);
    expect(md).toMatch(/^\| magnitude \| 30% \| 1 \| /m);
    expect(md).toMatch(/^Paper claims on tiny-encoder \(finance suite\): GAPrune one-shot at 50% within 2\.5% of dense \(finance mean\): (HELD|DID NOT HOLD) — .* GAPrune one-shot at 50% above all baselines \(finance mean\): (HELD|DID NOT HOLD) — gaprune -?[\d.]+; magnitude -?[\d.]+, random -?[\d.]+, fisher -?[\d.]+.* GAPrune \+ retraining at 50% above dense \(finance mean\): (HELD|DID NOT HOLD) — /m);
    expect(md).toMatch(/^\| gaprune-gamma0 \| 50% \| 1 \| /m);
    expect(md).toMatch(/^Ablation gaprune-gamma0, GAPrune with γ = 0 \(DAI without the √\|W\| term; the paper uses γ = 0\.5\), not one of the paper's claims: finance mean -?[\d.]+ = -?[\d.]+% of dense, general -?[\d.]+ = -?[\d.]+% of dense; (above all 3 baselines|below .*) at 50%\.$/m);
    // the ablation is not counted among the baselines of the paper's claim
    expect(md).not.toMatch(/above all baselines \(finance mean\): [^.]*gaprune-gamma0/);
    expect(md).toContain('```vega-lite');
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>GAPrune vs baselines: tiny-encoder</h2>');
    expect(html).toContain('<th class="num">finance mean</th>');
    // the three result charts, then the section's chart
    expect(html).toContain('<h3>Mean score versus sparsity: tiny-encoder</h3><div id="chart-3">');
    expect(io.stdout).toMatch(/20 results, 10 models, wall time/);
  });

  it.skipIf(!haveChromium)('report.html draws the score-versus-sparsity chart in headless Chromium', async () => {
    await status;
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-chromium-'));
    try {
      const dom = execFileSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--virtual-time-budget=15000', '--dump-dom', `file://${path.join(out, 'report.html')}`], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
      expect(/<body[^>]*data-chart-error="([^"]*)"/.exec(dom)?.[1]).toBeUndefined();
      expect(/<body[^>]*data-charts-rendered="(\d+)"/.exec(dom)?.[1]).toBe('4');
      const chart = dom.slice(dom.indexOf('id="chart-3"'), dom.indexOf('</svg>', dom.indexOf('id="chart-3"')));
      // one line per swept method and suite panel, with points
      expect((chart.match(/aria-roledescription="line mark"/g) ?? []).length).toBeGreaterThanOrEqual(2);
      expect(dom).toMatch(/sparsity \(% of MLP weights\)/);
    } finally {
      fs.rmSync(profile, { recursive: true, force: true });
    }
  });
});
