import crypto from 'node:crypto';
import type { Encoder } from '../encoder.js';

/** A deterministic bag-of-words hashing encoder (dimension 64) that counts its calls. */
export function toyEncoder(name = 'toy-hash-64'): Encoder & { calls: number; texts: number } {
  const enc = {
    name,
    fingerprint: `${name}-v1`,
    calls: 0,
    texts: 0,
    encode(texts: string[]): Promise<Float32Array[]> {
      enc.calls++;
      enc.texts += texts.length;
      return Promise.resolve(
        texts.map((t) => {
          const v = new Float32Array(64);
          for (const w of t.toLowerCase().split(/\W+/).filter(Boolean)) {
            const h = crypto.createHash('md5').update(w).digest();
            v[h[0]! % 64]! += 1;
            v[h[1]! % 64]! += h[2]! % 2 ? 0.5 : -0.5;
          }
          return v;
        }),
      );
    },
  };
  return enc;
}
