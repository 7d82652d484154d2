// The one training loop every method uses (SMP and its baselines, FineGates / LoRA / BitFit / full
// fine-tuning, GAPrune's retraining). A method supplies its variables in groups (each with its own
// learning rate, schedule and weight decay, each with its own AdamW), a way to load a batch, a loss,
// and hooks; the trainer owns everything else, identically for every method:
//   - batch order: BatchOrder, a seeded permutation per epoch cut into full batches (a short last
//     batch is dropped, so every step sees exactly batchSize distinct rows); epoch e's permutation is
//     a function of (seed, e) only;
//   - gradient accumulation (`accumulate` consecutive batches per optimizer step) and micro-batching
//     (`microBatch` rows per forward/backward pass); gradients of the pieces are summed with weight
//     rows/total, which equals the whole-batch gradient for losses that are means over rows;
//   - regulariser terms added to the loss under the tape (logged by name), step hooks (masks from
//     scores, gate noise), evaluation every k steps, a step log for progress bars;
//   - checkpoints every N steps and at the last step (one atomic file: variables, AdamW moments and
//     step counts, step logs, the method's own state) and exact resume: every random choice depends
//     only on (seed, step), so a run stopped or killed after a checkpoint and resumed ends with the
//     same bits as an uninterrupted run.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor } from '../io/safetensors.js';
import { AdamW, type AdamWState } from './adamw.js';
import { GradientAccumulator } from './accumulate.js';
import { checkpointTensor, hostTensor, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { createRng, type Rng, type Seed } from './rng.js';
import type { Schedule } from './schedules.js';
import { variableGrads } from './variables.js';

export interface BatchOrderOptions {
  /** rows in the data set */
  size: number;
  /** rows per batch (capped at `size`) */
  batchSize: number;
  /** seed of the order (default 0); epoch e is permuted by createRng(seed).fork(`epoch:${e}`) */
  seed?: Seed;
  /** the generator of epoch e's permutation, when a method keeps an older stream (overrides `seed`) */
  epochRng?: (epoch: number) => Rng;
}

/** Seeded batch order: per epoch a permutation of the rows, cut into floor(size / batchSize) full batches. */
export class BatchOrder {
  readonly size: number;
  readonly batchSize: number;
  /** batches per epoch */
  readonly perEpoch: number;
  private readonly epochRng: (epoch: number) => Rng;
  private cached: { epoch: number; order: Int32Array } | null = null;

  constructor(options: BatchOrderOptions) {
    const { size, batchSize } = options;
    if (!(Number.isInteger(size) && size >= 1)) throw new Error(`BatchOrder: size must be a positive integer (got ${size}); is the training set empty?`);
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`BatchOrder: batchSize must be a positive integer (got ${batchSize})`);
    this.size = size;
    this.batchSize = Math.min(batchSize, size);
    this.perEpoch = Math.floor(size / this.batchSize);
    const seed = options.seed ?? 0;
    this.epochRng = options.epochRng ?? ((e) => createRng(seed).fork(`epoch:${e}`));
  }

  /** The epoch that batch `index` (0-based, counted over all epochs) belongs to. */
  epochOf(index: number): number {
    return Math.floor(index / this.perEpoch);
  }

  /** Row indices of batch `index` (a view into the epoch's permutation: do not modify). */
  indices(index: number): Int32Array {
    if (!(Number.isInteger(index) && index >= 0)) throw new Error(`BatchOrder: batch index must be a non-negative integer (got ${index})`);
    const epoch = this.epochOf(index);
    if (this.cached?.epoch !== epoch) this.cached = { epoch, order: this.epochRng(epoch).permutation(this.size) };
    const i = index - epoch * this.perEpoch;
    return this.cached.order.subarray(i * this.batchSize, (i + 1) * this.batchSize);
  }
}

