// Correlations and rank helpers. Pearson comes from simple-statistics; Spearman is Pearson over
// fractional ("average") ranks, as scipy.stats.spearmanr computes it (simple-statistics'
// sampleRankCorrelation ranks ties by position, which disagrees with scipy on ties).
import { sampleCorrelation } from 'simple-statistics';

export function pearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`pearson: lengths differ (${x.length} vs ${y.length})`);
  if (x.length < 2) return Number.NaN;
  const r = sampleCorrelation(x as number[], y as number[]);
  // clamp rounding overshoot like scipy does
  return Number.isFinite(r) ? Math.max(-1, Math.min(1, r)) : Number.NaN;
}

/** Fractional ranks 1..n, ties get the mean of the ranks they span (scipy.stats.rankdata 'average'). */
export function averageRanks(x: readonly number[]): number[] {
  const order = x.map((_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const ranks = new Array<number>(x.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]!] === x[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]!] = r;
    i = j + 1;
  }
  return ranks;
}

export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`spearman: lengths differ (${x.length} vs ${y.length})`);
  return pearson(averageRanks(x), averageRanks(y));
}

export function mean(x: readonly number[]): number {
  if (x.length === 0) return Number.NaN;
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
}

/** Population standard deviation (numpy's np.std default). */
export function std(x: readonly number[]): number {
  const m = mean(x);
  let s = 0;
  for (const v of x) s += (v - m) * (v - m);
  return Math.sqrt(s / x.length);
}

/**
 * Average precision as sklearn.metrics.average_precision_score computes it: the step-wise area
 * Σ (R_n − R_{n−1}) P_n over the distinct score thresholds, highest first (tied scores enter
 * together). NaN when there is no positive.
 */
export function averagePrecision(labels: readonly (0 | 1 | boolean)[], scores: readonly number[]): number {
  if (labels.length !== scores.length) throw new Error(`averagePrecision: ${labels.length} labels for ${scores.length} scores`);
  const order = scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (const l of labels) if (l === 1 || l === true) positives++;
  if (positives === 0) return Number.NaN;
  let tp = 0;
  let fp = 0;
  let prevRecall = 0;
  let ap = 0;
  let i = 0;
  while (i < order.length) {
    const s = scores[order[i]!]!;
    while (i < order.length && scores[order[i]!] === s) {
      const l = labels[order[i]!];
      if (l === 1 || l === true) tp++;
      else fp++;
      i++;
    }
    const recall = tp / positives;
    const precision = tp / (tp + fp);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
  }
  return ap;
}
