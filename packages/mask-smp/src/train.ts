// The training loop shared by SMP and its baselines, so that every method sees the same data order,
// schedule, head and evaluation:
//   smp-l / smp-s  weights frozen; scores S (init 0) trained with AdamW through the straight-through
//                  Top-v mask; loss = task (CE, or KD) + λ_R · (s_t/s_f) · mean σ(S).
//   movement       scores S and all weights trained (Sanh et al.): the same STE with local Top-v,
//                  no regulariser.
//   magnitude-ft   all weights trained; mask = Top-v of |W| per matrix, recomputed every step.
//   full-ft        dense fine-tuning of all weights (no mask).
// The pruning methods follow the cubic keep schedule from 1 to v_f with a final hold. The loop,
// batch order, AdamW groups and checkpoints (exact resume) are tensor-core's trainer.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import {
  BatchOrder, MaskSet, createRng, variableGrads, allocateKeep, topVMask, crossEntropyLoss, isNoDecayParam, kdLoss, linearWarmupSchedule, constantSchedule, maskedView,
  prunableParameters, train, type EncoderModel, type PrunablePolicy, type TrainerState, type VariableGroup, type WeightView,
} from '@prunekit/tensor-core';
import { disposeBatch, makeBatch, type EncodedExample, type TensorBatch } from './data.js';
import { labelWordLogits } from './head.js';
import { classificationScores, mainScore, type Scores } from './metrics.js';
import { keepSchedule, regulariserWeight } from './schedule.js';
import { steMaskedWeight } from './ste.js';
import type { Metric } from './tasks.js';

export type LambdaScale = 'paper' | 'per-score';
export const LAMBDA_SCALES: readonly LambdaScale[] = ['paper', 'per-score'];

/** prunable scores of the authors' BERT-base: 12 layers × (4·768² + 2·768·3072) */
export const BERT_BASE_SCORES = 12 * (4 * 768 * 768 + 2 * 768 * 3072);

/** SMP-S temperature of the authors' run.sh: p = 4 when the final keep fraction is ≥ 0.7, else 1. */
export function authorsTemperature(keep: number): number {
  return keep >= 0.7 ? 4 : 1;
}

/** λ_R as applied to mean σ(S) over `numScores` scores (see TrainConfig.lambdaScale). */
export function effectiveLambda(lambdaR: number, scale: LambdaScale, numScores: number): number {
  return scale === 'paper' ? lambdaR : (lambdaR * numScores) / BERT_BASE_SCORES;
}

export type PruneMethod = 'smp-l' | 'smp-s' | 'movement' | 'magnitude-ft' | 'full-ft';
export const PRUNE_METHODS: readonly PruneMethod[] = ['smp-l', 'smp-s', 'movement', 'magnitude-ft', 'full-ft'];

