import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { dropout, dropoutMask } from './dropout.js';

beforeAll(async () => {
  await initBackend();
});

describe('dropout', () => {
  it('drops each element with probability rate and scales the rest by 1/(1 - rate)', () => {
    const n = 200_000;
    for (const rate of [0.1, 0.5]) {
      const mask = dropoutMask(n, rate, 3);
      const kept = mask.filter((v) => v !== 0);
      expect(kept.every((v) => v === Math.fround(1 / (1 - rate)))).toBe(true);
      // binomial: the dropped fraction is within 5 standard deviations of rate
      const sd = Math.sqrt((rate * (1 - rate)) / n);
      expect(Math.abs((n - kept.length) / n - rate)).toBeLessThan(5 * sd);
      // no long runs or periodic pattern: neighbouring elements are independent (kept-after-kept rate ≈ 1 - rate)
      let pairs = 0;
      let both = 0;
      for (let i = 1; i < n; i++) if (mask[i - 1] !== 0) { pairs++; if (mask[i] !== 0) both++; }
      expect(Math.abs(both / pairs - (1 - rate))).toBeLessThan(5 * Math.sqrt((rate * (1 - rate)) / pairs));
    }
  });

  it('gives the same mask for the same seed, another for another seed, including large seeds', () => {
    expect(dropoutMask(1000, 0.1, 7)).toEqual(dropoutMask(1000, 0.1, 7));
    expect(dropoutMask(1000, 0.1, 7)).not.toEqual(dropoutMask(1000, 0.1, 8));
    // seeds above 2^32 (seed * 1000 + call) must still differ in their high part
    expect(dropoutMask(1000, 0.1, 2 ** 40)).not.toEqual(dropoutMask(1000, 0.1, 2 ** 41));
    expect(dropoutMask(1000, 0.1)).not.toEqual(dropoutMask(1000, 0.1));
  });

  it('is inverted dropout in the forward pass and passes gradients only through kept elements', () => {
    const x = tf.fill([4, 64, 32], 2);
    const mask = dropoutMask(x.size, 0.25, 11);
    expect(Array.from(dropout(x, 0.25, 11).dataSync())).toEqual(Array.from(mask, (m) => Math.fround(2 * m)));
    const g = tf.grad((t: tf.Tensor) => tf.sum(dropout(t, 0.25, 11)))(x);
    expect(Array.from(g.dataSync())).toEqual(Array.from(mask));
    expect(dropout(x, 0)).toBe(x);
    tf.dispose([x, g]);
  });

  it('rejects a rate outside [0, 1) and a non-finite seed', () => {
    expect(() => dropoutMask(4, 1)).toThrow(/rate must be in \[0, 1\)/);
    expect(() => dropoutMask(4, -0.1)).toThrow(/rate/);
    expect(() => dropoutMask(4, 0.1, Number.NaN)).toThrow(/seed must be a finite number/);
  });
});
