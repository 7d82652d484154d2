import { describe, expect, it } from 'vitest';
import { createRng } from '@prunekit/tensor-core';
import { keepCount, kthLargest, packBits, topVMask, unpackBits } from './topv.js';

const sum = (m: Uint8Array): number => m.reduce((a, b) => a + b, 0);

describe('Top-v', () => {
  it('keeps exactly round(v·n) weights, the largest scores', () => {
    const rng = createRng(1);
    for (const n of [1, 7, 100, 1000, 4099]) {
      const s = rng.uniformArray(n, -1, 1);
      for (const v of [0, 0.03, 0.1, 0.5, 0.8, 1]) {
        const k = keepCount(n, v);
        expect(k).toBe(Math.round(v * n));
        const m = topVMask(s, k);
        expect(sum(m)).toBe(k);
        if (k > 0 && k < n) {
          let minKept = Infinity;
          let maxDropped = -Infinity;
          for (let i = 0; i < n; i++) {
            if (m[i]) minKept = Math.min(minKept, s[i]!);
            else maxDropped = Math.max(maxDropped, s[i]!);
          }
          expect(minKept).toBeGreaterThanOrEqual(maxDropped);
        }
      }
    }
  });

  it('breaks ties at the cut by lower index, deterministically', () => {
    // all equal (scores start at 0): the first k positions
    expect(Array.from(topVMask(new Float32Array(10), 4))).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    // after one AdamW step scores take few values: ±lr and 0
    const s = Float32Array.from([0, 0.02, -0.02, 0.02, 0, 0, 0.02, -0.02]);
    expect(Array.from(topVMask(s, 5))).toEqual([1, 1, 0, 1, 1, 0, 1, 0]);
    expect(Array.from(topVMask(s, 3))).toEqual([0, 1, 0, 1, 0, 0, 1, 0]);
    expect(Array.from(topVMask(s, 2))).toEqual([0, 1, 0, 1, 0, 0, 0, 0]);
    // exact count with many ties and random values
    const rng = createRng(2);
    const q = Float32Array.from({ length: 5000 }, () => rng.int(5) - 2);
    for (const k of [0, 1, 999, 1000, 2500, 4999, 5000]) expect(sum(topVMask(q, k))).toBe(k);
  });

  it('finds the k-th largest like a sort', () => {
    const rng = createRng(3);
    const s = Float32Array.from({ length: 3001 }, () => rng.int(50) / 7);
    const sorted = Float32Array.from(s).sort().reverse();
    for (const k of [1, 2, 100, 1500, 3000, 3001]) expect(kthLargest(s, k)).toBe(sorted[k - 1]);
  });

  it('rejects NaN and impossible counts', () => {
    expect(() => topVMask(Float32Array.from([1, NaN, 0]), 1)).toThrow(/NaN at index 1/);
    expect(() => topVMask(new Float32Array(3), 4)).toThrow(/keep count/);
    expect(() => keepCount(10, 1.5)).toThrow(/keep fraction/);
  });

  it('packs masks into ceil(n/8) bytes, LSB first, and back', () => {
    expect(Array.from(packBits(Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 1, 1])))).toEqual([0x81, 0x01]);
    const rng = createRng(4);
    for (const n of [1, 8, 9, 63, 1000]) {
      const m = Uint8Array.from({ length: n }, () => rng.int(2));
      const b = packBits(m);
      expect(b.length).toBe(Math.ceil(n / 8));
      expect(Array.from(unpackBits(b, n))).toEqual(Array.from(m));
    }
    expect(() => unpackBits(new Uint8Array(3), 8)).toThrow(/cannot hold/);
  });
});
