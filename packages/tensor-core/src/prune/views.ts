// Weight views: functions from an HF parameter name to the tensor the forward uses.
import * as tf from '@tensorflow/tfjs-core';
import type { WeightView } from '../model/model.js';

/** W ⊙ M for every name that has a mask; the base tensor otherwise. */
export function maskedView(base: WeightView, masks: ReadonlyMap<string, tf.Tensor>): WeightView {
  return (name) => {
    const m = masks.get(name);
    return m ? tf.mul(base(name), m) : base(name);
  };
}

/** Uses `overrides` (e.g. trainable variables) where present, the base elsewhere. */
export function overrideView(base: WeightView, overrides: ReadonlyMap<string, tf.Tensor>): WeightView {
  return (name) => overrides.get(name) ?? base(name);
}
