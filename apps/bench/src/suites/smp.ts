// The smp kind: SMP (SMP-L, SMP-S) against movement pruning, magnitude pruning with fine-tuning and
// dense fine-tuning, on classification tasks with the label-word head, across keep fractions and
// seeds. Every run derives its model through the method registry (`runMethod`: mask-smp's smp-l,
// smp-s, movement, magnitude-ft and full-ft-mlm, the definitions `prunekit prune --method` runs) and
// is one artifact folder under <out>/smp/runs (HF folder + prunekit/manifest.json, masks.safetensors,
// training.json); a folder with its manifest is reused when the suite is run again (resume). Writes
// <out>/smp/table.md (score vs keep fraction, mean ± sd over seeds), <out>/smp/chart.svg, and, for
// SMP-S at the two lowest keep fractions, the size and measured forward speed of the row-compacted
// model (in <out>/smp/runs.json).
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MASKS_FILE, MaskSet, Tokenizer, initBackend, loadModel, modelFingerprint, planFromMasks, compact, readManifest, writeFileAtomic, writeJsonAtomic, type EncoderModel } from '@prunekit/tensor-core';
import { TASKS, classificationScores, encodeExamples, evaluate, loadExamples, mainScore, resolveLabelWords, resolveTask, BERT_BASE_SCORES, type LambdaScale, type PruneMethod } from '@prunekit/mask-smp';
import { chartSvg, type VegaLiteSpec } from '@prunekit/benchmarks-mteb';
import { mean, pctCell, presetKind, runMethod, runOrReuse, seedsTaskResult, summarising, type PresetKindOptions, type PresetName } from './runs.js';
import type { BenchOutcome, BenchRunContext, SuiteKind } from './types.js';

export interface SmpPreset {
  tasks: string[];
  keeps: number[];
  methods: PruneMethod[];
  seeds: number[];
  /** also distil SMP-S from the dense run (same task, seed) */
  distil: boolean;
  steps: number;
  batchSize: number;
  maxLength: number;
  maxTrain: number;
  maxEval: number;
  weightLr: number;
  head: 'first' | 'prompt';
  /** λ_R and how it is applied (mask-smp's lambdaScale): 'per-score' matches the authors' BERT-base push per score */
  lambdaR: number;
  lambdaScale: LambdaScale;
  /** the (keep, methods) cells to run; default: every method at every keep fraction */
  cells?: { keep: number; methods: PruneMethod[] }[];
  /** 'train-holdout' evaluates on a dev split carved from the training file (for choosing settings) */
  evalSplit?: 'eval-file' | 'train-holdout';
}

const PRUNING: PruneMethod[] = ['smp-l', 'smp-s', 'movement', 'magnitude-ft'];

// The claims (SMP at 80% keep ≥ dense; SMP-S ≥ SMP-L ≥ movement at 10% and 3%) need dense
// fine-tuning, SMP-L at 80% and SMP-S / SMP-L / movement at 10% and 3%: the default preset runs
// exactly those cells on three seeds. Head: [CLS] label words (the authors' GLUE setting). λ_R:
// 400 with lambdaScale 'per-score' (each score feels the authors' BERT-base push; on mini-mlm the
// applied λ is 400·3.15M/84.9M ≈ 14.8). Length: 400 steps of batch 16 (6.4k examples seen, about
// 1% of the authors' 12.6k steps × 64 on SST-2): the most that three seeds of 8 cells fit in about an
// hour on 2 idle cores (≈ 0.4 s per step of batch 16 at ≤ 64 tokens on mini-mlm). See the bench
// README for the dev-split sweep behind these settings.
const CLAIM_CELLS: { keep: number; methods: PruneMethod[] }[] = [
  { keep: 0.8, methods: ['smp-l'] },
  { keep: 0.1, methods: ['smp-s', 'smp-l', 'movement'] },
  { keep: 0.03, methods: ['smp-s', 'smp-l', 'movement'] },
];

