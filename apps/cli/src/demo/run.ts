// The main job (`npm start` = `prunekit demo`): the bundled demo-encoder (4 layers) pruned for the finance domain
// to a physically smaller model with structured GAPrune (whole heads and FFN neurons removed, through
// runStructuredPrune: the code path of `prunekit prune --structure heads,neurons`), recovered by short
// InfoNCE retraining on finance triplets (or distillation from the dense model, --recovery distill),
// exported to ONNX, the export checked against prunekit's own output, and everything measured beside
// dense (and, with retraining, dense given the same retraining: the fair reference of the recovered
// rows) and the one-shot structured baselines (magnitude, random with several seeds) on the bundled
// slices of TAT-QA (finance retrieval) and STS-B (general similarity). Quality and speed are measured
// on the exported ONNX models in onnxruntime-node: what users deploy.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxSentenceEncoder, SentenceEncoder, exportOnnx, initBackend, readConfig } from '@prunekit/tensor-core';
import { readBeir, runStructuredPrune, tripletsFromPairs, tripletsFromRetrieval, type DistillLoss, type ScoringMethod, type StructureKind, type Triplet } from '@prunekit/scoring-fisher';
import { evaluateTask, mainScore, validateTask, type Encoder, type TaskDefinition } from '@prunekit/benchmarks-mteb';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BUNDLED_MODEL = path.resolve(here, '..', '..', 'demo', 'demo-encoder');
export const BUNDLED_DATA = path.resolve(here, '..', '..', 'demo', 'data');

export interface DemoRow {
  /** row label: dense, gaprune, gaprune-balanced, magnitude, random-s0 ... */
  model: string;
  method: ScoringMethod | 'dense';
  seed: number | null;
  /** fraction of encoder-layer linear parameters removed (0 for dense) */
  removed: number;
  heads: number[];
  ffn: number[];
  /** finance retrieval nDCG@10 of the exported model (onnxruntime), before and after recovery */
  finance: number;
  financeBeforeRecovery: number | null;
  /** STS-B Spearman of the exported model */
  general: number;
  generalBeforeRecovery: number | null;
  /** parameters of the whole model */
  parameters: number;
  /** bytes of onnx/model.onnx (+ external data) */
  onnxBytes: number;
  /** max |onnxruntime − prunekit (tfjs)| over the check texts' sentence embeddings */
  maxAbsDiff: number;
  /** median ms per batch of the timing texts in onnxruntime */
  ms: number;
}

export interface DemoResult {
  rows: DemoRow[];
  settings: Required<Pick<DemoOptions, 'sparsity' | 'recoverySteps' | 'recovery' | 'recoveryLr' | 'distill' | 'randomSeeds' | 'timingRepeats' | 'timingBatch'>> & { structure: string; methods: string[] };
  data: { financeDocuments: number; financeQueries: number; stsPairs: number; domainTriplets: number; generalTriplets: number };
  seconds: Record<string, number>;
}

export interface DemoOptions {
  model?: string;
  /** the data folder written by tools/demo/make-demo-data.mjs (default: the bundled slice) */
  dataDir?: string;
  workDir: string;
  /** fraction of encoder-layer linear parameters removed */
  sparsity?: number;
  /** scoring methods pruned with (random gets one row per seed) */
  methods?: ScoringMethod[];
  randomSeeds?: number[];
  /** recovery steps after removal (distillation from the dense model); 0 = none */
  recoverySteps?: number;
  /** 'distill': match the dense model's embeddings (cosine); 'retrain': InfoNCE on the finance triplets */
  recovery?: 'distill' | 'retrain';
  recoveryLr?: number;
  distill?: DistillLoss;
  /** onnxruntime timing: repeats of the timed pass, texts per batch */
  timingRepeats?: number;
  timingBatch?: number;
  /** cap on evaluation queries / STS pairs (shortened runs in tests) */
  limit?: number;
  log?: (line: string) => void;
}

