// The training loop shared by SMP and its baselines, so that every method sees the same data order,
// schedule, head and evaluation:
//   smp-l / smp-s  weights frozen; scores S (init 0) trained with AdamW through the straight-through
//                  Top-v mask; loss = task (CE, or KD) + λ_R · (s_t/s_f) · mean σ(S).
//   movement       scores S and all weights trained (Sanh et al.): the same STE with local Top-v,
//                  no regulariser.
//   magnitude-ft   all weights trained; mask = Top-v of |W| per matrix, recomputed every step.
//   full-ft        dense fine-tuning of all weights (no mask).
// The pruning methods follow the cubic keep schedule from 1 to v_f with a final hold. Checkpoints
// (scores, weights, optimizer state, logs) make a run resumable with bit-identical results.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import {
  AdamW, MaskSet, SafetensorsFile, createRng, crossEntropyLoss, isNoDecayParam, kdLoss, linearWarmupSchedule,
  constantSchedule, maskedView, prunableParameters, toHost, variableGrads, writeSafetensors,
  type EncoderModel, type HostTensor, type PrunablePolicy, type WeightView, type AdamWState,
} from '@prunekit/tensor-core';
import { allocateKeep } from './allocate.js';
import { disposeBatch, makeBatch, type EncodedExample } from './data.js';
import { labelWordLogits } from './head.js';
import { classificationScores, mainScore, type Scores } from './metrics.js';
import { keepSchedule, regulariserWeight } from './schedule.js';
import { steMaskedWeight } from './ste.js';
import { topVMask } from './topv.js';
import type { Metric } from './tasks.js';

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
  /** SMP-S temperature p in R(S) = mean σ(S/p) (default 1) */
  temperature?: number;
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
  /** write a checkpoint every k steps into workDir (default 0: never) */
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
}

export interface TrainHooks {
  onStep?: (log: StepLog, total: number) => void;
  onEval?: (log: EvalLog) => void;
  onCheckpoint?: (step: number, file: string) => void;
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
  temperature: number;
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
    lambdaR: c.lambdaR ?? 400, temperature: c.temperature ?? 1, lrSchedule: c.lrSchedule ?? 'linear',
    dropout: c.dropout ?? true, seed: c.seed ?? 0, kdTemperature: c.kdTemperature ?? 2, kdAlpha: c.kdAlpha ?? 0.5,
    evalEvery: c.evalEvery ?? 0, checkpointEvery: c.checkpointEvery ?? 0,
  };
  if (!(Number.isInteger(r.batchSize) && r.batchSize >= 1)) throw new Error(`batchSize must be a positive integer (got ${r.batchSize})`);
  if (!(r.temperature > 0)) throw new Error(`temperature p must be > 0 (got ${r.temperature})`);
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

const CHECKPOINT = 'checkpoint.safetensors';

