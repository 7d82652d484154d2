// The training loop shared by FineGates and the baselines: cross-entropy of the classification head
// (+ λ·regulariser for FineGates), AdamW (constant lr; one optimizer for the encoder-side variables, one
// for the head), seeded batches, dropout and gate noise that depend only on (seed, step), so a run
// resumed from a checkpoint continues exactly as the uninterrupted run would.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  AdamW, createRng, crossEntropyLoss, readSafetensors, toFloat32, variableGrads, writeJsonAtomic, writeSafetensors,
  type AdamWState, type EncoderModel, type HostTensor,
} from '@prunekit/tensor-core';
import type { Adapter } from './adapters.js';
import { disposeBatch, makeBatch, type TokenizedSet } from './data.js';
import type { ClassificationHead } from './head.js';
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
  weightDecay?: number;
  seed: number;
  padId: number;
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

/** Row indices of step `s`'s batch: consecutive slices of per-epoch seeded permutations. */
export function batchIndices(n: number, batchSize: number, seed: number, step: number): Int32Array {
  const out = new Int32Array(Math.min(batchSize, n));
  let perm: Int32Array | null = null;
  let permEpoch = -1;
  for (let i = 0; i < out.length; i++) {
    const k = step * batchSize + i;
    const epoch = Math.floor(k / n);
    if (epoch !== permEpoch) {
      perm = createRng(seed).fork(`epoch/${epoch}`).permutation(n);
      permEpoch = epoch;
    }
    out[i] = perm![k % n]!;
  }
  return out;
}

const CKPT_TENSORS = 'checkpoint.safetensors';
const CKPT_STATE = 'checkpoint.json';

interface CheckpointState {
  step: number;
  fingerprint: string;
  losses: number[];
  optimizers: Record<string, { step: number; variableSteps: Record<string, number> }>;
}

interface Group {
  name: string;
  vars: Map<string, tf.Variable>;
  opt: AdamW;
}

function saveCheckpoint(dir: string, step: number, fingerprint: string, losses: number[], groups: readonly Group[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const host = new Map<string, HostTensor>();
  const put = (name: string, t: tf.Tensor): void => {
    host.set(name, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.dataSync()) });
  };
  const optimizers: CheckpointState['optimizers'] = {};
  for (const g of groups) {
    for (const [n, v] of g.vars) put(`${g.name}/var/${n}`, v);
    const st = g.opt.state();
    for (const [n, t] of Object.entries(st.tensors)) put(`${g.name}/adam/${n}`, t);
    tf.dispose(Object.values(st.tensors));
    optimizers[g.name] = { step: st.step, variableSteps: st.variableSteps };
  }
  const tmp = path.join(dir, `.${CKPT_TENSORS}.${process.pid}.tmp`);
  writeSafetensors(tmp, host, { step: String(step) });
  fs.renameSync(tmp, path.join(dir, CKPT_TENSORS));
  writeJsonAtomic(path.join(dir, CKPT_STATE), { step, fingerprint, losses, optimizers } satisfies CheckpointState);
}

