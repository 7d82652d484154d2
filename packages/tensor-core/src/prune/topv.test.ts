import { describe, expect, it } from 'vitest';
import { createRng } from '../train/rng.js';
import { allocateKeep, allocateTopV, keepCount, kthLargest, scoreMass, thresholdMask, topVMask, type KeepMatrix } from './allocate.js';

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
});

const KINDS = ['query', 'key', 'value', 'attn_output', 'ffn_up', 'ffn_down'];

function matrices(layers: number, seed: number, spread = 2): KeepMatrix[] {
  const rng = createRng(seed);
  const out: KeepMatrix[] = [];
  for (let l = 0; l < layers; l++) {
    for (const kind of KINDS) {
      const numel = kind.startsWith('ffn') ? 96 : 48;
      const shift = (rng.uniformArray(1, -spread, spread)[0]!);
      out.push({ name: `l${l}.${kind}`, kind, numel, scores: Float32Array.from(rng.uniformArray(numel, -1, 1), (v) => v + shift) });
    }
  }
  return out;
}

describe('allocation', () => {
  it('SMP-L keeps the same fraction in every matrix', () => {
    const ms = matrices(3, 1);
    const c = allocateKeep(ms, 0.25, 'smp-l');
    for (const m of ms) expect(c.get(m.name)).toBe(Math.round(0.25 * m.numel));
  });

  it('SMP-S sums to the global budget at every keep fraction, p and score spread', () => {
    for (const seed of [1, 2, 3]) {
      for (const spread of [0, 2, 8]) {
        const ms = matrices(4, seed, spread);
        for (const v of [0.03, 0.1, 0.5, 0.8, 0.95, 1]) {
          for (const p of [0.5, 1, 4]) {
            const c = allocateKeep(ms, v, 'smp-s', p);
            let total = 0;
            for (const kind of KINDS) {
              const group = ms.filter((m) => m.kind === kind);
              const kept = group.reduce((a, m) => a + c.get(m.name)!, 0);
              expect(kept).toBe(Math.round(v * group.reduce((a, m) => a + m.numel, 0)));
              total += kept;
              for (const m of group) expect(c.get(m.name)!).toBeLessThanOrEqual(m.numel);
            }
            const all = ms.reduce((a, m) => a + m.numel, 0);
            expect(Math.abs(total - v * all)).toBeLessThanOrEqual(KINDS.length / 2);
          }
        }
      }
    }
  });

  it('SMP-S gives v_l = R(S_l)·L/ΣR·v (up to rounding) and a larger p flattens it', () => {
    const ms = matrices(4, 7, 1);
    const v = 0.2;
    const q = ms.filter((m) => m.kind === 'query');
    const c = allocateKeep(ms, v, 'smp-s', 1);
    const R = q.map((m) => scoreMass(m.scores, 1));
    const sumR = R.reduce((a, b) => a + b, 0);
    q.forEach((m, l) => {
      expect(Math.abs(c.get(m.name)! - (R[l]! * q.length / sumR) * v * m.numel)).toBeLessThanOrEqual(1);
    });
    const spreadOf = (p: number): number => {
      const cc = allocateKeep(ms, v, 'smp-s', p);
      const ks = q.map((m) => cc.get(m.name)!);
      return Math.max(...ks) - Math.min(...ks);
    };
    expect(spreadOf(8)).toBeLessThan(spreadOf(1));
  });

  it('SMP-S caps a matrix at its size and gives the excess to the others', () => {
    const big = Float32Array.from({ length: 10 }, () => 20);
    const small = Float32Array.from({ length: 10 }, () => -20);
    const ms: KeepMatrix[] = [
      { name: 'a', kind: 'query', numel: 10, scores: big },
      { name: 'b', kind: 'query', numel: 10, scores: small },
    ];
    const c = allocateKeep(ms, 0.8, 'smp-s');
    expect(c.get('a')).toBe(10);
    expect(c.get('b')).toBe(6);
  });
});

describe('allocateTopV: SMP-L / SMP-S keep counts for any scorer', () => {
  const name = (l: number, kind: string): string => `encoder.layer.${l}.${kind === 'ffn_up' ? 'intermediate.dense' : kind === 'ffn_down' ? 'output.dense' : `attention.self.${kind}`}.weight`;
  it('keeps exactly round(v·n) per matrix (smp-l) or per type (smp-s), the largest scores, ties by lower index', () => {
    const rng = createRng(9);
    const scores = new Map<string, { shape: number[]; scores: Float32Array }>();
    for (const l of [0, 1, 2]) {
      for (const kind of ['query', 'ffn_up']) scores.set(name(l, kind), { shape: [4, 5], scores: Float32Array.from(rng.uniformArray(20, -1, 1), (v) => v + l) });
    }
    const local = allocateTopV(scores, 0.3, 'smp-l');
    for (const m of local.stats().perMatrix) expect(m.kept).toBe(6);
    const bytype = allocateTopV(scores, 0.3, 'smp-s');
    for (const kind of ['query', 'ffn_up']) expect([0, 1, 2].reduce((a, l) => a + bytype.stats().perMatrix.find((m) => m.name === name(l, kind))!.kept, 0)).toBe(18);
    // a higher-scoring layer (scores shifted by +l) keeps more under SMP-S
    const q = [0, 1, 2].map((l) => bytype.stats().perMatrix.find((m) => m.name === name(l, 'query'))!.kept);
    expect(q[2]).toBeGreaterThan(q[0]!);
    // all-equal scores: the first k in row-major order
    const ties = allocateTopV(new Map([[name(0, 'query'), { shape: [2, 3], scores: new Float32Array(6) }]]), 0.5, 'smp-l');
    expect(Array.from(ties.masks.get(name(0, 'query'))!.data)).toEqual([1, 1, 1, 0, 0, 0]);
    expect(() => allocateTopV(new Map([['pooler.dense.weight', { shape: [1, 2], scores: new Float32Array(2) }]]), 0.5, 'smp-s')).toThrow(/matrix type of "pooler.dense.weight"/);
  });

  it('thresholdMask keeps scores strictly above the threshold', () => {
    expect(Array.from(thresholdMask(Float32Array.from([0.1, 0.5, 0.7, 0.5]), 0.5))).toEqual([0, 0, 1, 0]);
    expect(() => thresholdMask(Float32Array.from([Number.NaN]), 0)).toThrow(/NaN at index 0/);
  });
});