export interface TrainConfig {
  method: PruneMethod;
  /** final keep fraction v_f (fraction of prunable weights kept); full-ft ignores it */
  keep: number;
  /** total optimizer steps */
  steps: number;
  /** default 32 */
  batchSize?: number;
  /** steps at the end that hold v_f (default round(0.3 · steps)) */
  finalHold?: number;
  /** AdamW learning rate of the scores (default 2e-2, SMP's) */
  scoreLr?: number;
  /** AdamW learning rate of the weights for movement / magnitude-ft / full-ft (default 3e-5) */
  weightLr?: number;
  /** decoupled weight decay of the weights (default 0.01; scores get none) */
  weightDecay?: number;
  /** λ_R (default 400; SMP methods only) */
  lambdaR?: number;
  /**
   * How λ_R is applied (default 'paper'). 'paper': λ_R multiplies R(S) = mean σ(S) over all N
   * scores, so each score feels a push λ_R·σ'(S)/N that grows as the model shrinks (3.2e-5 on a
   * 3.15M-score model against 1.2e-6 in the authors' BERT-base). 'per-score': λ_R is scaled by
   * N / N_BERT-base (N_BERT-base = 84,934,656, see BERT_BASE_SCORES), so the per-score push
   * λ_R·σ'(S)/N_BERT-base is the authors' whatever the model size.
   */
  lambdaScale?: LambdaScale;
  /** SMP-S temperature p in R(S) = mean σ(S/p) (default 'auto': the authors' rule, 4 at keep ≥ 0.7, else 1) */
  temperature?: number | 'auto';
  /** tie-breaking noise: scores start uniform in ±scoreInitNoise, seeded (default 1e-6; 0 for the authors' constant 0) */
  scoreInitNoise?: number;
  /** learning-rate schedule: 'linear' decay to 0 (default, HF Trainer's) or 'constant' */
  lrSchedule?: 'linear' | 'constant';
  /** dropout while training (default true) */
  dropout?: boolean;
  /** seed of the data order and dropout (default 0) */
  seed?: number;
  /** distillation (used when the data has teacher logits): T (default 2) and α (default 0.5) */
  kdTemperature?: number;
  kdAlpha?: number;
  /** evaluate every k steps (default 0: only at the end) */
  evalEvery?: number;
  /** with workDir: write a checkpoint every k steps and after the last step (default 0: only after the last) */
  checkpointEvery?: number;
  workDir?: string;
  /** prunable matrices (default: Q, K, V, attention output, FFN up, FFN down of every layer) */
  policy?: PrunablePolicy;
}

export interface TrainData {
  train: readonly EncodedExample[];
  eval: readonly EncodedExample[];
  numClasses: number;
  /** token id of each class's label word */
  labelIds: readonly number[];
  metric: Metric;
  /** teacher logits [train.length, numClasses] row-major: turns on distillation */
  teacherLogits?: Float32Array;
  padId?: number;
  /** identifies the data in checkpoints (a run resumes only on the same data) */
  fingerprint?: string;
}

export interface StepLog {
  step: number;
  loss: number;
  /** λ_R·(s_t/s_f)·R(S) part of the loss (0 for the baselines) */
  reg: number;
  /** scheduled keep fraction v_t */
  keep: number;
  /** kept fraction of the prunable weights at this step */
  kept: number;
  /** fraction of the prunable weights whose mask bit differs from the previous step's (0 at the first step run) */
  flipped: number;
}

export interface EvalLog {
  step: number;
  keep: number;
  scores: Scores;
  main: number;
}

export interface TrainResult {
  /** final masks (v_f; null for full-ft) */
  masks: MaskSet | null;
  /** evaluation with the final masks (and weights) */
  final: EvalLog;
  history: StepLog[];
  evals: EvalLog[];
  /** trained weights (movement, magnitude-ft, full-ft), by HF name; the caller disposes them */
  weights: Map<string, tf.Tensor> | null;
  /** steps run in this call (less than config.steps after a resume) */
  stepsRun: number;
  seconds: number;
  /** SMP-L / SMP-S only (null for the others) */
  regulariserCheck: RegulariserCheck | null;
}

/**
 * Whether the regulariser out-pushes the task on many scores: measured once, before training, on
 * the first `batches` batches with all weights kept and no dropout (a few extra forward/backward
 * passes). A score whose mean task-gradient magnitude is below the regulariser's per-score push
 * λ·σ'(0)/N = λ/(4N) is driven down by the regulariser whatever the task wants, so its rank
 * follows gradient size, not direction. When more scores than the fraction to prune are in that
 * group, the masks are largely chosen by the regulariser: `warning` says so.
 */
export interface RegulariserCheck {
  /** per-score push of the regulariser at the target: λ_eff·σ'(0)/N */
  push: number;
  /** λ_R as applied to mean σ(S) (after lambdaScale) */
  lambdaEffective: number;
  /** share of the scores whose mean |∂L_task/∂S| over the first batches is below `push` */
  belowShare: number;
  /** 1 − v_f */
  pruneFraction: number;
  batches: number;
  warning: string | null;
}

