import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults } from '@prunekit/benchmarks-mteb';
import { memoryIo } from '@prunekit/cli-support';
import { SentenceEncoder, initBackend, layerLinearParameters, readManifest } from '@prunekit/tensor-core';
import { workspaceRoot } from '../../../../tools/test-support/shared.js';
import { run } from '../run.js';
import { SuiteRegistry } from './registry.js';
import { STRUCTURED_QUICK, makeStructuredKind, structuredVariants, type StructuredPreset } from './structured.js';
import { paretoFront, type ModelMeasure } from './structured-table.js';
import { CHEMLIT_EVAL_TASK } from './gaprune-data.js';

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}
const qrels = (pairs: [string, string][]): string => `query-id\tcorpus-id\tscore\n${pairs.map(([q, d]) => `${q}\t${d}\t1`).join('\n')}\n`;
const WORDS = ['revenue', 'margin', 'debt', 'equity', 'cash', 'lease', 'tax', 'asset', 'income', 'cost', 'share', 'bond'];

/** A datasets root in ../shared/datasets' layout, a few lines per file (what the finance data code reads). */
function writeData(root: string): void {
  write(path.join(root, 'tatqa_retrieval', 'corpus.jsonl'), jsonl(Array.from({ length: 16 }, (_, i) => ({ _id: `d${i}`, title: '', text: `${WORDS[i % 12]} ${WORDS[(i + 5) % 12]} table row ${i} of the annual report` }))));
  write(path.join(root, 'tatqa_retrieval', 'queries.jsonl'), jsonl([
    ...Array.from({ length: 8 }, (_, i) => ({ _id: `qd${i}`, text: `what is the ${WORDS[i]} in row ${i}` })),
    ...Array.from({ length: 6 }, (_, i) => ({ _id: `qt${i}`, text: `how much ${WORDS[i + 6]} in row ${i + 8}` })),
  ]));
  write(path.join(root, 'tatqa_retrieval', 'qrels', 'dev.tsv'), qrels(Array.from({ length: 8 }, (_, i) => [`qd${i}`, `d${i}`])));
  write(path.join(root, 'tatqa_retrieval', 'qrels', 'test.tsv'), qrels(Array.from({ length: 6 }, (_, i) => [`qt${i}`, `d${i + 8}`])));
  const intents = ['card_arrival', 'top_up', 'exchange_rate'];
  write(path.join(root, 'banking77', 'train.jsonl'), jsonl(Array.from({ length: 24 }, (_, i) => ({ text: `${intents[i % 3]!.replace('_', ' ')} question ${i} ${WORDS[i % 12]}`, label: intents[i % 3] }))));
  write(path.join(root, 'banking77', 'test.jsonl'), jsonl(Array.from({ length: 6 }, (_, i) => ({ text: `${intents[i % 3]!.replace('_', ' ')} please ${WORDS[(i + 3) % 12]}`, label: intents[i % 3] }))));
  write(path.join(root, 'glue_stsb', 'train.jsonl'), jsonl(Array.from({ length: 10 }, (_, i) => ({ sentence1: `sts a ${i} ${WORDS[i]}`, sentence2: `sts b ${i} ${WORDS[i]}`, score: i % 2 === 0 ? 4.2 : 1.5 }))));
  write(path.join(root, 'glue_stsb', 'test.jsonl'), jsonl(Array.from({ length: 8 }, (_, i) => ({ sentence1: `${WORDS[i]} rises in the quarter`, sentence2: `${WORDS[(i * 5) % 12]} rises in the quarter`, score: i % 6 }))));
  write(path.join(root, 'glue_mrpc', 'train.jsonl'), jsonl(Array.from({ length: 10 }, (_, i) => ({ sentence1: `mrpc a ${i} ${WORDS[i]}`, sentence2: `mrpc b ${i} ${WORDS[i]}`, label: i % 2 }))));
  write(path.join(root, 'glue_rte', 'train.jsonl'), jsonl(Array.from({ length: 10 }, (_, i) => ({ sentence1: `rte premise ${i} ${WORDS[i]}`, sentence2: `rte hypothesis ${i}`, label: i < 4 ? 1 : 0 }))));
}