export const SMP_PRESETS: Readonly<Record<PresetName, SmpPreset>> = {
  // a smoke test of the claim cells (one seed, 60 steps): minutes, far too short for the claims
  quick: { tasks: ['glue_sst2'], keeps: [0.8, 0.1, 0.03], methods: PRUNING, cells: CLAIM_CELLS, seeds: [0], distil: false, steps: 60, batchSize: 16, maxLength: 64, maxTrain: 1000, maxEval: 200, weightLr: 1e-4, head: 'first', lambdaR: 400, lambdaScale: 'per-score' },
  // about an hour on 2 idle cores (3 seeds × 8 runs of 400 steps): the claims on SST-2
  default: { tasks: ['glue_sst2'], keeps: [0.8, 0.1, 0.03], methods: PRUNING, cells: CLAIM_CELLS, seeds: [0, 1, 2], distil: false, steps: 400, batchSize: 16, maxLength: 64, maxTrain: 8000, maxEval: 872, weightLr: 1e-4, head: 'first', lambdaR: 400, lambdaScale: 'per-score' },
  // every method at every keep fraction on five tasks, with distillation (many hours on 2 cores)
  full: { tasks: ['glue_sst2', 'glue_mrpc', 'glue_rte', 'glue_cola', 'financial_phrasebank'], keeps: [0.8, 0.5, 0.1, 0.03], methods: PRUNING, seeds: [0, 1, 2], distil: true, steps: 1000, batchSize: 32, maxLength: 128, maxTrain: 8000, maxEval: 1000, weightLr: 1e-4, head: 'first', lambdaR: 400, lambdaScale: 'per-score' },
};

interface RunRow {
  task: string;
  method: string;
  keep: number;
  seed: number;
  main: number;
  accuracy: number;
  mcc: number;
  f1: number;
  macroF1: number;
  seconds: number;
  maskBytes: number | null;
  modelBytes: number;
  out: string;
}

const fmtKeep = (k: number): string => `${Math.round(k * 1000) / 10}%`;

/** The registry's name of each method the suite runs (dense fine-tuning through the label-word head is full-ft-mlm). */
const REGISTRY_NAME: Readonly<Record<PruneMethod, string>> = { 'smp-l': 'smp-l', 'smp-s': 'smp-s', movement: 'movement', 'magnitude-ft': 'magnitude-ft', 'full-ft': 'full-ft-mlm' };

/**
 * A run's options by the registry method's schema keys: the preset's settings, the keep fraction as
 * --sparsity (1 − keep, rounded like mask-smp's keepFromSparsity so that the method trains with
 * exactly this keep fraction) and λ_R only for the two SMP methods (the others have no regulariser).
 */
export function smpMethodOptions(preset: SmpPreset, method: PruneMethod, keep: number, seed: number): Record<string, unknown> {
  return {
    steps: preset.steps, batchSize: preset.batchSize, maxLength: preset.maxLength, maxTrain: preset.maxTrain, maxEval: preset.maxEval,
    weightLr: preset.weightLr, head: preset.head, seed, checkpointEvery: 25,
    ...(preset.evalSplit ? { evalSplit: preset.evalSplit } : {}),
    ...(method === 'full-ft' ? {} : { sparsity: Number((1 - keep).toPrecision(12)) }),
    ...(method === 'smp-l' || method === 'smp-s' ? { lambdaR: preset.lambdaR, lambdaScale: preset.lambdaScale } : {}),
  };
}

interface StoredMetrics {
  score: number;
  scores: { accuracy: number; mcc: number; f1: number; macroF1: number };
}