export interface TrainHooks {
  onStep?: (log: StepLog, total: number) => void;
  onEval?: (log: EvalLog) => void;
  onCheckpoint?: (step: number, file: string) => void;
  onWarning?: (message: string) => void;
}

interface Resolved {
  method: PruneMethod;
  keep: number;
  steps: number;
  batchSize: number;
  finalHold: number;
  scoreLr: number;
  weightLr: number;
  weightDecay: number;
  lambdaR: number;
  lambdaScale: LambdaScale;
  temperature: number;
  scoreInitNoise: number;
  lrSchedule: 'linear' | 'constant';
  dropout: boolean;
  seed: number;
  kdTemperature: number;
  kdAlpha: number;
  evalEvery: number;
  checkpointEvery: number;
}

function resolveConfig(c: TrainConfig): Resolved {
  if (!PRUNE_METHODS.includes(c.method)) throw new Error(`unknown method "${c.method}"; expected ${PRUNE_METHODS.join(', ')}`);
  const keep = c.method === 'full-ft' ? 1 : c.keep;
  if (!(keep > 0 && keep <= 1)) throw new Error(`keep fraction must be in (0, 1] (got ${c.keep})`);
  if (!(Number.isInteger(c.steps) && c.steps >= 1)) throw new Error(`steps must be a positive integer (got ${c.steps})`);
  const finalHold = c.finalHold ?? Math.round(0.3 * c.steps);
  if (!(Number.isInteger(finalHold) && finalHold >= 0 && finalHold < c.steps)) throw new Error(`finalHold must be an integer in [0, steps) (got ${finalHold})`);
  const r: Resolved = {
    method: c.method, keep, steps: c.steps, batchSize: c.batchSize ?? 32, finalHold,
    scoreLr: c.scoreLr ?? 2e-2, weightLr: c.weightLr ?? 3e-5, weightDecay: c.weightDecay ?? 0.01,
    lambdaR: c.lambdaR ?? 400, lambdaScale: c.lambdaScale ?? 'paper',
    temperature: c.temperature === undefined || c.temperature === 'auto' ? authorsTemperature(keep) : c.temperature,
    scoreInitNoise: c.scoreInitNoise ?? 1e-6, lrSchedule: c.lrSchedule ?? 'linear',
    dropout: c.dropout ?? true, seed: c.seed ?? 0, kdTemperature: c.kdTemperature ?? 2, kdAlpha: c.kdAlpha ?? 0.5,
    evalEvery: c.evalEvery ?? 0, checkpointEvery: c.checkpointEvery ?? 0,
  };
  if (!(Number.isInteger(r.batchSize) && r.batchSize >= 1)) throw new Error(`batchSize must be a positive integer (got ${r.batchSize})`);
  if (!(r.temperature > 0)) throw new Error(`temperature p must be > 0 (got ${r.temperature})`);
  if (!LAMBDA_SCALES.includes(r.lambdaScale)) throw new Error(`lambdaScale must be one of ${LAMBDA_SCALES.join(', ')} (got "${r.lambdaScale as string}")`);
  if (!(r.scoreInitNoise >= 0)) throw new Error(`scoreInitNoise must be ≥ 0 (got ${r.scoreInitNoise})`);
  if (!(r.lambdaR >= 0)) throw new Error(`lambdaR must be ≥ 0 (got ${r.lambdaR})`);
  return r;
}

const usesScores = (m: PruneMethod): boolean => m === 'smp-l' || m === 'smp-s' || m === 'movement';
const trainsWeights = (m: PruneMethod): boolean => m === 'movement' || m === 'magnitude-ft' || m === 'full-ft';