function loadCheckpoint(dir: string, fingerprint: string, groups: readonly Group[]): CheckpointState | null {
  const sf = path.join(dir, CKPT_TENSORS);
  const jf = path.join(dir, CKPT_STATE);
  if (!fs.existsSync(sf) || !fs.existsSync(jf)) return null;
  const state = JSON.parse(fs.readFileSync(jf, 'utf8')) as CheckpointState;
  if (state.fingerprint !== fingerprint) throw new Error(`${dir}: the checkpoint belongs to a run with other settings; remove the folder or use another work folder`);
  const { tensors, metadata } = readSafetensors(sf);
  if (metadata.step !== String(state.step)) throw new Error(`${dir}: ${CKPT_TENSORS} (step ${metadata.step}) and ${CKPT_STATE} (step ${state.step}) disagree; remove the folder to restart`);
  const get = (name: string): tf.Tensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${sf}: missing tensor "${name}"`);
    return tf.tensor(toFloat32(t), t.shape, 'float32');
  };
  for (const g of groups) {
    tf.tidy(() => {
      for (const [n, v] of g.vars) v.assign(get(`${g.name}/var/${n}`));
    });
    const s = state.optimizers[g.name];
    if (!s) throw new Error(`${dir}: the checkpoint has no optimizer state for "${g.name}"`);
    const st: AdamWState = { step: s.step, variableSteps: s.variableSteps, tensors: {} };
    const prefix = `${g.name}/adam/`;
    for (const name of tensors.keys()) if (name.startsWith(prefix)) st.tensors[name.slice(prefix.length)] = get(name);
    g.opt.loadState(st);
    tf.dispose(Object.values(st.tensors));
  }
  return state;
}

/** Trains adapter + head on a tokenised set. The model's own weights are never modified. */
export function trainClassifier(model: EncoderModel, adapter: Adapter, head: ClassificationHead, data: TokenizedSet, options: TrainOptions): TrainResult {
  if (!(options.steps >= 0)) throw new Error(`steps must be ≥ 0 (got ${options.steps})`);
  const wd = options.weightDecay ?? 0;
  const isGate = (n: string): boolean => /\.gate_(rows|cols)$/.test(n);
  const gateVars = new Map([...adapter.variables].filter(([n]) => isGate(n)));
  const encVars = new Map([...adapter.variables].filter(([n]) => !isGate(n)));
  const groups: Group[] = [];
  if (gateVars.size > 0) groups.push({ name: 'gates', vars: gateVars, opt: new AdamW(gateVars, { lr: options.gateLr ?? options.lr, weightDecay: 0 }) });
  if (encVars.size > 0) groups.push({ name: 'encoder', vars: encVars, opt: new AdamW(encVars, { lr: options.lr, weightDecay: wd }) });
  groups.push({ name: 'head', vars: head.params, opt: new AdamW(head.params, { lr: options.headLr ?? options.lr, weightDecay: wd }) });
  const fingerprint = options.fingerprint ?? '';
  const every = options.checkpointEvery ?? 50;
  let losses: number[] = [];
  let start = 0;
  try {
    if (options.checkpointDir) {
      const st = loadCheckpoint(options.checkpointDir, fingerprint, groups);
      if (st) {
        start = st.step;
        losses = st.losses.slice(0, start);
      }
    }
    const resumedFrom = start;
    const all = new Map<string, tf.Variable>();
    for (const g of groups) for (const [n, v] of g.vars) all.set(`${g.name}/${n}`, v);
    for (let step = start; step < options.steps; step++) {
      const idx = batchIndices(data.size, options.batchSize, options.seed, step);
      const batch = makeBatch(data, idx, options.padId);
      const rng = createRng(options.seed).fork(`step/${step}`);
      adapter.beginStep(rng.fork('noise'));
      const dropoutSeed = rng.fork('dropout').nextSeed() % 1_000_000;
      let taskLoss = 0;
      let reg = 0;
      try {
        const { value, grads } = variableGrads(() => {
          const inputs: Map<string, Float32Array> | undefined = adapter.wantsLinearInputs ? new Map() : undefined;
          const out = model.forward(
            { inputIds: batch.inputIds, attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds },
            {
              view: adapter.trainView(), training: true, dropoutSeed,
              ...(inputs ? { onLinearInput: (name: string, x: tf.Tensor2D) => { inputs.set(name, tf.tidy(() => tf.mean(x, 0)).dataSync() as Float32Array); } } : {}),
            },
          );
          const logits = head.forward(out.lastHiddenState, { training: true, dropoutSeed });
          const ce = crossEntropyLoss(logits, batch.labels);
          taskLoss = ce.dataSync()[0]!;
          const r = adapter.regularisation(inputs);
          if (!r) return ce;
          reg = r.dataSync()[0]!;
          return tf.add(ce, r) as tf.Scalar;
        }, all);
        const loss = value.dataSync()[0]!;
        value.dispose();
        if (!Number.isFinite(loss)) throw new Error(`step ${step + 1}: the loss is ${loss}; lower the learning rate`);
        for (const g of groups) {
          const mine: tf.NamedTensorMap = {};
          for (const n of g.vars.keys()) {
            const gr = grads[`${g.name}/${n}`];
            if (gr) mine[n] = gr;
          }
          g.opt.step(mine);
        }
        tf.dispose(Object.values(grads));
        losses.push(loss);
        const info: StepInfo = { step: step + 1, steps: options.steps, loss, taskLoss, regulariser: reg };
        if (adapter instanceof FineGatesAdapter && ((step + 1) % 10 === 0 || step + 1 === options.steps)) {
          const s = adapter.gates.stats();
          info.expectedSparsity = s.expectedSparsity;
          info.closedSparsity = s.sparsity;
        }
        if (options.checkpointDir && ((step + 1) % every === 0 || step + 1 === options.steps)) {
          saveCheckpoint(options.checkpointDir, step + 1, fingerprint, losses, groups);
        }
        options.onStep?.(info);
      } finally {
        adapter.endStep();
        disposeBatch(batch);
      }
    }
    return { losses, resumedFrom };
  } finally {
    for (const g of groups) g.opt.dispose();
  }
}

/** Predicted label indices for a set under the adapter's evaluation view (no dropout, no gate noise). */
export function predict(model: EncoderModel, adapter: Adapter | null, head: ClassificationHead, data: TokenizedSet, padId: number, batchSize = 64): Int32Array {
  const pred = new Int32Array(data.size);
  for (let i = 0; i < data.size; i += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, data.size - i) }, (_, k) => i + k);
    const batch = makeBatch(data, idx, padId);
    try {
      const p = tf.tidy(() => {
        const view = adapter ? adapter.evalView() : model.denseView;
        const out = model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask, tokenTypeIds: batch.tokenTypeIds }, { view });
        return tf.argMax(head.forward(out.lastHiddenState), -1);
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
