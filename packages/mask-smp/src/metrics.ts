// Classification metrics: accuracy, Matthews correlation (CoLA), F1 of class 1 (MRPC), macro-F1.
import type { Metric } from './tasks.js';

export interface Scores {
  accuracy: number;
  mcc: number;
  f1: number;
  macroF1: number;
}

function f1Of(pred: ArrayLike<number>, gold: ArrayLike<number>, c: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < gold.length; i++) {
    if (pred[i] === c && gold[i] === c) tp++;
    else if (pred[i] === c) fp++;
    else if (gold[i] === c) fn++;
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

/** Multi-class MCC (Gorodkin's R_K, as sklearn.metrics.matthews_corrcoef); 0 when undefined. */
export function matthewsCorrcoef(pred: ArrayLike<number>, gold: ArrayLike<number>, numClasses: number): number {
  const n = gold.length;
  const t = new Array<number>(numClasses).fill(0);
  const p = new Array<number>(numClasses).fill(0);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    t[gold[i]!]! += 1;
    p[pred[i]!]! += 1;
    if (pred[i] === gold[i]) correct++;
  }
  let tp = 0;
  let tt = 0;
  let pp = 0;
  for (let c = 0; c < numClasses; c++) {
    tp += t[c]! * p[c]!;
    tt += t[c]! * t[c]!;
    pp += p[c]! * p[c]!;
  }
  const cov = correct * n - tp;
  const denom = Math.sqrt((n * n - pp) * (n * n - tt));
  return denom === 0 ? 0 : cov / denom;
}

export function classificationScores(pred: ArrayLike<number>, gold: ArrayLike<number>, numClasses: number): Scores {
  if (pred.length !== gold.length) throw new Error(`${pred.length} predictions for ${gold.length} labels`);
  let correct = 0;
  for (let i = 0; i < gold.length; i++) if (pred[i] === gold[i]) correct++;
  let macro = 0;
  for (let c = 0; c < numClasses; c++) macro += f1Of(pred, gold, c);
  return {
    accuracy: gold.length ? correct / gold.length : 0,
    mcc: matthewsCorrcoef(pred, gold, numClasses),
    f1: f1Of(pred, gold, 1),
    macroF1: macro / numClasses,
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