export const DEMO_DEFAULTS = {
  sparsity: 0.5,
  methods: ['gaprune', 'gaprune-balanced', 'magnitude', 'random'] as ScoringMethod[],
  randomSeeds: [0, 1, 2],
  recoverySteps: 20,
  recovery: 'retrain' as 'distill' | 'retrain',
  recoveryLr: 1e-4,
  distill: 'cosine' as DistillLoss,
  timingRepeats: 3,
  timingBatch: 32,
};
const STRUCTURE: StructureKind[] = ['heads', 'neurons'];

function readJsonl<T>(file: string): T[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l) as T;
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
  });
}

interface DemoData {
  tasks: TaskDefinition[];
  domain: Triplet[];
  general: Triplet[];
  checkTexts: string[];
  timingTexts: string[];
  counts: DemoResult['data'];
}

/** Reads the bundled slice (or another from make-demo-data.mjs); `limit` writes a shortened copy under workDir. */
async function loadDemoData(dataDir: string, workDir: string, limit?: number): Promise<DemoData> {
  for (const f of ['finance/eval/corpus.jsonl', 'finance/eval/qrels/test.tsv', 'finance/train/qrels/train.tsv', 'general/test.jsonl', 'general/train.jsonl']) {
    if (!fs.existsSync(path.join(dataDir, f))) throw new Error(`${path.join(dataDir, f)}: missing; the demo data folder is written by tools/demo/make-demo-data.mjs`);
  }
  let evalDir = path.join(dataDir, 'finance', 'eval');
  let stsDir = path.join(dataDir, 'general');
  if (limit !== undefined) {
    // a shortened copy: the first `limit` qrels and STS pairs (the corpus stays whole)
    evalDir = path.join(workDir, 'data', 'finance-eval');
    stsDir = path.join(workDir, 'data', 'general');
    fs.mkdirSync(path.join(evalDir, 'qrels'), { recursive: true });
    fs.mkdirSync(stsDir, { recursive: true });
    for (const f of ['corpus.jsonl', 'queries.jsonl']) fs.copyFileSync(path.join(dataDir, 'finance', 'eval', f), path.join(evalDir, f));
    fs.writeFileSync(path.join(evalDir, 'qrels', 'test.tsv'), `${fs.readFileSync(path.join(dataDir, 'finance', 'eval', 'qrels', 'test.tsv'), 'utf8').trim().split('\n').slice(0, limit + 1).join('\n')}\n`);
    fs.writeFileSync(path.join(stsDir, 'test.jsonl'), `${fs.readFileSync(path.join(dataDir, 'general', 'test.jsonl'), 'utf8').trim().split('\n').slice(0, limit).join('\n')}\n`);
  }
  const tasks = [
    validateTask({ name: 'TATQA-demo', type: 'retrieval', domain: 'finance', description: 'TAT-QA test questions over held-out annual-report contexts (bundled slice)', data: evalDir, splits: ['test'] }, 'demo'),
    validateTask({ name: 'STSB-demo', type: 'sts', domain: 'general', description: 'STS Benchmark test pairs (bundled slice)', data: stsDir, splits: ['test'] }, 'demo'),
  ];
  const train = await readBeir(path.join(dataDir, 'finance', 'train'), 'train');
  const domain = await tripletsFromRetrieval(train, { negatives: 'bm25', seed: 0 });
  const generalPairs = readJsonl<{ sentence1: string; sentence2: string }>(path.join(dataDir, 'general', 'train.jsonl'));
  const general = tripletsFromPairs(generalPairs.map((p) => ({ a: p.sentence1, b: p.sentence2 })), { negatives: 'random', seed: 0 });
  const evalCorpus = readJsonl<{ text: string }>(path.join(evalDir, 'corpus.jsonl')).map((d) => d.text);
  const evalQueries = readJsonl<{ text: string }>(path.join(evalDir, 'queries.jsonl')).map((q) => q.text);
  const sts = readJsonl<{ sentence1: string; sentence2: string }>(path.join(stsDir, 'test.jsonl'));
  const qrelRows = fs.readFileSync(path.join(evalDir, 'qrels', 'test.tsv'), 'utf8').trim().split('\n').length - 1;
  return {
    tasks, domain, general,
    // the export check: documents (long inputs), questions and general sentences
    checkTexts: [...evalCorpus.slice(0, 32), ...evalQueries.slice(0, 32), ...sts.slice(0, 32).map((p) => p.sentence1)],
    // the timing pass: finance documents (up to 128 tokens each), the domain the model is for
    timingTexts: evalCorpus.slice(0, 64),
    counts: { financeDocuments: evalCorpus.length, financeQueries: qrelRows, stsPairs: sts.length, domainTriplets: domain.length, generalTriplets: general.length },
  };
}

