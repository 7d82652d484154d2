import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createRng, initBackend, topVMask } from '@prunekit/tensor-core';
import { steMaskedWeight } from './ste.js';

beforeAll(async () => {
  await initBackend();
});

describe('straight-through estimator', () => {
  it('forwards W ⊙ TopV(S) and passes dL/dS = dL/dW\' ⊙ W, dL/dW = dL/dW\' ⊙ M', () => {
    const rng = createRng(5);
    const [o, i] = [6, 5];
    const wData = rng.uniformArray(o * i, -1, 1);
    const sData = rng.uniformArray(o * i, -1, 1);
    const mData = Float32Array.from(topVMask(sData, 12));
    const x = tf.tensor2d(rng.uniformArray(3 * i, -1, 1), [3, i]);
    const probe = tf.tensor2d(rng.uniformArray(3 * o, -1, 1), [3, o]);
    const w = tf.variable(tf.tensor2d(wData, [o, i]));
    const s = tf.variable(tf.tensor2d(sData, [o, i]));
    const m = tf.tensor2d(mData, [o, i]);
    // L = sum(probe ⊙ x (W⊙M)ᵀ), a linear layer under a fixed probe
    const loss = (wp: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.matMul(x, wp, false, true), probe));
    const out = steMaskedWeight(w, s, m);
    expect(Array.from(out.dataSync())).toEqual(Array.from(wData, (v, k) => v * mData[k]!));
    const { grads } = tf.variableGrads(() => loss(steMaskedWeight(w, s, m)), [w, s]);
    // dL/dW' computed independently: the gradient of L with respect to the masked matrix itself
    const gPrime = tf.grad((wp: tf.Tensor) => loss(wp))(tf.mul(w, m));
    const gp = gPrime.dataSync();
    const gS = grads[s.name]!.dataSync();
    const gW = grads[w.name]!.dataSync();
    for (let k = 0; k < o * i; k++) {
      expect(gS[k]).toBeCloseTo(gp[k]! * wData[k]!, 6);
      expect(gW[k]).toBeCloseTo(gp[k]! * mData[k]!, 6);
    }
    // pruned entries still get a score gradient (that is how they come back)
    const pruned = [...mData.keys()].filter((k) => mData[k] === 0 && wData[k] !== 0 && Math.abs(gp[k]!) > 1e-6);
    expect(pruned.length).toBeGreaterThan(0);
    for (const k of pruned) expect(Math.abs(gS[k]!)).toBeGreaterThan(0);
    tf.dispose([x, probe, w, s, m, out, gPrime, ...Object.values(grads)]);
  });

  it('checks shapes', () => {
    expect(() => steMaskedWeight(tf.zeros([2, 3]), tf.zeros([3, 2]), tf.zeros([2, 3]))).toThrow(/one shape/);
  });
});
