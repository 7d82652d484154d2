// Inverted dropout with a fast seeded mask. tf.dropout draws its uniforms one by one in JavaScript
// (seedrandom) and then runs add, floor, div and mul on the whole tensor; on the demo's recovery that
// was a quarter of each training step. Here the keep/scale mask is filled in one typed-array loop
// (mulberry32 stream, integer threshold) and applied with a single multiply.
import * as tf from '@tensorflow/tfjs-core';

const TWO_32 = 4294967296;

/** A 32-bit start state from any finite seed (large integer seeds such as seed·1000 + call keep their high bits). */
function seedState(seed: number): number {
  const lo = seed % TWO_32 >>> 0;
  const hi = Math.floor(seed / TWO_32) >>> 0;
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi + 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/**
 * The dropout mask for `size` elements: 0 where dropped (probability `rate`), 1/(1 − rate) where kept.
 * The same seed gives the same mask; without a seed the mask is drawn from Math.random.
 */
export function dropoutMask(size: number, rate: number, seed?: number): Float32Array {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1) (got ${rate})`);
  if (seed !== undefined && !Number.isFinite(seed)) throw new Error(`dropout seed must be a finite number (got ${seed})`);
  const mask = new Float32Array(size);
  const keep = 1 - rate;
  const scale = 1 / keep;
  const threshold = Math.floor(keep * TWO_32); // kept iff the 32-bit draw is below it
  let s = seedState(seed ?? Math.floor(Math.random() * TWO_32)) | 0;
  for (let i = 0; i < size; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    if ((t ^ (t >>> 14)) >>> 0 < threshold) mask[i] = scale;
  }
  return mask;
}

/** Inverted dropout of x (training): each element zeroed with probability `rate`, the rest scaled by 1/(1 − rate). */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed?: number): T {
  if (rate === 0) return x;
  const mask = tf.tensor(dropoutMask(x.size, rate, seed), x.shape, 'float32');
  try {
    return tf.mul(x, mask) as T;
  } finally {
    mask.dispose();
  }
}
