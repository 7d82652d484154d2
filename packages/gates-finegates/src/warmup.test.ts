// The head warm-up protocol (issue #17): when the head and biases learn the task before the gates move,
// which gates close is decided by the task and the regulariser, not by the gates' random initial θ.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@prunekit/tensor-core';
import { workspaceRoot } from '../../../tools/test-support/shared.js';
import { FineGatesAdapter } from './adapters.js';
import { initialThetaClosedAuc, rocAuc } from './gates.js';
import { ClassificationHead } from './head.js';
import { syntheticSet, tinyModel } from './test-support/tiny.js';
import { trainClassifier } from './train.js';

beforeAll(async () => {
  await initBackend();
});

describe('rocAuc', () => {
  // tools/fixtures/make_auc_refs.py: sklearn.metrics.roc_auc_score on random, tied, separating and reversed scores
  const refs = JSON.parse(fs.readFileSync(path.join(workspaceRoot, 'tools/fixtures/data/finegates/auc.json'), 'utf8')) as { cases: { name: string; score: number[]; positive: boolean[]; auc: number }[] };
  it.each(refs.cases.map((c) => [c.name, c] as const))('equals sklearn on the %s case', (_name, c) => {
    expect(rocAuc(c.score, c.positive)).toBeCloseTo(c.auc, 12);
  });
  it('is NaN with one class only and refuses mismatched lengths', () => {
    expect(rocAuc([1, 2], [true, true])).toBeNaN();
    expect(() => rocAuc([1, 2], [true])).toThrow(/2 scores but 1 labels/);
  });
});

const data = syntheticSet(64, 3);

/** Trains FineGates (target 0.4) on the tiny BERT and returns the closed gates and the AUC of their initial θ. */
function train(o: { warmup: number; gateSteps: number; gateLr: number; seed: number }): { auc: number; closed: number; thetaMoved: boolean; headMoved: boolean; regulariser: number[] } {
  const { full, model } = tinyModel();
  const ad = new FineGatesAdapter(model, { targetSparsity: 0.4, seed: o.seed });
  const head = ClassificationHead.create(32, 3, { seed: o.seed });
  const initial = ad.gates.theta();
  const head0 = Float32Array.from(head.params.values().next().value!.dataSync());
  const regulariser: number[] = [];
  try {
    trainClassifier(model, ad, head, data, { steps: o.warmup + o.gateSteps, batchSize: 16, lr: 1e-2, gateLr: o.gateLr, seed: o.seed, padId: 0, sparsityStartStep: o.warmup, onStep: (s) => regulariser.push(s.regulariser) });
    const now = ad.gates.theta();
    const thetaMoved = [...initial].some(([n, t]) => t.rows.some((v, i) => v !== now.get(n)!.rows[i]) || t.cols.some((v, i) => v !== now.get(n)!.cols[i]));
    const headMoved = head.params.values().next().value!.dataSync().some((v, i) => v !== head0[i]);
    return { auc: initialThetaClosedAuc(initial, ad.gates), closed: ad.gates.stats().gates.closed, thetaMoved, headMoved, regulariser };
  } finally {
    ad.dispose();
    head.dispose();
    full.dispose();
  }
}

describe('FineGates head warm-up (sparsityStartStep)', () => {
  it('holds the gates still and the regulariser off during the warm-up while the head learns', () => {
    const r = train({ warmup: 6, gateSteps: 0, gateLr: 0.03, seed: 0 });
    expect(r.thetaMoved).toBe(false);
    expect(r.headMoved).toBe(true);
    expect(r.regulariser).toEqual([0, 0, 0, 0, 0, 0]);
    const after = train({ warmup: 3, gateSteps: 3, gateLr: 0.03, seed: 0 });
    expect(after.thetaMoved).toBe(true);
    expect(after.regulariser.slice(0, 3)).toEqual([0, 0, 0]);
    expect(after.regulariser.slice(3).every((v) => v > 0)).toBe(true);
  });

  it('refuses a negative or fractional start', () => {
    const { full, model } = tinyModel();
    const ad = new FineGatesAdapter(model, { targetSparsity: 0.4, seed: 0 });
    const head = ClassificationHead.create(32, 3, { seed: 0 });
    expect(() => trainClassifier(model, ad, head, data, { steps: 2, batchSize: 16, lr: 1e-2, seed: 0, padId: 0, sparsityStartStep: 1.5 })).toThrow(/sparsityStartStep must be a non-negative integer \(got 1.5\)/);
    ad.dispose();
    head.dispose();
    full.dispose();
  });

  // The audit's failure: without a warm-up the gates that close are those whose random initial θ was lowest
  // (AUC 0.93-0.97 over seeds 0-2 on this fixture); after 100 warm-up steps it is 0.56-0.58.
  it('after the warm-up, closed gates are not predicted by their initial θ (AUC < 0.75); without it they are', () => {
    const warm = train({ warmup: 100, gateSteps: 80, gateLr: 0.03, seed: 0 });
    expect(warm.closed).toBeGreaterThan(100);
    expect(warm.auc).toBeLessThan(0.75);
    const cold = train({ warmup: 0, gateSteps: 80, gateLr: 0.03, seed: 0 });
    expect(cold.closed).toBeGreaterThan(100);
    expect(cold.auc).toBeGreaterThan(0.9);
  }, 600_000); // ≈ 25 s of CPU; the limit allows for a shared, loaded machine
});
