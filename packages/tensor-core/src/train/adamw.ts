// AdamW exactly as torch.optim.AdamW (amsgrad off, maximize off):
//   p ← p − lr·wd·p                       (decoupled weight decay, skipped for excluded names)
//   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
// t counts the steps that variable received a gradient (torch keeps the step per parameter).
// Moments are preallocated non-trainable variables, updated in place (Variable.assign in tf.tidy).
import * as tf from '@tensorflow/tfjs-core';
import type { Schedule } from './schedules.js';
import { clipByGlobalNorm, variableEntries, type VariableMap } from './variables.js';

/** Default weight-decay exclusion: biases and LayerNorm parameters (HF naming). */
export function isNoDecayParam(name: string): boolean {
  return /(^|\.)bias$/.test(name) || /layer_?norm/i.test(name) || /(^|\.)(ln|norm)[^.]*\.weight$/i.test(name);
}

export interface AdamWOptions {
  /** base learning rate (default 1e-3, torch's) */
  lr?: number;
  /** (β1, β2), default (0.9, 0.999) */
  betas?: readonly [number, number];
  /** default 1e-8 */
  eps?: number;
  /** decoupled weight decay, default 0.01 (torch's) */
  weightDecay?: number;
  /** names that get no weight decay (default: isNoDecayParam; pass () => false to decay all) */
  noDecay?: (name: string) => boolean;
  /** clip gradients to this global L2 norm before the update (default: no clipping) */
  maxGradNorm?: number;
  /** LR multiplier by 0-based optimizer step (default: constant 1) */
  schedule?: Schedule;
}

/** A checkpoint of AdamW's state (see AdamW.state). */
export interface AdamWState {
  /** optimizer steps taken (the schedule's position) */
  step: number;
  /** steps each variable has received */
  variableSteps: Record<string, number>;
  /** `<name>.exp_avg`, `<name>.exp_avg_sq` */
  tensors: tf.NamedTensorMap;
}

interface Slot {
  name: string;
  param: tf.Variable;
  m: tf.Variable;
  v: tf.Variable;
  decay: boolean;
  step: number;
}

let instanceCounter = 0;

export class AdamW {
  readonly lr: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly maxGradNorm: number | undefined;
  private readonly schedule: Schedule | undefined;
  private readonly slots = new Map<string, Slot>();
  private steps = 0;
  private lastNorm: tf.Scalar | null = null;
  private disposed = false;

  constructor(variables: VariableMap, options: AdamWOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.maxGradNorm = options.maxGradNorm;
    this.schedule = options.schedule;
    const [b1, b2] = this.betas;
    if (!(this.lr >= 0)) throw new Error(`lr must be ≥ 0 (got ${this.lr})`);
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new Error(`betas must be in [0, 1) (got ${b1}, ${b2})`);
    if (!(this.eps >= 0)) throw new Error(`eps must be ≥ 0 (got ${this.eps})`);
    if (!(this.weightDecay >= 0)) throw new Error(`weightDecay must be ≥ 0 (got ${this.weightDecay})`);
    const noDecay = options.noDecay ?? isNoDecayParam;
    const id = instanceCounter++;
    for (const [name, param] of variableEntries(variables)) {
      if (param.dtype !== 'float32') throw new Error(`AdamW: variable "${name}" is ${param.dtype}, not float32`);
      this.slots.set(name, {
        name,
        param,
        m: zeroVariable(param.shape, `adamw${id}/${name}/m`),
        v: zeroVariable(param.shape, `adamw${id}/${name}/v`),
        decay: this.weightDecay > 0 && !noDecay(name),
        step: 0,
      });
    }
  }

  /** Optimizer steps taken so far (the index the schedule sees next). */
  get stepCount(): number {
    return this.steps;
  }

  /** The learning rate the next step will use. */
  currentLr(): number {
    return this.lr * (this.schedule ? this.schedule(this.steps) : 1);
  }

  /** Names of the variables that receive weight decay. */
  decayedNames(): string[] {
    return [...this.slots.values()].filter((s) => s.decay).map((s) => s.name);
  }

  /** Global gradient norm (before clipping) seen by the last step, when maxGradNorm is set. */
  lastGradNorm(): number | null {
    return this.lastNorm ? this.lastNorm.dataSync()[0]! : null;
  }

  /** First and second moments of a variable (the optimizer's own buffers; do not dispose). */
  moments(name: string): { m: tf.Variable; v: tf.Variable; step: number } | undefined {
    const s = this.slots.get(name);
    return s ? { m: s.m, v: s.v, step: s.step } : undefined;
  }