export interface VariableGroup {
  /** the group's key in checkpoints and step logs (unique) */
  name: string;
  /** trainable variables, by name (the caller owns and disposes them) */
  variables: ReadonlyMap<string, tf.Variable>;
  lr: number;
  /** LR multiplier by 0-based optimizer step (default constant) */
  schedule?: Schedule;
  /** decoupled weight decay (default 0) */
  weightDecay?: number;
  /** names without weight decay (default AdamW's: biases and LayerNorm) */
  noDecay?: (name: string) => boolean;
  /** clip this group's gradients to a global L2 norm */
  maxGradNorm?: number;
}

/** Where the trainer is: passed to the loss, regularisers and hooks. */
export interface StepContext {
  /** 0-based optimizer step */
  step: number;
  steps: number;
  /** piece of this step's data (accumulated batch × micro-batch), 0-based, and how many there are */
  piece: number;
  pieces: number;
}

export interface Regulariser {
  /** name in the step log's `terms` */
  name: string;
  /** the term added to the loss (under the gradient tape), or null for none at this step */
  term: (ctx: StepContext) => tf.Scalar | null;
}

export interface TrainerStepLog {
  /** 1-based step just completed */
  step: number;
  steps: number;
  /** task loss + regulariser terms (mean over this step's pieces) */
  loss: number;
  taskLoss: number;
  /** value of each regulariser term */
  terms: Record<string, number>;
}

/** A method's own state carried through checkpoints (e.g. evaluation logs, the previous masks). */
export interface TrainerState {
  save: () => { json?: unknown; tensors?: ReadonlyMap<string, HostTensor> };
  load: (json: unknown, tensors: ReadonlyMap<string, HostTensor>) => void;
}

export interface TrainerCheckpointOptions {
  /** folder of checkpoint.safetensors (resumed from when present) */
  dir: string;
  /** write every `every` steps (and after the last step); 0: only after the last step */
  every: number;
  /** identifies the run's settings, data and model; a checkpoint with another is refused */
  fingerprint: string;
  state?: TrainerState;
  onWrite?: (step: number, file: string) => void;
}

export interface TrainerOptions<B> {
  groups: readonly VariableGroup[];
  /** optimizer steps */
  steps: number;
  order: BatchOrder;
  /** batches per optimizer step (gradient accumulation; default 1) */
  accumulate?: number;
  /** rows per forward/backward pass (default: the whole batch) */
  microBatch?: number;
  /** turns row indices into a batch (may be async: tokenisation) */
  loadBatch: (rows: Int32Array, ctx: StepContext) => B | Promise<B>;
  disposeBatch?: (batch: B) => void;
  /** the task loss of a batch, computed under the gradient tape */
  loss: (batch: B, ctx: StepContext) => tf.Scalar;
  regularisers?: readonly Regulariser[];
  /** before each optimizer step (e.g. masks from the current scores, gate noise) */
  beforeStep?: (ctx: StepContext) => void;
  /** after each optimizer step, also when it failed (e.g. free the step's noise) */
  afterStep?: (ctx: StepContext) => void;
  onStep?: (log: TrainerStepLog) => void;
  /** call onEval after every `evalEvery` steps (not after the last: the caller evaluates the result) */
  evalEvery?: number;
  onEval?: (step: number) => void;
  checkpoint?: TrainerCheckpointOptions;
}