async function score(encoder: Encoder, tasks: TaskDefinition[], root: string): Promise<[number, number]> {
  const out: number[] = [];
  for (const task of tasks) out.push(mainScore(await evaluateTask(encoder, task, { datasetsRoot: root, onWarning: () => undefined })));
  return [out[0]!, out[1]!];
}

/** Max |a − b| over all embeddings. */
function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i]!.length; j++) m = Math.max(m, Math.abs(a[i]![j]! - b[i]![j]!));
  return m;
}

function countParameters(enc: SentenceEncoder): number {
  let n = 0;
  for (const t of enc.model.params.values()) n += t.size;
  return n;
}

interface Exported {
  onnx: OnnxSentenceEncoder;
  bytes: number;
  maxAbsDiff: number;
  parameters: number;
  heads: number[];
  ffn: number[];
}

/** Exports a model folder to ONNX and checks onnxruntime's embeddings against prunekit's (tfjs). */
async function exportAndCheck(dir: string, out: string, checkTexts: string[]): Promise<Exported> {
  const report = await exportOnnx(dir, out);
  const tf = await SentenceEncoder.load(dir);
  let reference: Float32Array[];
  let parameters: number;
  try {
    reference = await tf.encode(checkTexts);
    parameters = countParameters(tf);
  } finally {
    tf.dispose();
  }
  const onnx = await OnnxSentenceEncoder.load(out);
  const config = readConfig(dir);
  return {
    onnx, bytes: report.bytes, parameters, maxAbsDiff: maxAbsDiff(await onnx.encode(checkTexts), reference),
    heads: config.layers.map((l) => l.numHeads), ffn: config.layers.map((l) => l.intermediateSize),
  };
}

