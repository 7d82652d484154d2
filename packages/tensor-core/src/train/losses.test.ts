// Behaviour beyond the PyTorch parity values (torch-parity.test.ts): edge cases and errors.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { cosineSimilarity, crossEntropyLoss, infoNCELoss, kdLoss, l2Normalize, mlmLoss, stopGradient } from './losses.js';

beforeAll(async () => {
  await initBackend();
});

describe('losses', () => {
  it('l2Normalize gives unit rows and leaves zero rows at zero', () => {
    const x = tf.tensor2d([[3, 4], [0, 0]]);
    const n = l2Normalize(x);
    expect(Array.from(n.dataSync())).toEqual([0.6000000238418579, 0.800000011920929, 0, 0]);
    const c = cosineSimilarity(tf.tensor2d([[1, 0]]), tf.tensor2d([[2, 0], [0, 5]]));
    expect(Array.from(c.dataSync())).toEqual([1, 0]);
    tf.dispose([x, n, c]);
  });

  it('InfoNCE: a perfect, well-separated batch has a loss near 0; a swapped one a large loss', () => {
    const q = tf.eye(4);
    const good = infoNCELoss(q, q);
    expect(good.dataSync()[0]).toBeLessThan(1e-7);
    const swapped = tf.reverse(q, 0);
    const bad = infoNCELoss(q, swapped);
    expect(bad.dataSync()[0]).toBeGreaterThan(19);
    // scale changes the value
    const soft = infoNCELoss(q, q, undefined, { scale: 1 });
    expect(soft.dataSync()[0]).toBeCloseTo(-Math.log(Math.E / (Math.E + 3)), 5);
    tf.dispose([q, good, swapped, bad, soft]);
  });

  it('InfoNCE rejects mismatched shapes', () => {
    const q = tf.zeros([2, 3]);
    expect(() => infoNCELoss(q, tf.zeros([3, 3]))).toThrow(/does not match/);
    expect(() => infoNCELoss(q, q, tf.zeros([2, 4]))).toThrow(/hard negatives/);
    q.dispose();
  });

  it('cross-entropy: sum reduction, leading dims, NaN when every label is ignored (as torch)', () => {
    const logits = tf.tensor3d([[[1, 2, 3], [0, 0, 0]]]);
    const mean = crossEntropyLoss(logits, [2, 1]);
    const sum = crossEntropyLoss(logits, [2, 1], { reduction: 'sum' });
    const l0 = -Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)));
    const l1 = Math.log(3);
    expect(mean.dataSync()[0]).toBeCloseTo((l0 + l1) / 2, 5);
    expect(sum.dataSync()[0]).toBeCloseTo(l0 + l1, 5);
    const none = crossEntropyLoss(logits, [-100, -100]);
    expect(Number.isNaN(none.dataSync()[0])).toBe(true);
    expect(() => crossEntropyLoss(logits, [1])).toThrow(/1 labels for 2 rows/);
    tf.dispose([logits, mean, sum, none]);
  });

  it('MLM loss: NaN without masked positions, error on a label/logit mismatch', () => {
    const logits = tf.zeros([1, 2, 5]);
    expect(Number.isNaN(mlmLoss(logits, [-100, -100]).dataSync()[0])).toBe(true);
    expect(() => mlmLoss(logits, [1, 2, 3])).toThrow(/3 labels/);
    const one = mlmLoss(logits, [-100, 4]);
    expect(one.dataSync()[0]).toBeCloseTo(Math.log(5), 5);
    tf.dispose([logits, one]);
  });

  it('KD: α = 1 is the pure distillation term, zero when student equals teacher', () => {
    const s = tf.tensor2d([[1, 2, 3], [3, 1, 0]]);
    const same = kdLoss(s, s, [0, 0], { alpha: 1 });
    expect(Math.abs(same.dataSync()[0]!)).toBeLessThan(1e-6);
    const ceOnly = kdLoss(s, tf.zerosLike(s), [2, 0], { alpha: 0 });
    const ce = crossEntropyLoss(s, [2, 0]);
    expect(ceOnly.dataSync()[0]).toBeCloseTo(ce.dataSync()[0]!, 6);
    expect(() => kdLoss(s, tf.zeros([2, 4]), [0, 0])).toThrow(/differ in shape/);
    expect(() => kdLoss(s, s, [0, 0], { temperature: 0 })).toThrow(/temperature/);
    tf.dispose([s, same, ceOnly, ce]);
  });

  it('stopGradient passes values and blocks gradients', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => tf.sum(tf.add(tf.mul(t, stopGradient(t)), t)))(x);
    expect(value.dataSync()[0]).toBe(1 + 4 + 9 + 6);
    expect(Array.from(grad.dataSync())).toEqual([2, 3, 4]); // d/dt (t·c + t) = c + 1
    tf.dispose([x, value, grad]);
  });
});