export interface TrainerResult {
  /** every step's log, including those before a resume (from the checkpoint) */
  logs: TrainerStepLog[];
  /** steps already done when this call started (0 without a checkpoint) */
  resumedFrom: number;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const FORMAT = 'prunekit-trainer-checkpoint';

interface Run<B> {
  o: TrainerOptions<B>;
  opts: AdamW[];
  all: Map<string, tf.Variable>;
  logs: TrainerStepLog[];
  accumulate: number;
}

function check<B>(o: TrainerOptions<B>): void {
  if (!(Number.isInteger(o.steps) && o.steps >= 0)) throw new Error(`steps must be a non-negative integer (got ${o.steps})`);
  const names = new Set<string>();
  for (const g of o.groups) {
    if (names.has(g.name)) throw new Error(`two variable groups are named "${g.name}"`);
    if (g.name.includes('/')) throw new Error(`variable group name "${g.name}" must not contain "/"`);
    names.add(g.name);
  }
  if (o.accumulate !== undefined && !(Number.isInteger(o.accumulate) && o.accumulate >= 1)) throw new Error(`accumulate must be a positive integer (got ${o.accumulate})`);
  if (o.microBatch !== undefined && !(Number.isInteger(o.microBatch) && o.microBatch >= 1)) throw new Error(`microBatch must be a positive integer (got ${o.microBatch})`);
  if (o.checkpoint && !(Number.isInteger(o.checkpoint.every) && o.checkpoint.every >= 0)) throw new Error(`checkpoint.every must be a non-negative integer (got ${o.checkpoint.every})`);
}

function start<B>(o: TrainerOptions<B>): Run<B> {
  check(o);
  const opts = o.groups.map((g) => new AdamW(g.variables, {
    lr: g.lr, weightDecay: g.weightDecay ?? 0,
    ...(g.schedule ? { schedule: g.schedule } : {}), ...(g.noDecay ? { noDecay: g.noDecay } : {}),
    ...(g.maxGradNorm !== undefined ? { maxGradNorm: g.maxGradNorm } : {}),
  }));
  const all = new Map<string, tf.Variable>();
  for (const g of o.groups) for (const [n, v] of g.variables) all.set(`${g.name}/${n}`, v);
  return { o, opts, all, logs: [], accumulate: o.accumulate ?? 1 };
}

function saveState<B>(run: Run<B>, step: number): void {
  const ck = run.o.checkpoint!;
  const tensors = new Map<string, HostTensor>();
  const optimizers: Record<string, { step: number; variableSteps: Record<string, number> }> = {};
  run.o.groups.forEach((g, i) => {
    for (const [n, v] of g.variables) tensors.set(`${g.name}/var/${n}`, hostTensor(v));
    const st = run.opts[i]!.state();
    for (const [n, t] of Object.entries(st.tensors)) tensors.set(`${g.name}/adam/${n}`, hostTensor(t));
    tf.dispose(Object.values(st.tensors));
    optimizers[g.name] = { step: st.step, variableSteps: st.variableSteps };
  });
  const own = ck.state?.save() ?? {};
  for (const [n, t] of own.tensors ?? []) tensors.set(`state/${n}`, t);
  const file = path.join(ck.dir, CHECKPOINT_FILE);
  fs.mkdirSync(ck.dir, { recursive: true });
  writeCheckpoint(file, FORMAT, tensors, {
    fingerprint: ck.fingerprint, step: String(step), optimizers: JSON.stringify(optimizers),
    logs: JSON.stringify(run.logs), state: JSON.stringify(own.json ?? null),
  });
  ck.onWrite?.(step, file);
}

/** Restores the checkpoint when there is one; returns the step to continue from. */
function loadState<B>(run: Run<B>): number {
  const ck = run.o.checkpoint;
  if (!ck) return 0;
  const file = path.join(ck.dir, CHECKPOINT_FILE);
  const data = readCheckpoint(file, FORMAT);
  if (!data) return 0;
  const { meta } = data;
  if (meta.fingerprint !== ck.fingerprint) {
    throw new Error(`${file} was written by a run with other settings, data or model (fingerprint ${meta.fingerprint ?? '?'}, this run ${ck.fingerprint}); delete it or choose another work folder to start over`);
  }
  const step = Number(meta.step);
  if (!(Number.isInteger(step) && step >= 0 && step <= run.o.steps)) throw new Error(`${file}: step ${meta.step ?? '?'} is not in [0, ${run.o.steps}]`);
  const optimizers = JSON.parse(meta.optimizers ?? '{}') as Record<string, { step: number; variableSteps: Record<string, number> } | undefined>;
  run.o.groups.forEach((g, i) => {
    tf.tidy(() => {
      for (const [n, v] of g.variables) v.assign(checkpointTensor(data, `${g.name}/var/${n}`, file));
    });
    const s = optimizers[g.name];
    if (!s) throw new Error(`${file}: no optimizer state for variable group "${g.name}"`);
    const st: AdamWState = { step: s.step, variableSteps: s.variableSteps, tensors: {} };
    const prefix = `${g.name}/adam/`;
    for (const name of data.tensors.keys()) if (name.startsWith(prefix)) st.tensors[name.slice(prefix.length)] = checkpointTensor(data, name, file);
    try {
      run.opts[i]!.loadState(st);
    } finally {
      tf.dispose(Object.values(st.tensors));
    }
  });
  run.logs.push(...(JSON.parse(meta.logs ?? '[]') as TrainerStepLog[]).slice(0, step));
  if (ck.state) {
    const own = new Map<string, HostTensor>();
    for (const [n, t] of data.tensors) if (n.startsWith('state/')) own.set(n.slice(6), t);
    ck.state.load(JSON.parse(meta.state ?? 'null') as unknown, own);
  }
  return step;
}

/** The row sets of optimizer step `step`: accumulated batches, each cut into micro-batches. */
function piecesOf<B>(run: Run<B>, step: number): Int32Array[] {
  const out: Int32Array[] = [];
  const mb = run.o.microBatch;
  for (let a = 0; a < run.accumulate; a++) {
    const rows = run.o.order.indices(step * run.accumulate + a);
    if (mb === undefined || mb >= rows.length) out.push(rows);
    else for (let i = 0; i < rows.length; i += mb) out.push(rows.subarray(i, i + mb));
  }
  return out;
}

interface PieceResult {
  loss: number;
  taskLoss: number;
  terms: Record<string, number>;
}

/** Forward + backward of one piece; `weight` scales its loss (1 for a whole step). */
function lossAndGrads<B>(run: Run<B>, batch: B, ctx: StepContext, weight: number): PieceResult & { grads: tf.NamedTensorMap } {
  const terms: Record<string, number> = {};
  let taskLoss = 0;
  const { value, grads } = variableGrads(() => tf.tidy(() => {
    const task = run.o.loss(batch, ctx);
    taskLoss = task.dataSync()[0]!;
    let total: tf.Scalar = task;
    for (const r of run.o.regularisers ?? []) {
      const t = r.term(ctx);
      if (!t) continue;
      terms[r.name] = t.dataSync()[0]!;
      total = tf.add(total, t);
    }
    return weight === 1 ? total : tf.mul(total, tf.scalar(weight));
  }), run.all);
  const loss = value.dataSync()[0]! / weight;
  value.dispose();
  return { loss, taskLoss, terms, grads };
}

function applyGrads<B>(run: Run<B>, grads: tf.NamedTensorMap): void {
  run.o.groups.forEach((g, i) => {
    const mine: tf.NamedTensorMap = {};
    for (const n of g.variables.keys()) {
      const gr = grads[`${g.name}/${n}`];
      if (gr) mine[n] = gr;
    }
    run.opts[i]!.step(mine);
  });
}

function finishStep<B>(run: Run<B>, step: number, parts: PieceResult[], rows: number[]): void {
  const total = rows.reduce((a, b) => a + b, 0);
  const mean = (f: (p: PieceResult) => number): number => (parts.length === 1 ? f(parts[0]!) : parts.reduce((a, p, i) => a + (f(p) * rows[i]!) / total, 0));
  const terms: Record<string, number> = {};
  for (const name of new Set(parts.flatMap((p) => Object.keys(p.terms)))) terms[name] = mean((p) => p.terms[name] ?? 0);
  const log: TrainerStepLog = { step: step + 1, steps: run.o.steps, loss: mean((p) => p.loss), taskLoss: mean((p) => p.taskLoss), terms };
  if (!Number.isFinite(log.loss)) throw new Error(`the loss became ${log.loss} at step ${step + 1}; lower the learning rate`);
  run.logs.push(log);
  run.o.onStep?.(log);
  const done = step + 1;
  const ev = run.o.evalEvery ?? 0;
  if (ev > 0 && done % ev === 0 && done < run.o.steps) run.o.onEval?.(done);
  const ck = run.o.checkpoint;
  if (ck && ((ck.every > 0 && done % ck.every === 0) || done === run.o.steps)) saveState(run, done);
}

/**
 * One optimizer step over already-loaded pieces. With one piece the loss is differentiated as is
 * (no scaling); with several, piece i's gradient is weighted by rows_i / rows and summed.
 */
function optimizerStep<B>(run: Run<B>, step: number, loadPiece: (i: number, ctx: StepContext) => B, rows: Int32Array[]): void {
  const pieces = rows.length;
  const results: PieceResult[] = [];
  const ctx0: StepContext = { step, steps: run.o.steps, piece: 0, pieces };
  run.o.beforeStep?.(ctx0);
  try {
    if (pieces === 1) {
      const batch = loadPiece(0, ctx0);
      try {
        const { grads, ...r } = lossAndGrads(run, batch, ctx0, 1);
        results.push(r);
        try {
          applyGrads(run, grads);
        } finally {
          tf.dispose(Object.values(grads));
        }
      } finally {
        run.o.disposeBatch?.(batch);
      }
    } else {
      const total = rows.reduce((a, r) => a + r.length, 0);
      const acc = new GradientAccumulator(run.all);
      try {
        for (let i = 0; i < pieces; i++) {
          const ctx: StepContext = { ...ctx0, piece: i };
          const batch = loadPiece(i, ctx);
          try {
            const { grads, ...r } = lossAndGrads(run, batch, ctx, rows[i]!.length / total);
            results.push(r);
            acc.add(grads);
            tf.dispose(Object.values(grads));
          } finally {
            run.o.disposeBatch?.(batch);
          }
        }
        const sums: tf.NamedTensorMap = Object.fromEntries(acc.sums());
        applyGrads(run, sums);
      } finally {
        acc.dispose();
      }
    }
  } finally {
    run.o.afterStep?.(ctx0);
  }
  finishStep(run, step, results, rows.map((r) => r.length));
}

function finish<B>(run: Run<B>): void {
  for (const o of run.opts) o.dispose();
}

/**
 * Trains `options.groups` for `options.steps` optimizer steps (resuming from the checkpoint when
 * there is one). Variables are updated in place; the optimizers are freed at the end.
 */
export async function train<B>(options: TrainerOptions<B>): Promise<TrainerResult> {
  const run = start(options);
  try {
    const resumedFrom = loadState(run);
    for (let step = resumedFrom; step < options.steps; step++) {
      const rows = piecesOf(run, step);
      const loaded: B[] = [];
      try {
        // loading may be async (tokenisation); the step itself is synchronous
        for (let i = 0; i < rows.length; i++) loaded.push(await options.loadBatch(rows[i]!, { step, steps: options.steps, piece: i, pieces: rows.length }));
      } catch (err) {
        for (const b of loaded) options.disposeBatch?.(b);
        throw err;
      }
      optimizerStep(run, step, (i) => loaded[i]!, rows);
    }
    return { logs: run.logs, resumedFrom };
  } finally {
    finish(run);
  }
}

/** train() for methods whose batches load synchronously (loadBatch must not return a promise). */
export function trainSync<B>(options: TrainerOptions<B>): TrainerResult {
  const run = start(options);
  try {
    const resumedFrom = loadState(run);
    for (let step = resumedFrom; step < options.steps; step++) {
      const rows = piecesOf(run, step);
      optimizerStep(run, step, (i, ctx) => {
        const b = options.loadBatch(rows[i]!, ctx);
        if (b instanceof Promise) throw new Error('trainSync: loadBatch returned a promise; use train()');
        return b;
      }, rows);
    }
    return { logs: run.logs, resumedFrom };
  } finally {
    finish(run);
  }
}
