import { describe, expect, it } from 'vitest';
import { constantSchedule, constantWithWarmupSchedule, cosineWarmupSchedule, cubicSparsitySchedule, linearWarmupSchedule } from './schedules.js';

describe('cubic sparsity schedule (SMP)', () => {
  it('starts at 1, reaches v_f at N, follows v_f + (1 − v_f)(1 − t/N)³ in between', () => {
    const vf = 0.1;
    const f = cubicSparsitySchedule({ finalKeep: vf, totalSteps: 1000 });
    expect(f(0)).toBe(1);
    expect(f(1000)).toBe(vf);
    expect(f(5000)).toBe(vf);
    // t = 250, N = 1000: 0.1 + 0.9 · 0.75³ = 0.1 + 0.9 · 0.421875 = 0.4796875
    expect(f(250)).toBeCloseTo(0.4796875, 12);
    const mid = 0.1 + 0.9 * (1 - 500 / 1000) ** 3;
    expect(f(500)).toBeCloseTo(mid, 12);
    for (let t = 1; t <= 1000; t++) expect(f(t)).toBeLessThanOrEqual(f(t - 1));
  });

  it('holds v_f over a final stretch: N = totalSteps − finalHold', () => {
    const f = cubicSparsitySchedule({ finalKeep: 0.03, totalSteps: 1200, finalHold: 200 });
    expect(f(0)).toBe(1);
    expect(f(1000)).toBe(0.03);
    expect(f(1199)).toBe(0.03);
    expect(f(400)).toBeCloseTo(0.03 + 0.97 * (1 - 400 / 1000) ** 3, 12);
    expect(f(999)).toBeGreaterThan(0.03);
  });

  it('validates its options', () => {
    expect(() => cubicSparsitySchedule({ finalKeep: 0, totalSteps: 10 })).toThrow(/finalKeep/);
    expect(() => cubicSparsitySchedule({ finalKeep: 0.5, totalSteps: 10, finalHold: 10 })).toThrow(/≥ 1/);
    expect(() => cubicSparsitySchedule({ finalKeep: 0.5, totalSteps: 10.5 })).toThrow(/totalSteps/);
  });
});

describe('LR multipliers', () => {
  it('constant and constant-with-warm-up', () => {
    expect(constantSchedule()(12345)).toBe(1);
    const f = constantWithWarmupSchedule(4);
    expect([0, 1, 2, 3, 4, 100].map(f)).toEqual([0, 0.25, 0.5, 0.75, 1, 1]);
  });

  it('linear warm-up/decay and cosine hit their landmarks', () => {
    const lin = linearWarmupSchedule(10, 110);
    expect(lin(0)).toBe(0);
    expect(lin(5)).toBe(0.5);
    expect(lin(10)).toBe(1);
    expect(lin(60)).toBe(0.5);
    expect(lin(110)).toBe(0);
    expect(lin(200)).toBe(0);
    const cos = cosineWarmupSchedule(10, 110);
    expect(cos(10)).toBe(1);
    expect(cos(60)).toBeCloseTo(0.5, 12);
    expect(cos(110)).toBeCloseTo(0, 12);
    expect(() => linearWarmupSchedule(-1, 10)).toThrow(/warmupSteps/);
  });
});
