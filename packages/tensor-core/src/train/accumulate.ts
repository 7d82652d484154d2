// Gradient accumulation into preallocated buffers: one non-trainable variable per name, updated in
// place (Variable.assign in tf.tidy), so K micro-batches cost no more memory than one.
import * as tf from '@tensorflow/tfjs-core';
import { variableEntries, type VariableMap } from './variables.js';

export interface GradientAccumulatorOptions {
  /**
   * 'sum' accumulates g (gradient accumulation); 'square' accumulates g ⊙ g (e.g. the empirical
   * Fisher diagonal). Default 'sum'.
   */
  mode?: 'sum' | 'square';
}

let instanceCounter = 0;

/** Adds `weight · t` into `buffer` in place. */
export function accumulateInto(buffer: tf.Variable, t: tf.Tensor, weight = 1): void {
  tf.tidy(() => {
    buffer.assign(tf.add(buffer, weight === 1 ? t : tf.mul(t, tf.scalar(weight))));
  });
}

export class GradientAccumulator {
  readonly mode: 'sum' | 'square';
  private readonly buffers = new Map<string, tf.Variable>();
  private micro = 0;
  private disposed = false;

  /** `shapes`: the variables to accumulate for (their shapes), or shapes by name. */
  constructor(shapes: VariableMap | Readonly<Record<string, readonly number[]>>, options: GradientAccumulatorOptions = {}) {
    this.mode = options.mode ?? 'sum';
    const id = instanceCounter++;
    const entries: [string, readonly number[]][] =
      shapes instanceof Map
        ? variableEntries(shapes as VariableMap).map(([n, v]) => [n, v.shape])
        : Object.entries(shapes as Record<string, tf.Variable | readonly number[]>).map(([n, v]) => [n, Array.isArray(v) ? (v as readonly number[]) : (v as tf.Variable).shape]);
    for (const [name, shape] of entries) {
      // the variable holds its own reference to the data; the initial zeros must be freed here
      const zeros = tf.zeros([...shape], 'float32');
      this.buffers.set(name, tf.variable(zeros, false, `gradacc${id}/${name}`));
      zeros.dispose();
    }
  }

  /** Micro-batches added since the last reset. */
  get count(): number {
    return this.micro;
  }

  /** Names of the buffers. */
  names(): string[] {
    return [...this.buffers.keys()];
  }

  /**
   * Adds one micro-batch's gradients (`weight · g`, or `weight · g²` in 'square' mode); the caller
   * keeps ownership of `grads`. Names absent from `grads` count as zero gradients.
   */
  add(grads: tf.NamedTensorMap, weight = 1): void {
    if (this.disposed) throw new Error('GradientAccumulator: add() after dispose()');
    for (const name of Object.keys(grads)) {
      if (!this.buffers.has(name)) throw new Error(`GradientAccumulator: gradient for unknown name "${name}"`);
    }
    tf.tidy(() => {
      for (const [name, g] of Object.entries(grads)) {
        const buf = this.buffers.get(name)!;
        if (g.size !== buf.size) throw new Error(`GradientAccumulator: "${name}" has shape [${g.shape.join(', ')}], buffer [${buf.shape.join(', ')}]`);
        let x = this.mode === 'square' ? tf.square(g) : g;
        if (weight !== 1) x = tf.mul(x, tf.scalar(weight));
        buf.assign(tf.add(buf, tf.reshape(x, buf.shape)));
      }
    });
    this.micro += 1;
  }

  /** The running sums (the accumulator's own buffers: read them, do not dispose them). */
  sums(): ReadonlyMap<string, tf.Variable> {
    return this.buffers;
  }

  /** Sum / count for every name, as new tensors the caller disposes. */
  mean(): tf.NamedTensorMap {
    if (this.micro === 0) throw new Error('GradientAccumulator: mean() before any add()');
    const inv = 1 / this.micro;
    return tf.tidy(() => {
      const out: tf.NamedTensorMap = {};
      for (const [name, buf] of this.buffers) out[name] = tf.mul(buf, tf.scalar(inv));
      return out;
    });
  }

  /** Restores sums and count saved from an earlier run (resuming an interrupted accumulation). */
  restore(sums: ReadonlyMap<string, Float32Array>, count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new Error(`GradientAccumulator: restore count must be a non-negative integer (got ${count})`);
    for (const [name, buf] of this.buffers) {
      const data = sums.get(name);
      if (!data) throw new Error(`GradientAccumulator: restore is missing "${name}"`);
      if (data.length !== buf.size) throw new Error(`GradientAccumulator: restore "${name}" has ${data.length} values, buffer ${buf.size}`);
      tf.tidy(() => {
        buf.assign(tf.tensor(data, buf.shape, 'float32'));
      });
    }
    this.micro = count;
  }

  /** Zeroes the buffers in place and the count. */
  reset(): void {
    tf.tidy(() => {
      for (const buf of this.buffers.values()) buf.assign(tf.zerosLike(buf));
    });
    this.micro = 0;
  }

  /**
   * Averages the accumulated gradients, hands them to `step` (e.g. `(g) => optimizer.step(g)`),
   * frees them and resets. Returns the number of micro-batches that were averaged.
   */
  applyMean(step: (grads: tf.NamedTensorMap) => void): number {
    const n = this.micro;
    const mean = this.mean();
    try {
      step(mean);
    } finally {
      for (const t of Object.values(mean)) t.dispose();
    }
    this.reset();
    return n;
  }

  /** Frees the buffers. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const buf of this.buffers.values()) buf.dispose();
  }
}
