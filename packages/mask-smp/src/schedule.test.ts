import { describe, expect, it } from 'vitest';
import { keepSchedule, regulariserWeight } from './schedule.js';

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