/** Every path of the suite in miniature: two methods one-shot and recovered, random on two seeds, FineGates. */
const TINY: StructuredPreset = {
  ...STRUCTURED_QUICK,
  name: 'tiny',
  methods: ['gaprune-balanced', 'magnitude', 'random'],
  randomSeeds: [0, 1],
  recoveries: [{ kind: 'rt', steps: 2 }, { kind: 'kd', steps: 2, distill: 'cosine' }],
  recoverMethods: ['magnitude'],
  statsBatches: 2,
  batchSize: 4,
  domainSize: 10,
  generalSize: 9,
  pairShare: 0.3,
  domainTasks: { finance: ['ToyFinRetrieval'], chemistry: [] },
  generalTasks: ['ToySTS'],
  // 4 steps at gate lr 0.3 move θ too little to close gates (≈ 1.55 needed): the path runs, the model may stay whole
  finegates: { tasks: { finance: 'banking77' }, steps: 4, sparsityStartStep: 0, gateLr: 0.3, maxTrain: 24, maxLength: 32 },
  speed: { one: 2, many: 1, repeats: 1, threads: 1, maxLength: 32 },
};

describe('structured suite kind: a miniature run (tiny-encoder, synthetic finance data)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-structured-'));
  writeData(root);
  const tasksDir = path.join(root, 'tasks');
  write(path.join(tasksDir, 'toy.json'), JSON.stringify([
    { name: 'ToyFinRetrieval', type: 'retrieval', domain: 'finance', data: 'tatqa_retrieval', splits: ['test'], options: { kValues: [1, 3, 10] } },
    { name: 'ToySTS', type: 'sts', domain: 'general', data: 'glue_stsb', splits: ['test'] },
  ]));
  const out = path.join(root, 'bench');
  const io = memoryIo();
  const model = path.join(workspaceRoot, 'apps', 'cli', 'demo', 'tiny-encoder');
  const suites = new SuiteRegistry().register(makeStructuredKind({ presets: { quick: TINY, default: TINY, full: TINY } }));
  const status = run(['run', '--suite', 'structured', '--quick', '--models', model, '--data-root', root, '--tasks-dir', tasksDir, '--out', out], { io, suites });
  const names = structuredVariants(TINY, 'finance').map((v) => v.name);
  const measure = (n: string): ModelMeasure => JSON.parse(fs.readFileSync(path.join(out, 'structured', 'measure', 'tiny-encoder', 'finance', `${n}.json`), 'utf8')) as ModelMeasure;

  it('derives every model once through the registry as compacted artifacts with about half the encoder parameters', async () => {
    expect(await status, io.stderr).toBe(0);
    expect(names).toEqual(['dense', 'gaprune-balanced-50', 'magnitude-50', 'magnitude-50-rt2', 'magnitude-50-kd2', 'random-50-s0', 'random-50-s1', 'finegates-50']);
    await initBackend();
    const dense = await SentenceEncoder.load(model);
    const denseParams = layerLinearParameters(dense.model);
    dense.dispose();
    for (const n of names.slice(1)) {
      const dir = path.join(out, 'structured', 'runs', 'tiny-encoder', 'finance', n);
      const manifest = readManifest(dir);
      expect(manifest.kind, n).toBe('compacted-model');
      expect(manifest.method, n).toBe(n.replace(/-50.*$/, ''));
      const m = measure(n);
      if (n.startsWith('finegates')) {
        // matched-count finalisation: at least the suite's 50% of the encoder-layer parameters removed, and said so
        expect(manifest.options.removeFraction).toBe(0.5);
        expect(m.encoderParams / denseParams).toBeLessThanOrEqual(0.5);
        expect((manifest.metrics as { finalisation?: { removed: number } }).finalisation?.removed).toBeGreaterThanOrEqual(0.5);
        continue;
      }
      // the registry's schema filled the options in: the structure and the recovery asked for
      expect(manifest.options.structure, n).toBe('heads,neurons');
      expect(manifest.options.retrainSteps, n).toBe(n.endsWith('2') ? 2 : 0);
      expect(manifest.options.distill, n).toBe(n.endsWith('kd2') ? 'cosine' : undefined);
      expect(manifest.options.seed, n).toBe(n.endsWith('-s1') ? 1 : 0);
      // never more than asked (target floor(0.5·N)), and within a group's size of it
      expect(m.encoderParams / denseParams, n).toBeGreaterThanOrEqual(0.5);
      expect(m.encoderParams / denseParams, n).toBeLessThan(0.6);
      expect(m.safetensorsBytes).toBeLessThan(measure('dense').safetensorsBytes);
      expect(m.onnxBytes).toBeLessThan(measure('dense').onnxBytes);
    }
    // recovery changed the weights of the compacted model but not its shapes
    expect(measure('magnitude-50-rt2').layers).toBe(measure('magnitude-50').layers);
    expect((readManifest(path.join(out, 'structured', 'runs', 'tiny-encoder', 'finance', 'magnitude-50-kd2')).metrics as { recoveryLosses: number[] }).recoveryLosses).toHaveLength(2);
  }, 600_000);

  it('measures ONNX exports against the tfjs model and onnxruntime speed against dense', async () => {
    await status;
    for (const n of names) {
      const m = measure(n);
      expect(m.onnxMaxDiff, n).toBeLessThan(1e-4);
      expect(fs.existsSync(path.join(out, 'structured', 'onnx', 'tiny-encoder', 'finance', n, 'onnx', 'model.onnx')), n).toBe(true);
      if (n === 'dense') {
        expect(m.speed).toBeNull();
        continue;
      }
      for (const s of [m.speed!.one, m.speed!.many]) {
        expect(s.speedup, n).toBeGreaterThan(0);
        expect(s.speedup, n).toBeCloseTo(s.denseMs / s.modelMs, 9);
      }
      expect(m.speed!.many.batchSize).toBe(32);
    }
    // a recovered model has its one-shot model's shapes: its speed is that measurement
    expect(measure('magnitude-50-kd2').speed).toEqual({ ...measure('magnitude-50').speed, reusedFrom: 'magnitude-50' });
  });

  it('writes results in the bench layout, table.md and the report section with the Pareto chart', async () => {
    await status;
    const results = readResults(path.join(out, 'results'));
    expect([...new Set(results.map((r) => r.model_name))].sort()).toEqual(names.map((n) => `tiny-encoder/finance/${n}`).sort());
    expect([...new Set(results.map((r) => r.task_name))].sort()).toEqual(['ToyFinRetrieval', 'ToySTS']);
    const table = fs.readFileSync(path.join(out, 'structured', 'table.md'), 'utf8');
    expect(table).toContain('| domain | model | recovery | seeds | encoder params | % of dense | safetensors MB | ONNX MB | ToyFinRetrieval ×100 | % of dense | ToySTS ×100 | % of dense | ORT speedup b1 | ORT speedup b32 | ONNX max \\|Δ\\| |');
    expect(table).toMatch(/^\| finance \| dense \| none \| 1 \| [\d,]+ \| 100\.0% \| [\d.]+ \| [\d.]+ \| -?[\d.]+ \| 100\.0 \| -?[\d.]+ \| 100\.0 \| 1 \(ref\.\) \| 1 \(ref\.\) \| /m);
    // random's two seeds are one row with mean ± sd
    expect(table).toMatch(/^\| finance \| random-50 \| none \| 2 \| [\d,]+ \| 5\d\.\d% \| [\d.]+ \| [\d.]+ \| -?[\d.]+ ± [\d.]+ \| /m);
    expect(table).toMatch(/^\| finance \| magnitude-50-kd2 \| kd2 \| 1 \| /m);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Structured pruning: quality, size and onnxruntime speed (50% of encoder parameters removed)');
    expect(md).toMatch(/^- preset tiny \(--quick\): domains finance; 50% of the encoder-layer linear parameters/m);
    expect(md).toMatch(/^- tiny-encoder\/finance\/magnitude-50-rt2: recovery loss [\d.]+ → [\d.]+ over 2 steps\.$/m);
    // magnitude one-shot and recovered are ranked against gaprune-balanced only where both ran (one-shot)
    expect(md).toMatch(/^Structured GAPrune vs magnitude and Taylor, finance, one-shot \(domain task ×100, best first\): (gaprune-balanced|magnitude) -?[\d.]+ \(-?[\d.]+% of dense\) > (gaprune-balanced|magnitude) -?[\d.]+ /m);
    expect(md).not.toMatch(/Structured GAPrune vs magnitude and Taylor, finance, recovery/);
    expect(md).toContain('```vega-lite');
    const spec = JSON.parse(/```vega-lite\n([\s\S]*?)\n```/.exec(md.slice(md.indexOf('## Structured pruning')))![1]!) as { data: { values: { model: string; task: string; speedup: number; quality: number; front: boolean }[] } };
    // one point per model and task panel; dense sits at (1, 100)
    expect(spec.data.values).toHaveLength(2 * names.length);
    expect(spec.data.values.filter((v) => v.model === 'dense').map((v) => [v.speedup, v.quality])).toEqual([[1, 100], [1, 100]]);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Structured pruning: quality, size and onnxruntime speed (50% of encoder parameters removed)</h2>');
  });

  it('resumes: a second run derives nothing again and reports the same table', async () => {
    await status;
    const before = fs.readFileSync(path.join(out, 'structured', 'table.md'), 'utf8');
    const io2 = memoryIo();
    expect(await run(['run', '--suite', 'structured', '--quick', '--models', model, '--data-root', root, '--tasks-dir', tasksDir, '--out', out], { io: io2, suites })).toBe(0);
    expect(io2.stderr).not.toMatch(/deriving/);
    expect(io2.stderr).not.toMatch(/onnxruntime-node speed/);
    expect(fs.readFileSync(path.join(out, 'structured', 'table.md'), 'utf8')).toBe(before);
  }, 300_000);
});

