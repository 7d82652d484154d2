// Training FineGates and the baselines with tensor-core's trainer: cross-entropy of the classification
// head (+ λ·regulariser for FineGates), AdamW groups (constant lr; gates, encoder-side variables, head),
// seeded batches, dropout and gate noise that depend only on (seed, step), so a run resumed from a
// checkpoint continues exactly as the uninterrupted run would.
import * as tf from '@tensorflow/tfjs-core';
import { BatchOrder, createRng, crossEntropyLoss, trainSync, type EncoderModel, type VariableGroup } from '@prunekit/tensor-core';
import type { Adapter } from './adapters.js';
import { disposeBatch, makeBatch, type BatchTensors, type TokenizedSet } from './data.js';
import type { TaskHead } from './head.js';
import { FineGatesAdapter } from './adapters.js';

export interface TrainOptions {
  steps: number;
  batchSize: number;
  /** lr of the encoder-side variables (gates, biases, LoRA, weights) */
  lr: number;
  /** lr of the head (default: lr) */
  headLr?: number;
  /** lr of FineGates' gate parameters θ (default: lr) */
  gateLr?: number;
  /**
   * FineGates' head warm-up: for the first `sparsityStartStep` steps the regulariser is off (λ = 0, as the
   * authors' `sparsity_start_epoch`) and, with `freezeGatesInWarmup`, the gates do not move (their lr is
   * 0), so the head and the biases learn the task before the gates are pushed shut. Default 0 (no warm-up).
   */
  sparsityStartStep?: number;
  /** hold the gates still during the warm-up (default true; the authors' code only switches λ off) */
  freezeGatesInWarmup?: boolean;
  weightDecay?: number;
  seed: number;
  padId: number;
  /** the side padding goes on (default right; a decoder classifier pads on its tokenizer's side) */
  paddingSide?: 'left' | 'right';
  /** checkpoint folder: resumed from when present, written every `checkpointEvery` steps */
  checkpointDir?: string;
  checkpointEvery?: number;
  /** a fingerprint of the run's settings; a checkpoint with another one is refused */
  fingerprint?: string;
  onStep?: (info: StepInfo) => void;
}

export interface StepInfo {
  step: number;
  steps: number;
  loss: number;
  taskLoss: number;
  regulariser: number;
  /** FineGates: expected sparsity of the gated weights and closed fraction at evaluation */
  expectedSparsity?: number;
  closedSparsity?: number;
}

export interface TrainResult {
  /** per-step total loss (including steps before a resume, from the checkpoint) */
  losses: number[];
  resumedFrom: number;
}

/**
 * Row indices of step `s`'s batch: tensor-core's BatchOrder (full batches of a seeded permutation
 * per epoch; FineGates' stream: epoch e is permuted by createRng(seed).fork(`epoch/${e}`)).
 */
export function batchIndices(n: number, batchSize: number, seed: number, step: number): Int32Array {
  return Int32Array.from(batchOrder(n, batchSize, seed).indices(step));
}

function batchOrder(n: number, batchSize: number, seed: number): BatchOrder {
  return new BatchOrder({ size: n, batchSize, epochRng: (e) => createRng(seed).fork(`epoch/${e}`) });
}

