// STS: correlations of embedding similarities with gold scores (MTEB's STSEvaluator).
import { dimensionOf } from './linalg.js';
import { pearson, spearman } from './stats.js';

/** Paired similarities: cosine, and negated Manhattan / Euclidean distances (higher = more similar). */
export function pairedSimilarities(a: readonly Float32Array[], b: readonly Float32Array[]): { cosine: number[]; manhattan: number[]; euclidean: number[]; dot: number[] } {
  if (a.length !== b.length) throw new Error(`paired similarities: ${a.length} first embeddings for ${b.length} second embeddings`);
  dimensionOf([...a, ...b], 'pair embeddings');
  const cosine: number[] = [];
  const manhattan: number[] = [];
  const euclidean: number[] = [];
  const dot: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    let xy = 0;
    let xx = 0;
    let yy = 0;
    let l1 = 0;
    let l2 = 0;
    for (let k = 0; k < x.length; k++) {
      const u = x[k]!;
      const v = y[k]!;
      xy += u * v;
      xx += u * u;
      yy += v * v;
      const diff = u - v;
      l1 += Math.abs(diff);
      l2 += diff * diff;
    }
    const nx = Math.sqrt(xx);
    const ny = Math.sqrt(yy);
    cosine.push(nx > 0 && ny > 0 ? xy / (nx * ny) : 0);
    manhattan.push(-l1);
    euclidean.push(-Math.sqrt(l2));
    dot.push(xy);
  }
  return { cosine, manhattan, euclidean, dot };
}

export interface StsScores {
  cosine_pearson: number;
  cosine_spearman: number;
  manhattan_pearson: number;
  manhattan_spearman: number;
  euclidean_pearson: number;
  euclidean_spearman: number;
  pearson: number;
  spearman: number;
  main_score: number;
}

/** MTEB STS metrics; main score is the Spearman correlation of cosine similarity. */
export function stsMetrics(a: readonly Float32Array[], b: readonly Float32Array[], gold: readonly number[]): StsScores {
  if (gold.length !== a.length) throw new Error(`stsMetrics: ${gold.length} gold scores for ${a.length} pairs`);
  const sims = pairedSimilarities(a, b);
  const cs = spearman(gold, sims.cosine);
  const cp = pearson(gold, sims.cosine);
  return {
    cosine_pearson: cp,
    cosine_spearman: cs,
    manhattan_pearson: pearson(gold, sims.manhattan),
    manhattan_spearman: spearman(gold, sims.manhattan),
    euclidean_pearson: pearson(gold, sims.euclidean),
    euclidean_spearman: spearman(gold, sims.euclidean),
    pearson: cp,
    spearman: cs,
    main_score: cs,
  };
}
