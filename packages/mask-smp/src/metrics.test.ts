import { describe, expect, it } from 'vitest';
import { classificationScores, matthewsCorrcoef } from './metrics.js';

describe('metrics', () => {
  it('computes accuracy, binary MCC and F1 as scikit-learn does', () => {
    const gold = [1, 1, 1, 0, 0, 0, 1, 0];
    const pred = [1, 0, 1, 0, 1, 0, 1, 0];
    // tp 3, fn 1, fp 1, tn 3: mcc = (9 − 1)/sqrt(4·4·4·4) = 0.5, f1 = 6/8
    const s = classificationScores(pred, gold, 2);
    expect(s.accuracy).toBe(0.75);
    expect(s.mcc).toBeCloseTo(0.5, 12);
    expect(s.f1).toBeCloseTo(0.75, 12);
    expect(matthewsCorrcoef([0, 0, 0], [0, 1, 0], 2)).toBe(0);
  });

  it('computes multi-class MCC (sklearn.metrics.matthews_corrcoef([0,1,2,2,1],[0,2,2,1,1]) = 0.375)', () => {
    expect(matthewsCorrcoef([0, 2, 2, 1, 1], [0, 1, 2, 2, 1], 3)).toBeCloseTo(0.375, 12);
  });
});
