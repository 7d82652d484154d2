import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { GradientAccumulator, accumulateInto } from './accumulate.js';
import { disposeTensors } from './variables.js';

beforeAll(async () => {
  await initBackend();
});

describe('GradientAccumulator', () => {
  it('averages K micro-batches in preallocated buffers and resets in place', () => {
    const acc = new GradientAccumulator({ a: [2], b: [1, 2] });
    const buffers = acc.sums();
    const bufA = buffers.get('a')!;
    const before = tf.memory().numTensors;
    const gs: tf.NamedTensorMap[] = [
      { a: tf.tensor1d([1, 2]), b: tf.tensor2d([[3, 4]]) },
      { a: tf.tensor1d([3, 4]), b: tf.tensor2d([[5, 6]]) },
      { a: tf.tensor1d([5, 9]) }, // b missing: a zero gradient
    ];
    for (const g of gs) acc.add(g);
    expect(tf.memory().numTensors).toBe(before + 5); // only the caller's gradients
    expect(acc.count).toBe(3);
    expect(acc.sums().get('a')).toBe(bufA); // same buffer, updated in place
    const mean = acc.mean();
    expect(Array.from(mean.a!.dataSync())).toEqual([3, 5]);
    const mb = mean.b!.dataSync();
    expect(mb[0]).toBeCloseTo(8 / 3, 6);
    expect(mb[1]).toBeCloseTo(10 / 3, 6);
    disposeTensors(mean);
    acc.reset();
    expect(acc.count).toBe(0);
    expect(Array.from(bufA.dataSync())).toEqual([0, 0]);
    expect(() => acc.mean()).toThrow(/before any add/);
    expect(() => {
      acc.add({ c: tf.zeros([1]) });
    }).toThrow(/unknown name "c"/);
    for (const g of gs) disposeTensors(g);
    acc.dispose();
  });

  it("'square' mode accumulates g ⊙ g (Fisher diagonal), with weights", () => {
    const v = tf.variable(tf.zeros([2]), true, 'acc-test-v');
    const acc = new GradientAccumulator(new Map([['v', v]]), { mode: 'square' });
    const g1 = { v: tf.tensor1d([1, -2]) };
    const g2 = { v: tf.tensor1d([3, 0.5]) };
    acc.add(g1);
    acc.add(g2, 0.5);
    expect(Array.from(acc.sums().get('v')!.dataSync())).toEqual([1 + 4.5, 4 + 0.125]);
    disposeTensors(g1);
    disposeTensors(g2);
    acc.dispose();
    v.dispose();
  });

  it('applyMean hands the mean to a step function, frees it and resets', () => {
    const acc = new GradientAccumulator({ w: [3] });
    const g = { w: tf.tensor1d([2, 4, 6]) };
    acc.add(g);
    acc.add(g);
    const before = tf.memory().numTensors;
    let seen: number[] = [];
    expect(acc.applyMean((m) => (seen = Array.from(m.w!.dataSync())))).toBe(2);
    expect(seen).toEqual([2, 4, 6]);
    expect(acc.count).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    disposeTensors(g);
    acc.dispose();
  });

  it('accumulateInto adds weight · t into a variable in place', () => {
    const buf = tf.variable(tf.ones([2]), false, 'acc-test-into');
    const t = tf.tensor1d([2, 3]);
    const before = tf.memory().numTensors;
    accumulateInto(buf, t, 2);
    accumulateInto(buf, t);
    expect(Array.from(buf.dataSync())).toEqual([7, 10]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([buf, t]);
  });
});

describe('GradientAccumulator memory', () => {
  it('holds exactly one buffer per variable and frees everything on dispose', async () => {
    await initBackend();
    const before = tf.memory();
    const acc = new GradientAccumulator({ a: [3, 4], b: [5] });
    const during = tf.memory();
    expect(during.numTensors - before.numTensors).toBe(2);
    expect(during.numBytes - before.numBytes).toBe((12 + 5) * 4);
    acc.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
  });
});
