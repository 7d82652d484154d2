// Classification metrics: accuracy, Matthews correlation (CoLA), F1 of class 1 (MRPC), macro-F1,
// over class indices; the counting is benchmarks-mteb's (one MCC/F1 implementation, sklearn-checked).
import { f1PerLabel, matthewsCorrcoef as mcc } from '@prunekit/benchmarks-mteb';
import type { Metric } from './tasks.js';

export interface Scores {
  accuracy: number;
  mcc: number;
  f1: number;
  macroF1: number;
}

/** Multi-class MCC (Gorodkin's R_K, as sklearn.metrics.matthews_corrcoef); 0 when undefined. */
export function matthewsCorrcoef(pred: ArrayLike<number>, gold: ArrayLike<number>, _numClasses?: number): number {
  return mcc(gold, pred);
}

export function classificationScores(pred: ArrayLike<number>, gold: ArrayLike<number>, numClasses: number): Scores {
  if (pred.length !== gold.length) throw new Error(`${pred.length} predictions for ${gold.length} labels`);
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) correct++;
  // every class counts in the macro average, also one neither predicted nor present (F1 0)
  const f1 = f1PerLabel(gold, pred, Array.from({ length: numClasses }, (_, c) => c));
  return {
    accuracy: gold.length ? correct / gold.length : 0,
    mcc: mcc(gold, pred),
    f1: numClasses > 1 ? f1[1]! : 0,
    macroF1: f1.reduce((a, b) => a + b, 0) / numClasses,
  };
}

export function mainScore(scores: Scores, metric: Metric): number {
  switch (metric) {
    case 'accuracy':
      return scores.accuracy;
    case 'mcc':
      return scores.mcc;
    case 'f1':
      return scores.f1;
    case 'macro-f1':
      return scores.macroF1;
  }
}
