import { describe, expect, it } from 'vitest';
import { createRng } from '@prunekit/tensor-core';
import { allocateKeep, scoreMass, type AllocMatrix } from './allocate.js';
import { keepSchedule, regulariserWeight } from './schedule.js';

const KINDS = ['query', 'key', 'value', 'attn_output', 'ffn_up', 'ffn_down'];

function matrices(layers: number, seed: number, spread = 2): AllocMatrix[] {
  const rng = createRng(seed);
  const out: AllocMatrix[] = [];
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
    const ms: AllocMatrix[] = [
      { name: 'a', kind: 'query', numel: 10, scores: big },
      { name: 'b', kind: 'query', numel: 10, scores: small },
    ];
    const c = allocateKeep(ms, 0.8, 'smp-s');
    expect(c.get('a')).toBe(10);
    expect(c.get('b')).toBe(6);
  });
});

describe('schedule', () => {
  it('follows the cubic ramp from 1 to v_f and holds v_f', () => {
    const s = keepSchedule({ finalKeep: 0.1, totalSteps: 100, finalHold: 20 });
    expect(s(0)).toBe(1);
    expect(s(40)).toBeCloseTo(0.1 + 0.9 * 0.5 ** 3, 12);
    expect(s(20)).toBeCloseTo(0.1 + 0.9 * 0.75 ** 3, 12);
    expect(s(79)).toBeCloseTo(0.1 + 0.9 * (1 / 80) ** 3, 12);
    for (const t of [80, 90, 99, 150]) expect(s(t)).toBe(0.1);
  });

  it('ramps the regulariser weight with the sparsity reached', () => {
    expect(regulariserWeight(400, 1, 0.1)).toBe(0);
    expect(regulariserWeight(400, 0.55, 0.1)).toBeCloseTo(200, 10);
    expect(regulariserWeight(400, 0.1, 0.1)).toBe(400);
    expect(regulariserWeight(400, 1, 1)).toBe(0);
  });
});