  /**
   * One update from `grads` keyed by variable name (the caller still owns and disposes them).
   * Variables without a gradient are left untouched, as torch skips parameters whose grad is None.
   */
  step(grads: tf.NamedTensorMap): void {
    if (this.disposed) throw new Error('AdamW: step() after dispose()');
    for (const name of Object.keys(grads)) {
      const slot = this.slots.get(name);
      if (!slot) throw new Error(`AdamW: gradient for unknown variable "${name}"`);
      const g = grads[name]!;
      if (!arraysEqual(g.shape, slot.param.shape)) {
        throw new Error(`AdamW: gradient for "${name}" has shape [${g.shape.join(', ')}], variable has [${slot.param.shape.join(', ')}]`);
      }
    }
    const lr = this.currentLr();
    const [b1, b2] = this.betas;
    if (this.lastNorm) {
      this.lastNorm.dispose();
      this.lastNorm = null;
    }
    tf.tidy(() => {
      let use = grads;
      if (this.maxGradNorm !== undefined) {
        const clipped = clipByGlobalNorm(grads, this.maxGradNorm);
        use = clipped.grads;
        this.lastNorm = tf.keep(clipped.norm);
      }
      for (const [name, g] of Object.entries(use)) {
        const s = this.slots.get(name)!;
        s.step += 1;
        const bc1 = 1 - b1 ** s.step;
        const bc2Sqrt = Math.sqrt(1 - b2 ** s.step);
        let p: tf.Tensor = s.param;
        if (s.decay) p = tf.mul(p, tf.scalar(1 - lr * this.weightDecay));
        const m = tf.add(tf.mul(s.m, tf.scalar(b1)), tf.mul(g, tf.scalar(1 - b1)));
        const v = tf.add(tf.mul(s.v, tf.scalar(b2)), tf.mul(tf.square(g), tf.scalar(1 - b2)));
        const denom = tf.add(tf.div(tf.sqrt(v), tf.scalar(bc2Sqrt)), tf.scalar(this.eps));
        const next = tf.sub(p, tf.mul(tf.div(m, denom), tf.scalar(lr / bc1)));
        s.m.assign(m);
        s.v.assign(v);
        s.param.assign(next);
      }
    });
    this.steps += 1;
  }

  /**
   * The optimizer state for checkpoints: copies of the moments keyed `<name>.exp_avg` and
   * `<name>.exp_avg_sq` (torch's names; tensors the caller disposes, e.g. after writing them as
   * safetensors), the per-variable step counts and the optimizer step count.
   */
  state(): AdamWState {
    const tensors: tf.NamedTensorMap = {};
    const variableSteps: Record<string, number> = {};
    for (const s of this.slots.values()) {
      tensors[`${s.name}.exp_avg`] = tf.clone(s.m);
      tensors[`${s.name}.exp_avg_sq`] = tf.clone(s.v);
      variableSteps[s.name] = s.step;
    }
    return { step: this.steps, variableSteps, tensors };
  }

  /** Restores a state() into the preallocated buffers (in place; the caller keeps `state`). */
  loadState(state: AdamWState): void {
    for (const s of this.slots.values()) {
      const m = state.tensors[`${s.name}.exp_avg`];
      const v = state.tensors[`${s.name}.exp_avg_sq`];
      const step = state.variableSteps[s.name];
      if (!m || !v || step === undefined) throw new Error(`AdamW.loadState: no state for variable "${s.name}"`);
      if (!arraysEqual(m.shape, s.param.shape) || !arraysEqual(v.shape, s.param.shape)) {
        throw new Error(`AdamW.loadState: state for "${s.name}" does not have shape [${s.param.shape.join(', ')}]`);
      }
    }
    tf.tidy(() => {
      for (const s of this.slots.values()) {
        s.m.assign(tf.cast(state.tensors[`${s.name}.exp_avg`]!, 'float32'));
        s.v.assign(tf.cast(state.tensors[`${s.name}.exp_avg_sq`]!, 'float32'));
        s.step = state.variableSteps[s.name]!;
      }
    });
    this.steps = state.step;
  }

  /** Frees the moment buffers (not the parameters). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.lastNorm?.dispose();
    this.lastNorm = null;
  }
}

/** A non-trainable zero variable; the initial tensor is freed (tf.variable keeps its own handle). */
function zeroVariable(shape: readonly number[], name: string): tf.Variable {
  const init = tf.zeros([...shape], 'float32');
  const v = tf.variable(init, false, name);
  init.dispose();
  return v;
}

function arraysEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