/** A finished run's row from its artifact folder (manifest metrics, training report), or null while it has no manifest. */
function rowFrom(task: string, method: string, keep: number, seed: number, out: string): RunRow | null {
  if (!fs.existsSync(path.join(out, 'prunekit', 'manifest.json'))) return null;
  const m = readManifest(out);
  const metrics = m.metrics as unknown as StoredMetrics;
  const training = JSON.parse(fs.readFileSync(path.join(out, 'prunekit', 'training.json'), 'utf8')) as { seconds: number };
  // the masks' size bit-packed (one bit per weight, each matrix to whole bytes): what a task costs to store
  const maskBytes = m.files.masks && m.sparsity ? m.sparsity.perMatrix.reduce((a, x) => a + Math.ceil(x.numel / 8), 0) : null;
  const { accuracy, mcc, f1, macroF1 } = metrics.scores;
  return { task, method, keep, seed, main: metrics.score, accuracy, mcc, f1, macroF1, seconds: training.seconds, maskBytes, modelBytes: 4 * m.parameters.source, out };
}

/**
 * Median seconds of `reps` forward passes of a fixed batch: `seq` tokens (fewer where the model's
 * positions end sooner) of ids 5..1004 (fewer where the vocabulary is smaller).
 */
function forwardSeconds(model: EncoderModel, batch: number, seqWanted: number, reps: number): number {
  const { vocabSize, maxPositionEmbeddings, modelType, padTokenId } = model.config;
  const seq = Math.min(seqWanted, maxPositionEmbeddings - (modelType === 'bert' ? 0 : padTokenId + 1));
  const ids = tf.tensor2d(Int32Array.from({ length: batch * seq }, (_, i) => 5 + ((i * 7919) % Math.min(1000, vocabSize - 5))), [batch, seq], 'int32');
  const att = tf.ones([batch, seq], 'int32') as tf.Tensor2D;
  const body = new (model.constructor as typeof import('@prunekit/tensor-core').EncoderModel)({ ...model.config, head: 'base' }, model.params, model.prefix);
  const times: number[] = [];
  for (let r = 0; r < reps + 2; r++) {
    const t0 = performance.now();
    const h = tf.tidy(() => body.forward({ inputIds: ids, attentionMask: att }).lastHiddenState);
    h.dataSync();
    h.dispose();
    if (r >= 2) times.push((performance.now() - t0) / 1000);
  }
  tf.dispose([ids, att]);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

interface CompactionRow {
  task: string;
  keep: number;
  variant: string;
  parameters: number;
  bytes: number;
  sizeRatio: number;
  droppedNonzero: number;
  seconds: number;
  speedup: number;
  score: number | null;
}

/** Score versus keep fraction (log scale), one panel per task; dense fine-tuning is a dashed rule. */
export function keepChart(rows: readonly RunRow[]): VegaLiteSpec {
  const groups = new Map<string, { task: string; method: string; keep: number; scores: number[] }>();
  for (const r of rows) {
    const key = `${r.task}\0${r.method}\0${r.method === 'full-ft' ? 1 : r.keep}`;
    const g = groups.get(key) ?? { task: `${r.task} (${TASKS[r.task]?.metric ?? ''})`, method: r.method === 'full-ft' ? 'dense (full-ft)' : r.method, keep: r.method === 'full-ft' ? 1 : r.keep, scores: [] };
    g.scores.push(r.main);
    groups.set(key, g);
  }
  const values = [...groups.values()].map((g) => ({ task: g.task, method: g.method, keep: g.keep, score: 100 * mean(g.scores), seeds: g.scores.length, dense: g.method === 'dense (full-ft)' }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { column: { field: 'task', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 300,
      height: 220,
      layer: [
        {
          transform: [{ filter: '!datum.dense' }],
          mark: { type: 'line', point: true, tooltip: true },
          encoding: {
            x: { field: 'keep', type: 'quantitative', title: 'keep fraction (log)', scale: { type: 'log' }, axis: { format: '.1%' } },
            y: { field: 'score', type: 'quantitative', title: 'score (×100, mean over seeds)', scale: { zero: false } },
            color: { field: 'method', type: 'nominal', legend: { orient: 'bottom', columns: 5 } },
          },
        },
        {
          transform: [{ filter: 'datum.dense' }],
          mark: { type: 'rule', strokeDash: [4, 3], tooltip: true },
          encoding: { y: { field: 'score', type: 'quantitative' }, color: { field: 'method', type: 'nominal' } },
        },
      ],
    },
  };
}

export interface SmpVerdict {
  task: string;
  claim: string;
  /** null: not tested (a cell is missing) */
  held: boolean | null;
  detail: string;
}

/** A task is learned when some method's mean beats the majority class by more than this (score units). */
export const LEARNED_MARGIN = 0.02;

/**
 * The SMP paper's claims on the finished runs, per task: SMP-L at 80% keep ≥ dense fine-tuning;
 * SMP-S ≥ SMP-L ≥ movement at 10% and at 3% keep. A claim holds when the mean over seeds does (the
 * detail gives mean ± sd, so a difference inside the spread can be read as such). Tasks on which
 * no method's mean beats the majority class by more than LEARNED_MARGIN are returned in `unlearned`
 * and get no verdicts: a claim about methods that learned nothing says nothing.
 */
export function smpVerdicts(rows: readonly { task: string; method: string; keep: number; main: number }[], majority: ReadonlyMap<string, number>): { verdicts: SmpVerdict[]; unlearned: string[] } {
  const verdicts: SmpVerdict[] = [];
  const unlearned: string[] = [];
  for (const task of [...new Set(rows.map((r) => r.task))]) {
    const of = (method: string, keep: number): number[] => rows.filter((r) => r.task === task && r.method === method && (method === 'full-ft' || r.keep === keep)).map((r) => r.main);
    const best = Math.max(...[...new Set(rows.filter((r) => r.task === task).map((r) => `${r.method}|${r.keep}`))].map((k) => {
      const [m, kp] = k.split('|') as [string, string];
      return mean(of(m, Number(kp)));
    }));
    const maj = majority.get(task);
    if (maj !== undefined && !(best > maj + LEARNED_MARGIN)) {
      unlearned.push(task);
      continue;
    }
    const cmp = (claim: string, chain: [string, number[]][]): void => {
      if (chain.some(([, v]) => v.length === 0)) {
        verdicts.push({ task, claim, held: null, detail: `not tested: ${chain.filter(([, v]) => v.length === 0).map(([n]) => n).join(', ')} not run` });
        return;
      }
      const held = chain.every(([, v], i) => i === 0 || mean(chain[i - 1]![1]) >= mean(v));
      verdicts.push({ task, claim, held, detail: chain.map(([n, v]) => `${n} ${pctCell(v)} (n = ${v.length})`).join(held ? ' ≥ ' : ' vs ') });
    };
    cmp('SMP-L at 80% keep ≥ dense fine-tuning', [['SMP-L 80%', of('smp-l', 0.8)], ['dense', of('full-ft', 1)]]);
    for (const k of [0.1, 0.03]) cmp(`SMP-S ≥ SMP-L ≥ movement at ${fmtKeep(k)} keep`, [[`SMP-S`, of('smp-s', k)], ['SMP-L', of('smp-l', k)], ['movement', of('movement', k)]]);
  }
  return { verdicts, unlearned };
}

interface Reference {
  /** score of always predicting the most frequent class of the evaluation subset */
  majority: number;
  /** score of the pretrained model's label-word head, no training and no pruning */
  zeroShot: number;
}

/** What a run must beat: the majority class, and the untrained label-word head (SMP starts there). */
async function referenceScores(modelDir: string, datasets: string, taskName: string, preset: SmpPreset): Promise<Reference> {
  const task = resolveTask(taskName);
  const tokenizer = await Tokenizer.fromPretrained(modelDir);
  const labels = await resolveLabelWords(tokenizer, task);
  const examples = await loadExamples(path.join(datasets, task.name, task.evalFile), task, { max: preset.maxEval, seed: 0 });
  const encoded = await encodeExamples(tokenizer, task, examples, { variant: preset.head, maxLength: preset.maxLength });
  const gold = Int32Array.from(examples, (e) => e.label);
  const counts = task.labels.map((_, c) => gold.filter((g) => g === c).length);
  const top = counts.indexOf(Math.max(...counts));
  const majority = mainScore(classificationScores(new Int32Array(gold.length).fill(top), gold, task.labels.length), task.metric);
  const model = loadModel(modelDir);
  try {
    const { scores } = evaluate(model, encoded, labels.ids, task.labels.length, undefined, 64, tokenizer.specialIds.pad ?? 0);
    return { majority, zeroShot: mainScore(scores, task.metric) };
  } finally {
    model.dispose();
  }
}

async function runSmpSuite(ctx: BenchRunContext, presetName: PresetName, preset: SmpPreset): Promise<BenchOutcome> {
  const outcome: BenchOutcome = { results: [], models: [], failures: [], notes: [] };
  await initBackend({ warn: (l) => { ctx.io.err(`${l}\n`); } });
  const root = path.join(ctx.outDir, 'smp');
  const rows: RunRow[] = [];
  const compaction: CompactionRow[] = [];
  const notCompacted: { task: string; keep: number; variant: string; error: string }[] = [];
  const references = new Map<string, Reference>();
  for (const modelDir of ctx.models) {
    const t0 = performance.now();
    const base = loadModel(modelDir);
    const fp = modelFingerprint(base);
    base.dispose();
    const modelName = path.basename(path.resolve(modelDir));
    for (const task of preset.tasks) {
      if (!references.has(task)) references.set(task, await referenceScores(modelDir, ctx.dataRoot, task, preset));
    }
    const runs: { task: string; method: PruneMethod; keep: number; seed: number; teacher?: string; label: string }[] = [];
    for (const task of preset.tasks) {
      // cell by cell, every seed of a cell before the next cell, so that a run stopped early has
      // complete mean ± sd for the cells it finished (the dense cells come first: distillation needs them)
      for (const seed of preset.seeds) runs.push({ task, method: 'full-ft', keep: 1, seed, label: 'full-ft' });
      for (const { keep, methods } of preset.cells ?? preset.keeps.map((k) => ({ keep: k, methods: preset.methods }))) {
        for (const method of methods) for (const seed of preset.seeds) runs.push({ task, method, keep, seed, label: method });
        if (preset.distil) for (const seed of preset.seeds) runs.push({ task, method: 'smp-s', keep, seed, teacher: 'full-ft', label: 'smp-s+kd' });
      }
    }
    let i = 0;
    for (const r of runs) {
      i++;
      const out = path.join(root, 'runs', modelName, r.task, `${r.label}-keep${r.keep}-seed${r.seed}`);
      const row = await runOrReuse(ctx, outcome, {
        key: path.relative(ctx.outDir, out),
        read: () => rowFrom(r.task, r.label, r.keep, r.seed, out),
        announce: `prunekit-bench smp [${i}/${runs.length}] ${r.task} ${r.label} keep ${fmtKeep(r.keep)} seed ${r.seed}`,
        failure: { model: `${modelName} ${r.label} keep ${r.keep} seed ${r.seed}`, task: r.task },
        execute: async () => {
          const teacher = r.teacher ? path.join(root, 'runs', modelName, r.task, `full-ft-keep1-seed${r.seed}`) : undefined;
          const workDir = path.join(root, 'work', modelName, r.task, path.basename(out));
          const t0 = performance.now();
          const manifest = await runMethod(ctx, {
            method: REGISTRY_NAME[r.method], model: modelDir, out, workDir,
            options: smpMethodOptions(preset, r.method, r.keep, r.seed),
            data: { dataRoot: ctx.dataRoot, task: r.task, ...(teacher ? { teacher } : {}) },
            // the method's progress lines stay out of the suite's log; its warnings (e.g. the regulariser check's) do not
            log: (line) => { if (line.startsWith('warning: ')) ctx.io.err(`  ${line}\n`); },
          });
          // the checkpoints served only this run (a finished run is read back from its folder)
          fs.rmSync(workDir, { recursive: true, force: true });
          const met = manifest.metrics as { metric: string; score: number };
          ctx.io.err(`  ${met.metric} ${(100 * met.score).toFixed(2)} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
        },
      });
      if (row) rows.push(row);
    }
    if (!summarising(ctx)) continue;
    // row compaction of SMP-S at the two lowest keep fractions (seed of the first run)
    const low = [...preset.keeps].sort((a, b) => a - b).slice(0, 2);
    const model = loadModel(modelDir);
    try {
      const denseSec = forwardSeconds(model, 16, 64, 5);
      for (const task of preset.tasks) {
        for (const keep of low) {
          const src = rows.find((r) => r.task === task && r.method === 'smp-s' && r.keep === keep);
          if (!src) continue;
          const { masks } = MaskSet.load(path.join(src.out, MASKS_FILE));
          for (const [variant, minKept] of [['exact (all-zero rows and columns removed)', 1], ['rows/columns with < 10 kept weights removed', 10]] as const) {
            let small: EncoderModel | null = null;
            try {
              // a plan can be impossible (e.g. a layer that would lose every head); that is a finding, not a failed run
              const plan = planFromMasks(model, masks, { minKept });
              small = compact(model, plan);
              const sec = forwardSeconds(small, 16, 64, 5);
              const params = small.numParameters();
              compaction.push({ task, keep, variant, parameters: params, bytes: params * 4, sizeRatio: params / model.numParameters(), droppedNonzero: plan.report.droppedNonzero, seconds: sec, speedup: denseSec / sec, score: minKept === 1 ? src.main : null });
            } catch (e) {
              notCompacted.push({ task, keep, variant, error: e instanceof Error ? e.message : String(e) });
            } finally {
              small?.dispose();
            }
          }
        }
      }
      compaction.unshift({ task: '-', keep: 1, variant: 'dense', parameters: model.numParameters(), bytes: model.numParameters() * 4, sizeRatio: 1, droppedNonzero: 0, seconds: denseSec, speedup: 1, score: null });
    } finally {
      model.dispose();
    }

    // results in the bench's layout: one "model" per method and keep fraction, mean over seeds
    const labels = [...new Set(rows.map((r) => `${r.method}|${r.keep}`))];
    for (const key of labels) {
      const [method, keepS] = key.split('|') as [string, string];
      const keep = Number(keepS);
      for (const task of preset.tasks) {
        const rs = rows.filter((r) => r.method === method && r.keep === keep && r.task === task);
        if (!rs.length) continue;
        const spec = TASKS[task]!;
        outcome.results.push(seedsTaskResult({
          task: `${task}-smp`,
          type: spec.input === 'pair' ? 'pair-classification' : 'classification',
          domain: task === 'financial_phrasebank' ? 'finance' : 'general',
          split: spec.evalFile.replace('.jsonl', ''),
          mainMetric: spec.metric,
          modelName: method === 'full-ft' ? `${modelName} dense` : `${modelName} ${method} ${fmtKeep(keep)}`,
          fingerprint: fp,
          runs: rs,
          metrics: { accuracy: mean(rs.map((r) => r.accuracy)), mcc: mean(rs.map((r) => r.mcc)), f1: mean(rs.map((r) => r.f1)), macro_f1: mean(rs.map((r) => r.macroF1)) },
        }));
      }
    }
    outcome.models.push({ path: modelDir, name: modelName, fingerprint: fp, wallTime: (performance.now() - t0) / 1000 });
  }
  if (!summarising(ctx)) return outcome;

  // table (score vs keep fraction) and chart
  const methods = [...new Set(rows.map((r) => r.method))];
  const keeps = [...new Set(rows.filter((r) => r.method !== 'full-ft').map((r) => r.keep))].sort((a, b) => b - a);
  const lines = [`# SMP suite (${presetName} preset)`, ''];
  const tasks = [...new Set(rows.map((r) => r.task))];
  for (const task of tasks) {
    const spec = TASKS[task]!;
    lines.push(`## ${task} (${spec.metric}${spec.metric === 'accuracy' ? '' : ', accuracy in brackets'}, ×100, mean${preset.seeds.length > 1 ? ' ± sd' : ''} over ${preset.seeds.length} seed${preset.seeds.length > 1 ? 's' : ''})`, '');
    const dense = rows.filter((r) => r.task === task && r.method === 'full-ft');
    lines.push(`Dense fine-tuning: ${pctCell(dense.map((r) => r.main))}${spec.metric === 'accuracy' ? '' : ` (${pctCell(dense.map((r) => r.accuracy))})`}`, '');
    const ref = references.get(task);
    if (ref) lines.push(`References (first model): majority class ${(100 * ref.majority).toFixed(1)}; the pretrained label-word head without training or pruning (where SMP starts) ${(100 * ref.zeroShot).toFixed(1)}.`, '');
    lines.push(`| method | ${keeps.map(fmtKeep).join(' | ')} |`, `|---|${keeps.map(() => '---:|').join('')}`);
    for (const m of methods.filter((x) => x !== 'full-ft')) {
      lines.push(`| ${m} | ${keeps.map((k) => {
        const rs = rows.filter((r) => r.task === task && r.method === m && r.keep === k);
        return `${pctCell(rs.map((r) => r.main))}${spec.metric === 'accuracy' || rs.length === 0 ? '' : ` (${pctCell(rs.map((r) => r.accuracy))})`}`;
      }).join(' | ')} |`);
    }
    lines.push('');
  }
  if (compaction.length) {
    lines.push('## Row-compacted SMP-S models (forward of 16 × 64 tokens, median of 5, this machine)', '', '| task | keep | variant | parameters | MiB | size | nonzero weights dropped | ms | speedup | score |', '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of compaction) lines.push(`| ${c.task} | ${fmtKeep(c.keep)} | ${c.variant} | ${c.parameters} | ${(c.bytes / 2 ** 20).toFixed(2)} | ${(100 * c.sizeRatio).toFixed(1)}% | ${c.droppedNonzero} | ${(1000 * c.seconds).toFixed(1)} | ${c.speedup.toFixed(2)}× | ${c.score === null ? '' : (100 * c.score).toFixed(1)} |`);
    lines.push('');
    for (const n of notCompacted) lines.push(`Not compacted: ${n.task} at keep ${fmtKeep(n.keep)}, ${n.variant}: ${n.error}.`, '');
  }
  const { verdicts, unlearned } = smpVerdicts(rows, new Map([...references].map(([t, r]) => [t, r.majority])));
  lines.push('## Verdicts on the paper\'s claims (mean over seeds; ± sd)', '');
  if (verdicts.length) {
    lines.push('| task | claim | verdict | numbers (×100) |', '|---|---|---|---|');
    for (const v of verdicts) lines.push(`| ${v.task} | ${v.claim} | ${v.held === null ? 'not tested' : v.held ? 'held' : 'not held'} | ${v.detail} |`);
    lines.push('');
  }
  if (unlearned.length) lines.push(`Not learned in this budget (no method's mean beats the majority class by more than ${100 * LEARNED_MARGIN} points; no verdicts drawn): ${unlearned.join(', ')}.`, '');
  const maskRow = rows.find((r) => r.maskBytes !== null);
  if (maskRow) lines.push(`Masks per task: ${maskRow.maskBytes} bytes (${((100 * maskRow.maskBytes!) / maskRow.modelBytes).toFixed(2)}% of the ${(maskRow.modelBytes / 2 ** 20).toFixed(1)} MiB fp32 model).`, '');
  const p = preset;
  const setup = `${p.steps} steps of batch ${p.batchSize} (inputs ≤ ${p.maxLength} tokens), ${p.head === 'first' ? '[CLS] label-word' : 'template [MASK] label-word'} head, score lr 2e-2, weight lr ${p.weightLr} (movement, magnitude-ft, full-ft), λ_R ${p.lambdaR} ${p.lambdaScale === 'per-score' ? `scaled per score to the authors' BERT-base (applied λ = λ_R·N/${BERT_BASE_SCORES})` : 'on the mean over all scores (the paper\'s)'}, SMP-S temperature by the authors' rule (4 at keep ≥ 70%, else 1), cubic schedule with the last 30% of steps at the final keep fraction; training sets subsampled to ${p.maxTrain} and evaluation sets to ${p.maxEval} examples by a permutation seeded "subsample:0" (file order kept), the same subset for every method and seed`;
  lines.push(`Setup: ${setup}.`, '');
  writeFileAtomic(path.join(root, 'table.md'), `${lines.join('\n')}\n`);
  const chart = keepChart(rows);
  writeFileAtomic(path.join(root, 'chart.svg'), await chartSvg(chart));
  (outcome.sections ??= []).push({ title: `SMP: score versus keep fraction (${presetName} preset)`, blocks: [], charts: [{ title: 'Score versus keep fraction', spec: chart }] });
  writeJsonAtomic(path.join(root, 'runs.json'), { preset: presetName, settings: preset, references: Object.fromEntries(references), rows, compaction, notCompacted });
  ctx.io.err(`${lines.join('\n')}\n`);
  outcome.notes.push(
    `smp suite, ${presetName} preset${ctx.quick ? ' (--quick)' : ''}: ${setup}.`,
    `Table of score vs keep fraction: ${path.join(root, 'table.md')}; chart: ${path.join(root, 'chart.svg')}; every run is an artifact folder (the model with its masks applied, prunekit/manifest.json with the metrics, prunekit/masks.safetensors, prunekit/training.json with the training log and the regulariser check) under ${path.join(root, 'runs')} (reused when the suite is run again).`,
    'Model names in the tables below read "<model> <method> <keep fraction>"; "dense" is full fine-tuning. Scores are means over seeds.',
    ...verdicts.map((v) => `Claim on ${v.task}, ${v.claim}: ${v.held === null ? 'not tested' : v.held ? 'held' : 'not held'} (${v.detail}).`),
    ...(unlearned.length ? [`Tasks no method learned in this budget (reported separately, no verdicts): ${unlearned.join(', ')}.`] : []),
    ...notCompacted.map((n) => `SMP-S row compaction not possible for ${n.task} at keep ${fmtKeep(n.keep)} (${n.variant}): ${n.error}.`),
  );
  return outcome;
}

/** The smp kind; tests pass miniature presets. */
export function makeSmpKind(options: PresetKindOptions<SmpPreset> = {}): SuiteKind {
  return presetKind({
    name: 'smp',
    description: 'SMP-L / SMP-S vs movement, magnitude-ft and dense fine-tuning across keep fractions (masked-LM models with the label-word head)',
    presets: options.presets ?? SMP_PRESETS,
    run: runSmpSuite,
    suites: [
      ['smp', 'default', 'the SMP claims on glue_sst2: dense, SMP-L at 80% keep, SMP-S / SMP-L / movement at 10% and 3%, 400 steps, 3 seeds (about an hour on 2 idle cores; --quick: 60 steps, one seed)'],
      ['smp-full', 'full', 'SMP vs baselines on five tasks at keep 80/50/10/3%, 3 seeds, with distillation (several hours on 2 cores)'],
    ],
  });
}

export const smpKind: SuiteKind = makeSmpKind();
