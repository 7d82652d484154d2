// The main-job demo: the bundled tiny-encoder pruned to 50% with GAPrune for the finance domain,
// compared with the dense model and with magnitude and random pruning at the same sparsity, on the
// authored demo data (finance retrieval = the domain, paraphrase retrieval = general ability).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentenceEncoder, initBackend } from '@prunekit/tensor-core';
import { runPrune, type ScoringMethod } from '@prunekit/scoring-fisher';
import { evaluateTask, validateTask, type TaskDefinition } from '@prunekit/benchmarks-mteb';
import { financeData, generalData } from './data.js';

export const BUNDLED_MODEL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'demo', 'tiny-encoder');

export interface DemoRow {
  model: string;
  method: string;
  sparsity: number;
  finance: number;
  general: number;
  seconds: number;
}

export interface DemoOptions {
  model?: string;
  workDir: string;
  sparsity?: number;
  /** prunable targets: 'mlp' (GAPrune's default) or 'attention+mlp' */
  targets?: string;
  seed?: number;
  log?: (line: string) => void;
}

function writeBeir(dir: string, corpus: Map<string, string>, queries: Map<string, string>, qrels: Map<string, string>): void {
  fs.mkdirSync(path.join(dir, 'qrels'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'corpus.jsonl'), [...corpus].map(([id, text]) => JSON.stringify({ _id: id, title: '', text })).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'queries.jsonl'), [...queries].map(([id, text]) => JSON.stringify({ _id: id, text })).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\n${[...qrels].map(([q, d]) => `${q}\t${d}\t1`).join('\n')}\n`);
}

/** Writes the demo data (BEIR layout) under workDir/data and returns its two retrieval tasks. */
export function prepareDemoData(workDir: string): { tasks: TaskDefinition[]; finance: ReturnType<typeof financeData>; general: ReturnType<typeof generalData> } {
  const finance = financeData();
  const general = generalData();
  const root = path.join(workDir, 'data');
  writeBeir(path.join(root, 'demo_finance'), finance.corpus, finance.testQueries, finance.qrels);
  // every paraphrase sentence except the query itself is in the corpus, so the others are distractors
  const gCorpus = new Map<string, string>([...general.test.map(([, b], i): [string, string] => [`g${i}`, b]), ...general.train.map((t, i): [string, string] => [`t${i}`, t.positive]), ...general.train.map((t, i): [string, string] => [`u${i}`, t.query])]);
  const gQueries = new Map(general.test.map(([a], i) => [`q${i}`, a]));
  const gQrels = new Map(general.test.map((_, i) => [`q${i}`, `g${i}`]));
  writeBeir(path.join(root, 'demo_general'), gCorpus, gQueries, gQrels);
  const tasks = [
    validateTask({ name: 'DemoFinanceRetrieval', type: 'retrieval', domain: 'finance', data: path.join(root, 'demo_finance'), splits: ['test'] }, 'demo'),
    validateTask({ name: 'DemoParaphraseRetrieval', type: 'retrieval', domain: 'general', data: path.join(root, 'demo_general'), splits: ['test'] }, 'demo'),
  ];
  return { tasks, finance, general };
}

async function evaluate(dir: string, tasks: TaskDefinition[], workDir: string): Promise<[number, number]> {
  const enc = await SentenceEncoder.load(dir);
  try {
    const scores: number[] = [];
    for (const task of tasks) {
      const r = await evaluateTask(enc, task, { datasetsRoot: workDir, onWarning: () => undefined });
      scores.push(r.scores.test![0]!.main_score);
    }
    return [scores[0]!, scores[1]!];
  } finally {
    enc.dispose();
  }
}

export async function runDemo(options: DemoOptions): Promise<DemoRow[]> {
  const log = options.log ?? ((line: string) => {
    console.log(line);
  });
  const model = options.model ?? BUNDLED_MODEL;
  const sparsity = options.sparsity ?? 0.5;
  const backend = await initBackend();
  log(`backend: ${backend.name}${backend.tensorflowVersion ? ` (TensorFlow ${backend.tensorflowVersion})` : ''}`);
  const { tasks, finance, general } = prepareDemoData(options.workDir);
  log(`demo data: ${finance.corpus.size} finance passages, ${finance.train.length} training triplets, ${finance.testQueries.size} held-out finance questions; ${general.train.length} general triplets, ${general.test.length} held-out paraphrase pairs`);
  const rows: DemoRow[] = [];
  let t0 = performance.now();
  const [fd, gd] = await evaluate(model, tasks, options.workDir);
  rows.push({ model: path.basename(model), method: 'dense', sparsity: 0, finance: fd, general: gd, seconds: (performance.now() - t0) / 1000 });
  log(`dense: finance nDCG@10 ${fd.toFixed(4)}, general nDCG@10 ${gd.toFixed(4)}`);
  const methods: ScoringMethod[] = ['gaprune', 'magnitude', 'random'];
  for (const method of methods) {
    t0 = performance.now();
    const out = path.join(options.workDir, 'models', `${method}-${sparsity}`);
    const result = await runPrune({
      model, out, method, sparsity, targets: options.targets ?? 'mlp', domain: finance.train, general: general.train, batchSize: 16, seed: options.seed ?? 0,
      workDir: path.join(options.workDir, 'stats'),
      onProgress: (stage, done, total) => {
        if (done === total) log(`  ${method}: ${stage} done`);
      },
    });
    if (result.diagnostics) {
      const d = result.diagnostics;
      log(`  DAI diagnostics: Spearman(DAI, |W|) = ${d.spearmanWithMagnitude.toFixed(4)}; dominant term ${d.dominantTerm}; layer 0 terms: F_D·|W| ${d.layers[0]!.domainTerm.toExponential(2)}, β·F_G·|W| ${d.layers[0]!.generalTerm.toExponential(2)}, γ·√|W| ${d.layers[0]!.magnitudeTerm.toExponential(2)}`);
    }
    const [f, g] = await evaluate(out, tasks, options.workDir);
    rows.push({ model: path.basename(model), method, sparsity, finance: f, general: g, seconds: (performance.now() - t0) / 1000 });
    log(`${method} at ${sparsity * 100}%: finance nDCG@10 ${f.toFixed(4)}, general nDCG@10 ${g.toFixed(4)}`);
  }
  return rows;
}

export function formatDemoTable(rows: DemoRow[]): string {
  const dense = rows.find((r) => r.method === 'dense')!;
  const pct = (x: number, base: number): string => (base > 0 ? `${((x / base) * 100).toFixed(1)}%` : 'n/a');
  const lines = [
    '| method | sparsity (MLP) | finance nDCG@10 | % of dense | general nDCG@10 | % of dense | seconds |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.method} | ${(r.sparsity * 100).toFixed(0)}% | ${r.finance.toFixed(4)} | ${pct(r.finance, dense.finance)} | ${r.general.toFixed(4)} | ${pct(r.general, dense.general)} | ${r.seconds.toFixed(1)} |`),
  ];
  return lines.join('\n');
}
