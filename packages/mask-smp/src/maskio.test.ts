import { describe, expect, it } from 'vitest';
import { createRng } from '@prunekit/tensor-core';
import { packBits, unpackBits } from './maskio.js';

describe('bit-packed masks', () => {
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
