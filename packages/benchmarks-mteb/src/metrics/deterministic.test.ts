// Reranking, STS, pair classification, F1 and V-measure against scikit-learn / scipy values
// computed from the same stored embeddings (tools/metrics/reference_metrics.py): all agree to 1e-6.
import { describe, expect, it } from 'vitest';
import { rerankingMetrics } from './reranking.js';
import { stsMetrics } from './sts.js';
import { pairClassificationMetrics } from './pairClassification.js';
import { averageRanks, averagePrecision, spearman } from './stats.js';
import { classificationScores, f1PerLabel, matthewsCorrcoef } from './classification.js';
import { vMeasure } from './clustering.js';
import { f32, loadFixture } from '../test-support/fixtures.js';

describe('reranking', () => {
  const fx = loadFixture<{ instances: { query: number[]; positive: number[][]; negative: number[][] }[]; expected: { map: number; mrr_at_10: number; evaluated: number; skipped: number } }>('reranking.json');
  it('MAP and MRR@10 agree with sklearn average_precision_score / stable argsort to 1e-6 (ties, skipped instances)', () => {
    const r = rerankingMetrics(fx.instances.map((i) => ({ query: Float32Array.from(i.query), positive: f32(i.positive), negative: f32(i.negative) })));
    expect(r.map).toBeCloseTo(fx.expected.map, 6);
    expect(r.mrr_at_10).toBeCloseTo(fx.expected.mrr_at_10, 6);
    expect(r.main_score).toBe(r.map);
    expect(r.evaluated).toBe(fx.expected.evaluated);
    expect(r.skipped).toBe(fx.expected.skipped);
  });
});

describe('STS', () => {
  const fx = loadFixture<{ a: number[][]; b: number[][]; gold: number[]; expected: Record<string, number> }>('sts.json');
  it('Pearson and Spearman of cosine, Manhattan and Euclidean agree with scipy to 1e-6 (tied gold scores)', () => {
    const r = stsMetrics(f32(fx.a), f32(fx.b), fx.gold) as unknown as Record<string, number>;
    for (const [k, v] of Object.entries(fx.expected)) expect(r[k], k).toBeCloseTo(v, 6);
  });
  it('average ranks and Spearman handle ties like scipy.stats.rankdata', () => {
    expect(averageRanks([10, 20, 10, 30, 20, 20])).toEqual([1.5, 4, 1.5, 6, 4, 4]);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
  });
});

describe('pair classification', () => {
  const fx = loadFixture<{ a: number[][]; b: number[][]; labels: (0 | 1)[]; expected: Record<string, number> }>('pair_classification.json');
  it('AP, best-threshold accuracy and F1 (and thresholds) for cosine, dot, Euclidean, Manhattan agree to 1e-6', () => {
    const r = pairClassificationMetrics(f32(fx.a), f32(fx.b), fx.labels);
    expect(Object.keys(r).sort()).toEqual(Object.keys(fx.expected).sort());
    for (const [k, v] of Object.entries(fx.expected)) expect(r[k], k).toBeCloseTo(v, 6);
  });
  it('average precision groups tied scores like sklearn', () => {
    // thresholds 0.9 (1 pos, 1 neg), 0.5 (1 pos): AP = 0.5·0.5 + 0.5·(2/3)
    expect(averagePrecision([1, 0, 1], [0.9, 0.9, 0.5])).toBeCloseTo(0.5 * 0.5 + 0.5 * (2 / 3), 12);
  });
});

describe('classification scores and V-measure', () => {
  it('accuracy, macro-F1 and weighted F1 match sklearn (absent and never-predicted classes)', () => {
    const cases = loadFixture<{ y_true: string[]; y_pred: string[]; accuracy: number; f1: number; f1_weighted: number }[]>('f1_cases.json');
    for (const c of cases) {
      const s = classificationScores(c.y_true, c.y_pred);
      expect(s.accuracy).toBeCloseTo(c.accuracy, 12);
      expect(s.f1).toBeCloseTo(c.f1, 12);
      expect(s.f1_weighted).toBeCloseTo(c.f1_weighted, 12);
    }
  });
  it('Matthews correlation and per-label F1 match sklearn (multi-class, binary, a label never true, one class only)', () => {
    const cases = loadFixture<{ y_true: string[]; y_pred: string[]; mcc: number; f1_per_label: Record<string, number> }[]>('f1_cases.json');
    expect(cases).toHaveLength(5);
    for (const c of cases) {
      expect(matthewsCorrcoef(c.y_true, c.y_pred)).toBeCloseTo(c.mcc, 12);
      const labels = Object.keys(c.f1_per_label);
      f1PerLabel(c.y_true, c.y_pred, labels).forEach((f, i) => { expect(f, labels[i]).toBeCloseTo(c.f1_per_label[labels[i]!]!, 12); });
    }
  });
  it('v_measure matches sklearn.metrics.v_measure_score to 1e-6, degenerate partitions included', () => {
    const fx = loadFixture<{ v_measure_cases: { true: string[]; pred: number[]; v_measure: number }[] }>('clustering.json');
    for (const c of fx.v_measure_cases) expect(vMeasure(c.true, c.pred).v_measure).toBeCloseTo(c.v_measure, 6);
  });
});