describe('structured suite kind: the chemistry domain (ChemLit-QA halves)', () => {
  it('evaluates the held-out half of ChemLit-QA and STS for dense and a structured model', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-structured-chem-'));
    writeData(root);
    write(path.join(root, 'chemlit_qa_retrieval', 'corpus.jsonl'), jsonl(Array.from({ length: 10 }, (_, i) => ({ _id: `c${i}`, title: '', text: `catalyst ${i} polymer ${WORDS[i]} yield` }))));
    write(path.join(root, 'chemlit_qa_retrieval', 'queries.jsonl'), jsonl(Array.from({ length: 10 }, (_, i) => ({ _id: `q${i}`, text: `which catalyst gives ${WORDS[i]}` }))));
    write(path.join(root, 'chemlit_qa_retrieval', 'qrels', 'test.tsv'), qrels(Array.from({ length: 10 }, (_, i) => [`q${i}`, `c${i}`])));
    write(path.join(root, 'chemprot', 'train.jsonl'), jsonl(Array.from({ length: 12 }, (_, i) => ({ text: `<< protein ${i} >> binds [[ drug ${WORDS[i]} ]]`, label: i % 2 ? 'INHIBITOR' : 'AGONIST' }))));
    const tasksDir = path.join(root, 'tasks');
    write(path.join(tasksDir, 'toy.json'), JSON.stringify([{ name: 'ToySTS', type: 'sts', domain: 'general', data: 'glue_stsb', splits: ['test'] }]));
    const preset: StructuredPreset = { ...TINY, domains: ['chemistry'], methods: ['magnitude'], recoveries: [], domainTasks: { finance: [], chemistry: [CHEMLIT_EVAL_TASK] }, finegates: TINY.finegates };
    const out = path.join(root, 'bench');
    const io = memoryIo();
    const model = path.join(workspaceRoot, 'apps', 'cli', 'demo', 'tiny-encoder');
    const suites = new SuiteRegistry().register(makeStructuredKind({ presets: { quick: preset, default: preset, full: preset } }));
    expect(await run(['run', '--suite', 'structured', '--quick', '--models', model, '--data-root', root, '--tasks-dir', tasksDir, '--out', out], { io, suites }), io.stderr).toBe(0);
    // chemistry has no FineGates task: dense and magnitude only
    expect(structuredVariants(preset, 'chemistry').map((v) => v.name)).toEqual(['dense', 'magnitude-50']);
    const results = readResults(path.join(out, 'results'));
    expect(results.map((r) => `${r.model_name} ${r.task_name}`).sort()).toEqual([
      `tiny-encoder/chemistry/dense ${CHEMLIT_EVAL_TASK}`, 'tiny-encoder/chemistry/dense ToySTS',
      `tiny-encoder/chemistry/magnitude-50 ${CHEMLIT_EVAL_TASK}`, 'tiny-encoder/chemistry/magnitude-50 ToySTS',
    ]);
    // the evaluated half holds 5 of the 10 queries; the other 5 gave triplets
    expect(fs.readFileSync(path.join(out, 'data', 'chemistry-triplets.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(5);
    expect(fs.readFileSync(path.join(out, 'structured', 'table.md'), 'utf8')).toMatch(/^\| chemistry \| magnitude-50 \| none \| 1 \| /m);
  }, 300_000);
});

describe('paretoFront', () => {
  it('keeps the points no other point beats on both axes', () => {
    const pts = [{ x: 1, y: 100 }, { x: 1.5, y: 90 }, { x: 1.4, y: 80 }, { x: 2, y: 60 }, { x: 1.5, y: 85 }];
    expect(paretoFront(pts)).toEqual([{ x: 1, y: 100 }, { x: 1.5, y: 90 }, { x: 2, y: 60 }]);
  });
});