/** Trains one method on one task; see the file comment. */
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

  // variables: scores S:<name>, weights W:<name>
  const scores = new Map<string, tf.Variable>();
  const weights = new Map<string, tf.Variable>();
  // tf.variable keeps its own handle on the initial tensor, which is freed here
  const variableFrom = (init: tf.Tensor): tf.Variable => {
    const v = tf.variable(init, true);
    init.dispose();
    return v;
  };
  if (usesScores(r.method)) for (const p of prunable) scores.set(p.name, variableFrom(tf.zeros(p.shape, 'float32')));
  if (trainsWeights(r.method)) for (const [name, t] of model.params) if (t.dtype === 'float32') weights.set(name, variableFrom(t.clone()));
  const sOpt = scores.size ? new AdamW(new Map([...scores].map(([n, v]) => [`S:${n}`, v])), { lr: r.scoreLr, weightDecay: 0, schedule: lrSched }) : null;
  const wOpt = weights.size ? new AdamW(new Map([...weights].map(([n, v]) => [`W:${n}`, v])), { lr: r.weightLr, weightDecay: r.weightDecay, noDecay: (n) => isNoDecayParam(n.slice(2)), schedule: lrSched }) : null;
  const allVars = new Map<string, tf.Variable>([...[...scores].map(([n, v]) => [`S:${n}`, v] as const), ...[...weights].map(([n, v]) => [`W:${n}`, v] as const)]);
  const totalScoreNumel = prunable.reduce((a, p) => a + p.numel, 0);

  const history: StepLog[] = [];
  const evals: EvalLog[] = [];
  let start = 0;
  const fingerprint = configFingerprint(r, model, data, prunableNames);
  const ckptFile = config.workDir ? path.join(config.workDir, CHECKPOINT) : null;
  let maskTensors = new Map<string, tf.Tensor>();
  let previousMasks: Map<string, Uint8Array> | null = null;

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

  const writeCheckpoint = async (step: number): Promise<void> => {
    if (!ckptFile) return;
    const host = new Map<string, HostTensor>();
    for (const [n, v] of allVars) host.set(n, await toHost(v));
    const meta: Record<string, string> = { format: 'prunekit-smp-checkpoint', fingerprint, step: String(step), history: JSON.stringify(history), evals: JSON.stringify(evals) };
    for (const [key, opt] of [['optS', sOpt], ['optW', wOpt]] as const) {
      if (!opt) continue;
      const st = opt.state();
      for (const [n, t] of Object.entries(st.tensors)) host.set(`${key}/${n}`, await toHost(t));
      tf.dispose(Object.values(st.tensors));
      meta[key] = JSON.stringify({ step: st.step, variableSteps: st.variableSteps });
    }
    fs.mkdirSync(path.dirname(ckptFile), { recursive: true });
    writeSafetensors(ckptFile, host, meta);
    hooks.onCheckpoint?.(step, ckptFile);
  };

  const readCheckpoint = (): void => {
    if (!ckptFile || !fs.existsSync(ckptFile)) return;
    const f = SafetensorsFile.open(ckptFile);
    try {
      const meta = f.metadata;
      if (meta.format !== 'prunekit-smp-checkpoint') throw new Error(`${ckptFile} is not a prunekit SMP checkpoint`);
      if (meta.fingerprint !== fingerprint) {
        throw new Error(`${ckptFile} was written by a run with other settings, data or model (fingerprint ${meta.fingerprint ?? '?'}, this run ${fingerprint}); delete it or choose another work folder to start over`);
      }
      tf.tidy(() => {
        for (const [n, v] of allVars) {
          const t = f.read(n);
          v.assign(tf.tensor(t.data as Float32Array, t.shape, 'float32'));
        }
      });
      for (const [key, opt] of [['optS', sOpt], ['optW', wOpt]] as const) {
        if (!opt) continue;
        const info = JSON.parse(meta[key] ?? 'null') as { step: number; variableSteps: Record<string, number> } | null;
        if (!info) throw new Error(`${ckptFile}: optimizer state ${key} is missing`);
        const tensors: tf.NamedTensorMap = {};
        for (const name of f.names()) {
          if (!name.startsWith(`${key}/`)) continue;
          const t = f.read(name);
          tensors[name.slice(key.length + 1)] = tf.tensor(t.data as Float32Array, t.shape, 'float32');
        }
        const state: AdamWState = { step: info.step, variableSteps: info.variableSteps, tensors };
        opt.loadState(state);
        tf.dispose(Object.values(tensors));
      }
      start = Number(meta.step);
      history.push(...(JSON.parse(meta.history ?? '[]') as StepLog[]));
      evals.push(...(JSON.parse(meta.evals ?? '[]') as EvalLog[]));
    } finally {
      f.close();
    }
  };

  // data order: a seeded permutation per epoch, full batches only (each step has batchSize rows)
  const n = data.train.length;
  const bs = Math.min(r.batchSize, n);
  const perEpoch = Math.floor(n / bs);
  const orders = new Map<number, Int32Array>();
  const batchIndices = (step: number): Int32Array => {
    const epoch = Math.floor(step / perEpoch);
    let order = orders.get(epoch);
    if (!order) {
      orders.clear();
      order = createRng(`train:${r.seed}`).fork(`epoch:${epoch}`).permutation(n);
      orders.set(epoch, order);
    }
    const i = step % perEpoch;
    return order.subarray(i * bs, (i + 1) * bs);
  };

  const evalWith = (step: number, keepNow: number, view: WeightView): EvalLog => {
    const { scores: sc } = evaluate(model, data.eval, data.labelIds, c, view, 64, padId);
    return { step, keep: keepNow, scores: sc, main: mainScore(sc, data.metric) };
  };

  try {
    readCheckpoint();
    for (let step = start; step < r.steps; step++) {
      const vt = r.method === 'full-ft' ? 1 : schedule(step);
      const { kept, flipped } = setMasks(computeMasks(vt));
      const idx = batchIndices(step);
      const batch = makeBatch(data.train, idx, padId);
      const teacher = data.teacherLogits
        ? tf.tensor2d(Float32Array.from({ length: idx.length * c }, (_, j) => data.teacherLogits![idx[Math.floor(j / c)]! * c + (j % c)]!), [idx.length, c])
        : null;
      const lambda = r.method === 'smp-l' || r.method === 'smp-s' ? regulariserWeight(r.lambdaR, vt, r.keep) : 0;
      let regValue = 0;
      try {
        const regHolder: tf.Scalar[] = [];
        const { value, grads } = variableGrads(() => tf.tidy(() => {
          const logits = labelWordLogits(model, batch, data.labelIds, trainView, r.dropout ? { training: true, dropoutSeed: r.seed * 100_003 + step } : {});
          let loss: tf.Scalar = teacher
            ? kdLoss(logits, teacher, batch.labels, { temperature: r.kdTemperature, alpha: r.kdAlpha })
            : crossEntropyLoss(logits, batch.labels);
          if (lambda > 0) {
            const sums = [...scores.values()].map((s) => tf.sum(tf.sigmoid(s)));
            const reg = tf.mul(tf.div(tf.addN(sums), tf.scalar(totalScoreNumel)), tf.scalar(lambda)) as tf.Scalar;
            regHolder.push(tf.keep(tf.clone(reg)));
            loss = tf.add(loss, reg);
          }
          return loss;
        }), allVars);
        if (regHolder.length) {
          regValue = regHolder[0]!.dataSync()[0]!;
          tf.dispose(regHolder);
        }
        const sg: tf.NamedTensorMap = {};
        const wg: tf.NamedTensorMap = {};
        for (const [k, g] of Object.entries(grads)) (k.startsWith('S:') ? sg : wg)[k] = g;
        sOpt?.step(sg);
        wOpt?.step(wg);
        const loss = value.dataSync()[0]!;
        tf.dispose([value, ...Object.values(grads)]);
        if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at step ${step + 1}; lower the learning rate`);
        const log: StepLog = { step: step + 1, loss, reg: regValue, keep: vt, kept, flipped };
        history.push(log);
        hooks.onStep?.(log, r.steps);
      } finally {
        disposeBatch(batch);
        teacher?.dispose();
      }
      const done = step + 1;
      if (r.evalEvery > 0 && done % r.evalEvery === 0 && done < r.steps) {
        // evaluate what the current scores select at the current keep fraction
        const e = evalWith(done, schedule(Math.min(done, r.steps - 1)), (name) => {
          const m = maskTensors.get(name);
          return m ? tf.mul(baseOf(name), m) : baseOf(name);
        });
        evals.push(e);
        hooks.onEval?.(e);
      }
      if (r.checkpointEvery > 0 && done % r.checkpointEvery === 0 && done < r.steps) await writeCheckpoint(done);
    }

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
    return { masks, final, history, evals, weights: trained, stepsRun: r.steps - start, seconds: (performance.now() - t0) / 1000 };
  } finally {
    for (const t of maskTensors.values()) t.dispose();
    sOpt?.dispose();
    wOpt?.dispose();
    for (const v of allVars.values()) v.dispose();
  }
}