/** Milliseconds of one pass over `texts` in batches of `batchSize`. */
async function timeEncoder(onnx: OnnxSentenceEncoder, texts: string[], batchSize: number): Promise<number> {
  const t0 = performance.now();
  await onnx.encode(texts, { batchSize });
  return performance.now() - t0;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => {
    console.log(line);
  });
  const model = options.model ?? BUNDLED_MODEL;
  const dataDir = options.dataDir ?? BUNDLED_DATA;
  const sparsity = options.sparsity ?? DEMO_DEFAULTS.sparsity;
  const methods = options.methods ?? DEMO_DEFAULTS.methods;
  const randomSeeds = options.randomSeeds ?? DEMO_DEFAULTS.randomSeeds;
  const recoverySteps = options.recoverySteps ?? DEMO_DEFAULTS.recoverySteps;
  const distill = options.distill ?? DEMO_DEFAULTS.distill;
  const recovery = options.recovery ?? DEMO_DEFAULTS.recovery;
  const recoveryLr = options.recoveryLr ?? DEMO_DEFAULTS.recoveryLr;
  const timingRepeats = options.timingRepeats ?? DEMO_DEFAULTS.timingRepeats;
  const timingBatch = options.timingBatch ?? DEMO_DEFAULTS.timingBatch;
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      seconds[name] = (seconds[name] ?? 0) + (performance.now() - t0) / 1000;
    }
  };
  const backend = await initBackend();
  log(`backend: ${backend.name}${backend.tensorflowVersion ? ` (TensorFlow ${backend.tensorflowVersion})` : ''}; evaluation and timing in onnxruntime-node on the exported models`);
  const data = await timed('data', () => loadDemoData(dataDir, options.workDir, options.limit));
  const c = data.counts;
  log(`data: finance = ${c.financeQueries} TAT-QA test questions over ${c.financeDocuments} held-out annual-report contexts; general = ${c.stsPairs} STS-B test pairs; pruning statistics and recovery use ${c.domainTriplets} finance triplets (other contexts, TAT-QA dev questions) and ${c.generalTriplets} general triplets (STS-B train)`);

  const variants: { name: string; method: ScoringMethod | 'dense'; seed: number | null }[] = [{ name: 'dense', method: 'dense', seed: null }];
  // with domain retraining, the dense model retrained the same way is the fair reference for the recovered rows
  const retrainDense = recoverySteps > 0 && recovery === 'retrain';
  if (retrainDense) variants.push({ name: 'dense', method: 'dense', seed: null });
  for (const m of methods) {
    if (m === 'random') for (const s of randomSeeds) variants.push({ name: `random-s${s}`, method: m, seed: s });
    else variants.push({ name: m, method: m, seed: null });
  }
  const rows: DemoRow[] = [];
  const onnxEncoders: OnnxSentenceEncoder[] = [];
  const statsDir = path.join(options.workDir, 'stats');
  try {
    for (const v of variants) {
      const t0 = performance.now();
      let dir = model;
      let before: [number, number] | null = null;
      let removed = 0;
      if (v.method === 'dense' && rows.length > 0) {
        // the reference: nothing removed (sparsity 0 through the same path), then the same retraining
        dir = path.join(options.workDir, 'models', 'dense-retrained');
        await timed('prune+recover', () => runStructuredPrune({ model, method: 'magnitude', sparsity: 0, structure: STRUCTURE, domain: data.domain, batchSize: 16, seed: 0, workDir: statsDir, out: dir, retrainSteps: recoverySteps, retrainLr: recoveryLr }));
        before = [rows[0]!.finance, rows[0]!.general];
      } else if (v.method !== 'dense') {
        const common = { model, method: v.method, sparsity, structure: STRUCTURE, domain: data.domain, general: data.general, batchSize: 16, maxBatches: 8, seed: v.seed ?? 0, workDir: statsDir };
        // recovery for the GAPrune rows; the baselines are one-shot (their rows compare with GAPrune's "before recovery")
        const recover = recoverySteps > 0 && v.method.startsWith('gaprune');
        if (recover) {
          // the same removal without recovery, to show what recovery gives back (statistics are cached)
          const plain = path.join(options.workDir, 'models', `${v.name}-no-recovery`);
          await timed('prune', () => runStructuredPrune({ ...common, out: plain }));
          const e = await timed('export', () => exportAndCheck(plain, `${plain}-onnx`, data.checkTexts));
          before = await timed('evaluate', () => score(e.onnx, data.tasks, options.workDir));
          await e.onnx.dispose();
        }
        dir = path.join(options.workDir, 'models', v.name);
        const r = await timed(recover ? 'prune+recover' : 'prune', () => runStructuredPrune({ ...common, out: dir, ...(recover ? { retrainSteps: recoverySteps, retrainLr: recoveryLr, ...(recovery === 'distill' ? { distill } : {}) } : {}) }));
        removed = r.allocation.achievedSparsity;
      }
      const e = await timed('export', () => exportAndCheck(dir, path.join(options.workDir, 'onnx', before && v.method === 'dense' ? 'dense-retrained' : v.name), data.checkTexts));
      onnxEncoders.push(e.onnx);
      const [finance, general] = await timed('evaluate', () => score(e.onnx, data.tasks, options.workDir));
      rows.push({
        model: v.name, method: v.method, seed: v.seed, removed, heads: e.heads, ffn: e.ffn,
        finance, financeBeforeRecovery: before?.[0] ?? null, general, generalBeforeRecovery: before?.[1] ?? null,
        parameters: e.parameters, onnxBytes: e.bytes, maxAbsDiff: e.maxAbsDiff, ms: Number.NaN,
      });
      log(`${v.name}: finance nDCG@10 ${finance.toFixed(4)}${before ? ` (before recovery ${before[0].toFixed(4)})` : ''}, STS-B ${general.toFixed(4)}${before ? ` (${before[1].toFixed(4)})` : ''}; heads ${e.heads.join('/')}, FFN ${e.ffn.join('/')}; export max |diff| ${e.maxAbsDiff.toExponential(1)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    // timing: every model's pass interleaved per repeat, so load changes hit all alike; median per model
    await timed('timing', async () => {
      const samples = rows.map(() => [] as number[]);
      for (const onnx of onnxEncoders) await timeEncoder(onnx, data.timingTexts.slice(0, timingBatch), timingBatch);
      for (let r = 0; r < timingRepeats; r++) {
        for (const [i, onnx] of onnxEncoders.entries()) samples[i]!.push(await timeEncoder(onnx, data.timingTexts, timingBatch));
      }
      for (const [i, s] of samples.entries()) {
        const sorted = [...s].sort((x, y) => x - y);
        rows[i]!.ms = (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2 / Math.ceil(data.timingTexts.length / timingBatch);
      }
    });
  } finally {
    for (const o of onnxEncoders) await o.dispose();
  }
  return {
    rows, data: data.counts, seconds,
    settings: { sparsity, structure: STRUCTURE.join(','), methods, randomSeeds, recoverySteps, recovery, recoveryLr, distill, timingRepeats, timingBatch },
  };
}

const pct = (x: number, base: number): string => `${((x / base) * 100).toFixed(0)}%`;

/** The demo's table (markdown), random seeds summarised by their mean and range. */
export function formatDemoTable(result: DemoResult): string {
  const rows = result.rows;
  const dense = rows.find((r) => r.method === 'dense')!;
  const recovered = result.settings.recoverySteps > 0;
  const quality = (x: number, before: number | null, base: number): string => `${x.toFixed(3)} (${pct(x, base)})${recovered && before !== null ? ` ← ${before.toFixed(3)}` : ''}`;
  const lines = [
    `| model | finance nDCG@10 (% of dense)${recovered ? ' ← before recovery' : ''} | general STS-B ρ (% of dense)${recovered ? ' ← before' : ''} | parameters | model.onnx | ms per batch of ${result.settings.timingBatch} (speed-up) | heads / FFN per layer | export max abs diff |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.model}${r.financeBeforeRecovery !== null ? ` + ${result.settings.recoverySteps} steps ${result.settings.recovery === 'distill' ? 'distillation' : 'retraining'}` : ''} | ${quality(r.finance, r.financeBeforeRecovery, dense.finance)} | ${quality(r.general, r.generalBeforeRecovery, dense.general)} | ${r.parameters.toLocaleString('en-US')} (${pct(r.parameters, dense.parameters)}) | ${(r.onnxBytes / 1e6).toFixed(2)} MB | ${r.ms.toFixed(1)} (${(dense.ms / r.ms).toFixed(2)}×) | ${r.heads.join('/')} / ${r.ffn.join('/')} | ${r.maxAbsDiff.toExponential(1)} |`);
  }
  const random = rows.filter((r) => r.method === 'random');
  if (random.length > 1) {
    const stat = (xs: number[]): string => {
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      return `${mean.toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
    };
    lines.push(`| random, ${random.length} seeds: mean (min–max) | ${stat(random.map((r) => r.finance))} | ${stat(random.map((r) => r.general))} | | | | | |`);
  }
  return lines.join('\n');
}