/** Predictions and scores of a model view on encoded examples (eval mode). */
export function evaluate(model: EncoderModel, examples: readonly EncodedExample[], labelIds: readonly number[], numClasses: number, view?: WeightView, batchSize = 64, padId = 0): { pred: Int32Array; scores: Scores } {
  const pred = new Int32Array(examples.length);
  // length-sorted batches: less padding
  const order = [...examples.keys()].sort((a, b) => examples[a]!.ids.length - examples[b]!.ids.length || a - b);
  for (let i = 0; i < order.length; i += batchSize) {
    const idx = order.slice(i, i + batchSize);
    const batch = makeBatch(examples, idx, padId);
    try {
      const logits = tf.tidy(() => tf.argMax(labelWordLogits(model, batch, labelIds, view), 1));
      const am = logits.dataSync();
      logits.dispose();
      idx.forEach((e, j) => (pred[e] = am[j]!));
    } finally {
      disposeBatch(batch);
    }
  }
  return { pred, scores: classificationScores(pred, Int32Array.from(examples, (e) => e.label), numClasses) };
}

/** Teacher logits [n, classes] (row-major) of a dense model on encoded examples. */
export function teacherLogits(teacher: EncoderModel, examples: readonly EncodedExample[], labelIds: readonly number[], batchSize = 64, padId = 0): Float32Array {
  const c = labelIds.length;
  const out = new Float32Array(examples.length * c);
  for (let i = 0; i < examples.length; i += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, examples.length - i) }, (_, j) => i + j);
    const batch = makeBatch(examples, idx, padId);
    try {
      const l = tf.tidy(() => labelWordLogits(teacher, batch, labelIds));
      out.set(l.dataSync(), i * c);
      l.dispose();
    } finally {
      disposeBatch(batch);
    }
  }
  return out;
}

function configFingerprint(r: Resolved, model: EncoderModel, data: TrainData, policyNames: string[]): string {
  const h = createHash('sha256');
  const { evalEvery: _e, checkpointEvery: _c, ...rest } = r;
  h.update(JSON.stringify({ rest, data: data.fingerprint ?? null, n: data.train.length, teacher: data.teacherLogits ? data.teacherLogits.length : 0, labelIds: data.labelIds, policyNames, model: [model.config.modelType, model.config.hiddenSize, model.config.numLayers] }));
  return h.digest('hex').slice(0, 16);
}