/** Trains adapter + head on a tokenised set with tensor-core's trainer. The model's own weights are never modified. */
export function trainClassifier(model: EncoderModel, adapter: Adapter, head: TaskHead, data: TokenizedSet, options: TrainOptions): TrainResult {
  if (!(options.steps >= 0)) throw new Error(`steps must be ≥ 0 (got ${options.steps})`);
  const wd = options.weightDecay ?? 0;
  const isGate = (n: string): boolean => /\.gate_(rows|cols)$/.test(n);
  const gateVars = new Map([...adapter.variables].filter(([n]) => isGate(n)));
  const encVars = new Map([...adapter.variables].filter(([n]) => !isGate(n)));
  const groups: VariableGroup[] = [];
  const warmup = options.sparsityStartStep ?? 0;
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new Error(`sparsityStartStep must be a non-negative integer (got ${warmup})`);
  const freezeGates = warmup > 0 && (options.freezeGatesInWarmup ?? true);
  if (gateVars.size > 0) {
    groups.push({
      name: 'gates', variables: gateVars, lr: options.gateLr ?? options.lr, weightDecay: 0,
      ...(freezeGates ? { schedule: (step: number) => (step < warmup ? 0 : 1) } : {}),
    });
  }
  if (encVars.size > 0) groups.push({ name: 'encoder', variables: encVars, lr: options.lr, weightDecay: wd });
  groups.push({ name: 'head', variables: head.params, lr: options.headLr ?? options.lr, weightDecay: wd });
  let dropoutSeed = 0;
  /** mean input row of each gated linear in this step's forward pass (FineGates' kurtosis weights) */
  let inputs: Map<string, Float32Array> | undefined;
  const r = trainSync<BatchTensors>({
    groups,
    steps: options.steps,
    order: batchOrder(data.size, options.batchSize, options.seed),
    loadBatch: (idx) => makeBatch(data, idx, options.padId, options.paddingSide),
    disposeBatch,
    // dropout and gate noise depend only on (seed, step)
    beforeStep: ({ step }) => {
      const rng = createRng(options.seed).fork(`step/${step}`);
      adapter.beginStep(rng.fork('noise'));
      dropoutSeed = rng.fork('dropout').nextSeed() % 1_000_000;
    },
    afterStep: () => {
      adapter.endStep();
    },
    loss: (batch) => {
      const seen: Map<string, Float32Array> | undefined = adapter.wantsLinearInputs ? new Map() : undefined;
      inputs = seen;
      const out = model.forward(
        { inputIds: batch.inputIds, attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds },
        {
          view: adapter.trainView(), training: true, dropoutSeed,
          ...(seen ? { onLinearInput: (name: string, x: tf.Tensor2D) => { seen.set(name, tf.tidy(() => tf.mean(x, 0)).dataSync() as Float32Array); } } : {}),
        },
      );
      return crossEntropyLoss(head.forward(out.lastHiddenState, { training: true, dropoutSeed, inputIds: batch.inputIds }), batch.labels);
    },
    regularisers: [{ name: 'regulariser', term: (ctx) => (ctx.step < warmup ? null : adapter.regularisation(inputs)) }],
    onStep: (l) => {
      const info: StepInfo = { step: l.step, steps: l.steps, loss: l.loss, taskLoss: l.taskLoss, regulariser: l.terms.regulariser ?? 0 };
      if (adapter instanceof FineGatesAdapter && (l.step % 10 === 0 || l.step === l.steps)) {
        const s = adapter.gates.stats();
        info.expectedSparsity = s.expectedSparsity;
        info.closedSparsity = s.sparsity;
      }
      options.onStep?.(info);
    },
    ...(options.checkpointDir ? { checkpoint: { dir: options.checkpointDir, every: options.checkpointEvery ?? 50, fingerprint: options.fingerprint ?? '' } } : {}),
  });
  return { losses: r.logs.map((l) => l.loss), resumedFrom: r.resumedFrom };
}

/** Predicted label indices for a set under the adapter's evaluation view (no dropout, no gate noise). */
export function predict(model: EncoderModel, adapter: Adapter | null, head: TaskHead, data: TokenizedSet, padId: number, batchSize = 64, paddingSide: 'left' | 'right' = 'right'): Int32Array {
  const pred = new Int32Array(data.size);
  for (let i = 0; i < data.size; i += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, data.size - i) }, (_, k) => i + k);
    const batch = makeBatch(data, idx, padId, paddingSide);
    try {
      const p = tf.tidy(() => {
        const view = adapter ? adapter.evalView() : model.denseView;
        const out = model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds }, { view });
        return tf.argMax(head.forward(out.lastHiddenState, { inputIds: batch.inputIds }), -1);
      });
      pred.set(p.dataSync() as Int32Array, i);
      p.dispose();
    } finally {
      disposeBatch(batch);
    }
  }
  return pred;
}

export interface Metrics {
  accuracy: number;
  /** Matthews correlation (binary tasks; multi-class: Gorodkin's R_K) */
  mcc: number;
  macroF1: number;
}

export function classificationMetrics(pred: ArrayLike<number>, gold: ArrayLike<number>, numLabels: number): Metrics {
  const n = gold.length;
  const cm = Array.from({ length: numLabels }, () => new Float64Array(numLabels));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    cm[gold[i]!]![pred[i]!]! += 1;
    if (pred[i] === gold[i]) correct++;
  }
  let f1 = 0;
  const t = new Float64Array(numLabels);
  const p = new Float64Array(numLabels);
  for (let k = 0; k < numLabels; k++) {
    let tk = 0;
    let pk = 0;
    for (let j = 0; j < numLabels; j++) {
      tk += cm[k]![j]!;
      pk += cm[j]![k]!;
    }
    t[k] = tk;
    p[k] = pk;
    const tp = cm[k]![k]!;
    f1 += tp === 0 ? 0 : (2 * tp) / (tk + pk);
  }
  // R_K = (c·s − Σ p_k t_k) / √((s² − Σ p_k²)(s² − Σ t_k²)); equals MCC for two classes
  let pt = 0;
  let pp = 0;
  let tt = 0;
  for (let k = 0; k < numLabels; k++) {
    pt += p[k]! * t[k]!;
    pp += p[k]! ** 2;
    tt += t[k]! ** 2;
  }
  const den = Math.sqrt((n * n - pp) * (n * n - tt));
  return { accuracy: n ? correct / n : 0, mcc: den === 0 ? 0 : (correct * n - pt) / den, macroF1: f1 / numLabels };
}
