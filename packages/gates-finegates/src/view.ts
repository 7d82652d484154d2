// Weight views for the gated and low-rank forwards over tensor-core's one encoder forward.
import * as tf from '@tensorflow/tfjs-core';
import { parseLinearName, type WeightView } from '@prunekit/tensor-core';
import type { GateValues } from './gates.js';

/** Bias name of a linear's weight name (`….weight` → `….bias`). */
export function biasOf(weightName: string): string {
  return weightName.replace(/\.weight$/, '.bias');
}

/**
 * The gated view: for a gated linear, weight diag(z_r)·W·diag(z_c) and bias z_r ⊙ b, so the forward's
 * linear computes y = z_r ⊙ (W (z_c ⊙ x) + b). `overrides` replace parameters first (trained biases).
 * Tensors it returns are created on each call: call the forward inside tf.tidy.
 */
export function gatedView(base: WeightView, gates: ReadonlyMap<string, GateValues>, overrides: ReadonlyMap<string, tf.Tensor> = new Map()): WeightView {
  const biasGate = new Map<string, string>();
  for (const name of gates.keys()) biasGate.set(biasOf(name), name);
  const src = (name: string): tf.Tensor => overrides.get(name) ?? base(name);
  return (name) => {
    const g = gates.get(name);
    if (g) return tf.mul(tf.mul(src(name), tf.reshape(g.rows, [-1, 1])), tf.reshape(g.cols, [1, -1]));
    const w = biasGate.get(name);
    if (w !== undefined) return tf.mul(src(name), gates.get(w)!.rows);
    return src(name);
  };
}

/** The LoRA view: W + B·A for the adapted weights (A [r, in], B [out, r]), scaled by `scale`. */
export function loraView(base: WeightView, lora: ReadonlyMap<string, { a: tf.Tensor; b: tf.Tensor }>, scale = 1, overrides: ReadonlyMap<string, tf.Tensor> = new Map()): WeightView {
  return (name) => {
    const w = overrides.get(name) ?? base(name);
    const ab = lora.get(name);
    if (!ab) return w;
    const delta = tf.matMul(ab.b, ab.a);
    return tf.add(w, scale === 1 ? delta : tf.mul(delta, scale));
  };
}

/** True for the weight of an encoder-layer linear (what gates and LoRA attach to). */
export function isLayerLinearWeight(name: string): boolean {
  const p = parseLinearName(name);
  return p !== null && p.param === 'weight';
}