/** Trains one method on one task with tensor-core's trainer; see the file comment. */
export async function trainMethod(model: EncoderModel, data: TrainData, config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const t0 = performance.now();
  const r = resolveConfig(config);
  const c = data.numClasses;
  if (data.labelIds.length !== c) throw new Error(`${data.labelIds.length} label words for ${c} classes`);
  if (data.train.length === 0) throw new Error('no training examples');
  if (data.teacherLogits && data.teacherLogits.length !== data.train.length * c) throw new Error(`teacher logits: ${data.teacherLogits.length} values for ${data.train.length} examples × ${c} classes`);
  const padId = data.padId ?? 0;
  const prunable = r.method === 'full-ft' ? [] : prunableParameters(model, config.policy);
  const prunableNames = prunable.map((p) => p.name);
  const schedule = keepSchedule({ finalKeep: r.keep, totalSteps: r.steps, finalHold: r.finalHold });
  const lrSched = r.lrSchedule === 'linear' ? linearWarmupSchedule(0, r.steps) : constantSchedule();

  // variables: scores S (group "scores") and weights W (group "weights"), by HF name
  const scores = new Map<string, tf.Variable>();
  const weights = new Map<string, tf.Variable>();
  // tf.variable keeps its own handle on the initial tensor, which is freed here
  const variableFrom = (init: tf.Tensor): tf.Variable => {
    const v = tf.variable(init, true);
    init.dispose();
    return v;
  };
  // Scores start at 0 (the authors' constant init) plus a tiny seeded uniform noise: after AdamW's
  // first step every score is ±lr, and without the noise Top-v would break the ties by index, taking
  // the last rows of every matrix first. The noise is far below lr, so it only orders equal scores.
  const noiseRng = createRng(`scores:${r.seed}`);
  if (usesScores(r.method)) {
    for (const p of prunable) {
      scores.set(p.name, variableFrom(r.scoreInitNoise > 0 ? tf.tensor(noiseRng.fork(p.name).uniformArray(p.numel, -r.scoreInitNoise, r.scoreInitNoise), p.shape, 'float32') : tf.zeros(p.shape, 'float32')));
    }
  }
  if (trainsWeights(r.method)) for (const [name, t] of model.params) if (t.dtype === 'float32') weights.set(name, variableFrom(t.clone()));
  const groups: VariableGroup[] = [];
  if (scores.size) groups.push({ name: 'scores', variables: scores, lr: r.scoreLr, weightDecay: 0, schedule: lrSched });
  if (weights.size) groups.push({ name: 'weights', variables: weights, lr: r.weightLr, weightDecay: r.weightDecay, noDecay: isNoDecayParam, schedule: lrSched });
  const totalScoreNumel = prunable.reduce((a, p) => a + p.numel, 0);
  const lambdaR = effectiveLambda(r.lambdaR, r.lambdaScale, totalScoreNumel);

  const history: StepLog[] = [];
  const evals: EvalLog[] = [];
  let maskTensors = new Map<string, tf.Tensor>();
  let previousMasks: Map<string, Uint8Array> | null = null;
  /** this step's scheduled keep fraction and mask statistics (set before the step, logged after it) */
  let current = { keep: 1, kept: 1, flipped: 0 };

  const baseOf = (name: string): tf.Tensor => weights.get(name) ?? model.params.get(name)!;
  const trainView: WeightView = (name) => {
    const m = maskTensors.get(name);
    if (!m) return baseOf(name);
    const s = scores.get(name);
    return s ? steMaskedWeight(baseOf(name), s, m) : tf.mul(baseOf(name), m);
  };

  /** masks at keep fraction v from the current scores (or |W|) */
  const computeMasks = (v: number): Map<string, Uint8Array> => {
    const out = new Map<string, Uint8Array>();
    if (r.method === 'full-ft') return out;
    if (v >= 1) {
      for (const p of prunable) out.set(p.name, new Uint8Array(p.numel).fill(1));
      return out;
    }
    const mats = prunable.map((p) => {
      let s: Float32Array;
      if (r.method === 'magnitude-ft') {
        s = Float32Array.from(weights.get(p.name)!.dataSync() as Float32Array, Math.abs);
      } else {
        s = scores.get(p.name)!.dataSync() as Float32Array;
      }
      return { name: p.name, kind: p.kind, numel: p.numel, scores: s };
    });
    const counts = allocateKeep(mats, v, r.method === 'smp-s' ? 'smp-s' : 'smp-l', r.temperature);
    for (const m of mats) out.set(m.name, topVMask(m.scores, counts.get(m.name)!));
    return out;
  };
  /** installs the masks; returns the kept fraction and the fraction of mask bits that changed */
  const setMasks = (masks: Map<string, Uint8Array>): { kept: number; flipped: number } => {
    for (const t of maskTensors.values()) t.dispose();
    maskTensors = new Map();
    let kept = 0;
    let total = 0;
    let flips = 0;
    for (const p of prunable) {
      const m = masks.get(p.name)!;
      const prev = previousMasks?.get(p.name);
      let k = 0;
      for (let i = 0; i < m.length; i++) {
        k += m[i]!;
        if (prev && prev[i] !== m[i]) flips++;
      }
      kept += k;
      total += m.length;
      maskTensors.set(p.name, tf.tensor(Float32Array.from(m), p.shape, 'float32'));
    }
    previousMasks = masks;
    return { kept: total ? kept / total : 1, flipped: total ? flips / total : 0 };
  };

  const evalWith = (step: number, keepNow: number, view: WeightView): EvalLog => {
    const { scores: sc } = evaluate(model, data.eval, data.labelIds, c, view, 64, padId);
    return { step, keep: keepNow, scores: sc, main: mainScore(sc, data.metric) };
  };

  // the logs and the previous step's masks (for `flipped`) travel with the checkpoint
  const state: TrainerState = {
    save: () => ({
      json: { history, evals },
      tensors: new Map([...(previousMasks ?? [])].map(([n, m]) => [n, { dtype: 'U8', shape: [m.length], data: m }])),
    }),
    load: (json, tensors) => {
      const saved = json as { history: StepLog[]; evals: EvalLog[] };
      history.push(...saved.history);
      evals.push(...saved.evals);
      if (tensors.size) previousMasks = new Map([...tensors].map(([n, t]) => [n, t.data as Uint8Array]));
    },
  };

  let regCheck: RegulariserCheck | null = null;
  if (r.method === 'smp-l' || r.method === 'smp-s') {
    regCheck = checkRegulariser(model, data, scores, lambdaR, r, padId);
    if (regCheck.warning) hooks.onWarning?.(regCheck.warning);
  }

  const withTeacher = data.teacherLogits;
  const kd = { temperature: r.kdTemperature, alpha: r.kdAlpha };
  const result = await train<{ batch: TensorBatch; teacher: tf.Tensor2D | null }>({
    groups,
    steps: r.steps,
    // full batches of a seeded permutation per epoch; "train:<seed>" keeps SMP's stream
    order: new BatchOrder({ size: data.train.length, batchSize: r.batchSize, seed: `train:${r.seed}` }),
    loadBatch: (idx) => ({
      batch: makeBatch(data.train, idx, padId),
      teacher: withTeacher ? tf.tensor2d(Float32Array.from({ length: idx.length * c }, (_, j) => withTeacher[idx[Math.floor(j / c)]! * c + (j % c)]!), [idx.length, c]) : null,
    }),
    disposeBatch: ({ batch, teacher }) => {
      disposeBatch(batch);
      teacher?.dispose();
    },
    beforeStep: ({ step }) => {
      const vt = r.method === 'full-ft' ? 1 : schedule(step);
      current = { keep: vt, ...setMasks(computeMasks(vt)) };
    },
    loss: ({ batch, teacher }, { step }) => {
      const logits = labelWordLogits(model, batch, data.labelIds, trainView, r.dropout ? { training: true, dropoutSeed: r.seed * 100_003 + step } : {});
      return teacher ? kdLoss(logits, teacher, batch.labels, kd) : crossEntropyLoss(logits, batch.labels);
    },
    regularisers: r.method === 'smp-l' || r.method === 'smp-s' ? [{
      // λ_R · (s_t / s_f) · R(S), R(S) = mean σ(S) over every score
      name: 'reg',
      term: ({ step }) => {
        const lambda = regulariserWeight(lambdaR, schedule(step), r.keep);
        if (!(lambda > 0)) return null;
        const sums = [...scores.values()].map((s) => tf.sum(tf.sigmoid(s)));
        return tf.mul(tf.div(tf.addN(sums), tf.scalar(totalScoreNumel)), tf.scalar(lambda)) as tf.Scalar;
      },
    }] : [],
    onStep: (l) => {
      const log: StepLog = { step: l.step, loss: l.loss, reg: l.terms.reg ?? 0, ...current };
      history.push(log);
      hooks.onStep?.(log, r.steps);
    },
    evalEvery: r.evalEvery,
    onEval: (done) => {
      // evaluate what the current scores select at the current keep fraction
      const e = evalWith(done, schedule(Math.min(done, r.steps - 1)), (name) => {
        const m = maskTensors.get(name);
        return m ? tf.mul(baseOf(name), m) : baseOf(name);
      });
      evals.push(e);
      hooks.onEval?.(e);
    },
    ...(config.workDir ? {
      checkpoint: {
        dir: config.workDir, every: r.checkpointEvery, fingerprint: configFingerprint(r, model, data, prunableNames), state,
        onWrite: (step: number, file: string) => hooks.onCheckpoint?.(step, file),
      },
    } : {}),
  }).catch((err: unknown) => {
    disposeAll();
    throw err;
  });
  function disposeAll(): void {
    for (const t of maskTensors.values()) t.dispose();
    for (const v of [...scores.values(), ...weights.values()]) v.dispose();
  }

  try {
    // final masks at v_f from the final scores (or weights)
    let masks: MaskSet | null = null;
    if (r.method !== 'full-ft') {
      const fm = computeMasks(r.keep);
      masks = new MaskSet();
      for (const p of prunable) masks.set(p.name, [...p.shape], fm.get(p.name)!);
    }
    const finalTensors = masks ? masks.toTensors() : new Map<string, tf.Tensor>();
    const base: WeightView = (name) => baseOf(name);
    let final: EvalLog;
    try {
      final = evalWith(r.steps, r.keep, maskedView(base, finalTensors));
    } finally {
      for (const t of finalTensors.values()) t.dispose();
    }
    evals.push(final);
    hooks.onEval?.(final);
    let trained: Map<string, tf.Tensor> | null = null;
    if (weights.size) trained = new Map([...weights].map(([nm, v]) => [nm, v.clone()]));
    return { masks, final, history, evals, weights: trained, stepsRun: r.steps - result.resumedFrom, seconds: (performance.now() - t0) / 1000, regulariserCheck: regCheck };
  } finally {
    disposeAll();
  }
}

