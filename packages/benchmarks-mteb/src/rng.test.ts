import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { loadFixture } from './test-support/fixtures.js';

interface RngFixture { seed42_u32: number[]; seed7_int100: number[]; shuffle_seed3: number[] }

describe('Rng', () => {
  const fx = loadFixture<RngFixture>('rng.json');
  it('matches the Python port stream for stream (so seeded subsets are the same on both sides)', () => {
    const r = new Rng(42);
    expect(Array.from({ length: 8 }, () => r.nextU32())).toEqual(fx.seed42_u32);
    const r7 = new Rng(7);
    expect(Array.from({ length: 10 }, () => r7.int(100))).toEqual(fx.seed7_int100);
    expect(new Rng(3).shuffle(Array.from({ length: 10 }, (_, i) => i))).toEqual(fx.shuffle_seed3);
  });
  it('is uniform enough: mean of 20k draws near 0.5 and every bucket of int(10) hit', () => {
    const r = new Rng(1);
    let s = 0;
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 20000; i++) {
      s += r.next();
      buckets[r.int(10)]!++;
    }
    expect(Math.abs(s / 20000 - 0.5)).toBeLessThan(0.01);
    for (const b of buckets) expect(b).toBeGreaterThan(1800);
  });
});
