import { describe, expect, it } from 'vitest';
import { allocateMasks, type ScoredMatrix } from './allocate.js';

const m = (shape: number[], values: number[]): ScoredMatrix => ({ shape, scores: Float32Array.from(values) });
const L0 = 'encoder.layer.0.intermediate.dense.weight';
const L0b = 'encoder.layer.0.output.dense.weight';
const L1 = 'encoder.layer.1.intermediate.dense.weight';

describe('allocateMasks', () => {
  it('global: one bottom-k cut over all candidates, exact count', () => {
    const scores = new Map([
      [L0, m([2, 2], [0.1, 5, 0.2, 6])],
      [L1, m([2, 2], [7, 0.3, 8, 9])],
    ]);
    const masks = allocateMasks(scores, 0.375, 'global'); // 3 of 8 pruned: 0.1, 0.2, 0.3
    expect(Array.from(masks.masks.get(L0)!.data)).toEqual([0, 1, 0, 1]);
    expect(Array.from(masks.masks.get(L1)!.data)).toEqual([1, 0, 1, 1]);
    expect(masks.stats().sparsity).toBe(0.375);
  });

  it('per-matrix: the same fraction of every matrix', () => {
    const scores = new Map([
      [L0, m([1, 4], [4, 3, 2, 1])],
      [L1, m([1, 4], [10, 20, 30, 40])],
    ]);
    const masks = allocateMasks(scores, 0.5, 'per-matrix');
    expect(Array.from(masks.masks.get(L0)!.data)).toEqual([1, 1, 0, 0]);
    expect(Array.from(masks.masks.get(L1)!.data)).toEqual([0, 0, 1, 1]);
  });

  it('per-layer: pools each layer, clamps the layer sparsity', () => {
    const scores = new Map([
      [L0, m([1, 2], [1, 100])],
      [L0b, m([1, 2], [2, 3])],
      [L1, m([1, 4], [5, 6, 7, 8])],
    ]);
    const masks = allocateMasks(scores, 0.5, 'per-layer');
    expect(Array.from(masks.masks.get(L0)!.data)).toEqual([0, 1]);
    expect(Array.from(masks.masks.get(L0b)!.data)).toEqual([0, 1]);
    expect(Array.from(masks.masks.get(L1)!.data)).toEqual([0, 0, 1, 1]);
    // 0.99 is clamped to 0.95 per layer: round(0.95 * 4) = 4 of layer 0, round(0.95 * 4) = 4 of layer 1
    const clamped = allocateMasks(new Map([[L0, m([1, 20], Array.from({ length: 20 }, (_, i) => i))]]), 0.99, 'per-layer');
    expect(clamped.stats().kept).toBe(1); // round(0.95 * 20) = 19 pruned
  });

  it('breaks ties by position and still prunes exactly k', () => {
    const masks = allocateMasks(new Map([[L0, m([1, 6], [1, 1, 1, 1, 0, 1])]]), 0.5, 'global');
    expect(Array.from(masks.masks.get(L0)!.data)).toEqual([0, 0, 1, 1, 0, 1]);
  });

  it('rejects bad sparsity, NaN scores and shape mismatches', () => {
    expect(() => allocateMasks(new Map([[L0, m([1, 2], [1, 2])]]), 1.5, 'global')).toThrow('sparsity must be in [0, 1] (got 1.5)');
    expect(() => allocateMasks(new Map([[L0, m([1, 2], [1, NaN])]]), 0.5, 'global')).toThrow(`scores for "${L0}" contain NaN at index 1`);
    expect(() => allocateMasks(new Map([[L0, m([2, 2], [1, 2])]]), 0.5, 'global')).toThrow('2 values for shape [2, 2]');
  });
});