/** See RegulariserCheck; `scores` are the initial scores (only read). */
function checkRegulariser(model: EncoderModel, data: TrainData, scores: Map<string, tf.Variable>, lambdaEffective: number, r: Resolved, padId: number, batches = 4): RegulariserCheck {
  const n = [...scores.values()].reduce((a, s) => a + s.size, 0);
  const push = (lambdaEffective * 0.25) / n;
  const sumAbs = new Map([...scores].map(([name, s]) => [name, new Float32Array(s.size)]));
  const order = createRng(`regulariser-check:${r.seed}`).permutation(data.train.length);
  const bs = Math.min(r.batchSize, data.train.length);
  const used = Math.max(1, Math.min(batches, Math.floor(data.train.length / bs)));
  for (let b = 0; b < used; b++) {
    const batch = makeBatch(data.train, order.subarray(b * bs, (b + 1) * bs), padId);
    try {
      const ones = new Map([...scores].map(([name, s]) => [name, tf.onesLike(s)]));
      const view: WeightView = (name) => {
        const s = scores.get(name);
        return s ? steMaskedWeight(model.params.get(name)!, s, ones.get(name)!) : model.params.get(name)!;
      };
      const { value, grads } = variableGrads(() => crossEntropyLoss(labelWordLogits(model, batch, data.labelIds, view), batch.labels), scores);
      for (const [name, g] of Object.entries(grads)) {
        const acc = sumAbs.get(name)!;
        const gv = g.dataSync() as Float32Array;
        for (let i = 0; i < acc.length; i++) acc[i]! += Math.abs(gv[i]!);
      }
      tf.dispose([value, ...Object.values(grads), ...ones.values()]);
    } finally {
      disposeBatch(batch);
    }
  }
  let below = 0;
  for (const acc of sumAbs.values()) for (let i = 0; i < acc.length; i++) if (acc[i]! / used < push) below++;
  const belowShare = below / n;
  const pruneFraction = 1 - r.keep;
  const warning = belowShare > pruneFraction
    ? `regulariser stronger than the task on ${(100 * belowShare).toFixed(1)}% of the scores (mean |task gradient| over the first ${used} batches below the per-score push λ·σ'(0)/N = ${push.toExponential(2)}), more than the ${(100 * pruneFraction).toFixed(1)}% to prune: the masks will mostly follow gradient size, not the task (lower lambdaR, or lambdaScale 'per-score')`
    : null;
  return { push, lambdaEffective, belowShare, pruneFraction, batches: used, warning };
}
