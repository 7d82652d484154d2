// Pair classification (MTEB's PairClassificationEvaluator): four similarity functions, and for each
// the average precision, the best-threshold accuracy and the best-threshold F1.
import { pairedSimilarities } from './sts.js';
import { averagePrecision } from './stats.js';

export interface ThresholdScores {
  accuracy: number;
  accuracy_threshold: number;
  f1: number;
  f1_threshold: number;
  precision: number;
  recall: number;
  ap: number;
}

/**
 * Best accuracy / F1 over thresholds placed between consecutive scores of the ranking (most similar
 * first), as MTEB does, except that no threshold is placed between two *equal* scores (such a cut
 * cannot be realised by any threshold; MTEB's loop does not check this, which only matters with
 * exact ties). Like MTEB, the cut after the last item (everything positive) is not considered.
 * `higherIsMoreSimilar` is false for distances; thresholds are reported in the score's own units.
 */
export function thresholdScores(scores: readonly number[], labels: readonly (0 | 1)[], higherIsMoreSimilar: boolean): ThresholdScores {
  const n = scores.length;
  if (labels.length !== n) throw new Error(`thresholdScores: ${labels.length} labels for ${n} scores`);
  const sign = higherIsMoreSimilar ? 1 : -1;
  const order = scores.map((_, i) => i).sort((a, b) => sign * (scores[b]! - scores[a]!));
  let totalPos = 0;
  for (const l of labels) totalPos += l;
  let remainingNeg = n - totalPos;
  let posSoFar = 0;
  let bestAcc = 0;
  let accThreshold = -1;
  let bestF1 = 0;
  let bestP = 0;
  let bestR = 0;
  let f1Threshold = 0;
  for (let i = 0; i < n - 1; i++) {
    const idx = order[i]!;
    if (labels[idx] === 1) posSoFar++;
    else remainingNeg--;
    const s = scores[idx]!;
    const sNext = scores[order[i + 1]!]!;
    if (s === sNext) continue;
    const thr = (s + sNext) / 2;
    const acc = (posSoFar + remainingNeg) / n;
    if (acc > bestAcc) {
      bestAcc = acc;
      accThreshold = thr;
    }
    if (posSoFar > 0) {
      const precision = posSoFar / (i + 1);
      const recall = posSoFar / totalPos;
      const f1 = (2 * precision * recall) / (precision + recall);
      if (f1 > bestF1) {
        bestF1 = f1;
        bestP = precision;
        bestR = recall;
        f1Threshold = thr;
      }
    }
  }
  const ap = averagePrecision(labels, scores.map((s) => sign * s));
  return { accuracy: bestAcc, accuracy_threshold: accThreshold, f1: bestF1, f1_threshold: f1Threshold, precision: bestP, recall: bestR, ap };
}

export const PAIR_SIMILARITIES = ['cosine', 'dot', 'euclidean', 'manhattan'] as const;

/**
 * Flat MTEB keys: `<sim>_<metric>` for sim in cosine/dot/euclidean/manhattan (euclidean and
 * manhattan are distances: thresholds in distance units), `max_<metric>` over the four, and
 * main_score = max_ap.
 */
export function pairClassificationMetrics(a: readonly Float32Array[], b: readonly Float32Array[], labels: readonly (0 | 1)[]): Record<string, number> {
  if (labels.length !== a.length) throw new Error(`pairClassificationMetrics: ${labels.length} labels for ${a.length} pairs`);
  const sims = pairedSimilarities(a, b);
  const out: Record<string, number> = {};
  const per: Record<string, ThresholdScores> = {
    cosine: thresholdScores(sims.cosine, labels, true),
    dot: thresholdScores(sims.dot, labels, true),
    euclidean: thresholdScores(sims.euclidean.map((v) => -v), labels, false),
    manhattan: thresholdScores(sims.manhattan.map((v) => -v), labels, false),
  };
  for (const [name, s] of Object.entries(per)) for (const [k, v] of Object.entries(s)) out[`${name}_${k}`] = v as number;
  for (const k of ['accuracy', 'f1', 'precision', 'recall', 'ap'] as const) out[`max_${k}`] = Math.max(...Object.values(per).map((s) => s[k]));
  out.main_score = out.max_ap!;
  return out;
}
