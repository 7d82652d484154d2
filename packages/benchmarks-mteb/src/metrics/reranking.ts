// Reranking (MTEB's RerankingEvaluator): per query, score its candidates (positives + negatives)
// by cosine similarity; MAP = mean over queries of sklearn-style average precision; MRR@10 = mean
// reciprocal rank of the first positive within the first 10. Queries without a positive or without
// a negative are skipped (as MTEB does) and counted.
import { averagePrecision } from './stats.js';
import { dot, norm } from './linalg.js';

export interface RerankingInstance {
  query: Float32Array;
  positive: readonly Float32Array[];
  negative: readonly Float32Array[];
}

export function cosine(a: Float32Array, b: Float32Array): number {
  const na = norm(a);
  const nb = norm(b);
  return na > 0 && nb > 0 ? dot(a, b) / (na * nb) : 0;
}

/**
 * Ordering for MRR: score descending; equal scores keep candidate order (positives first, then
 * negatives, in file order). MTEB uses an unstable torch.argsort there; a stable order is the only
 * reproducible choice and agrees with it whenever scores are distinct.
 */
export function rerankingMetrics(instances: readonly RerankingInstance[], mrrAt = 10): { map: number; mrr_at_10: number; main_score: number; evaluated: number; skipped: number } & Record<string, number> {
  let apSum = 0;
  let mrrSum = 0;
  let evaluated = 0;
  let skipped = 0;
  for (const inst of instances) {
    if (inst.positive.length === 0 || inst.negative.length === 0) {
      skipped++;
      continue;
    }
    const cands = [...inst.positive, ...inst.negative];
    const labels = cands.map((_, i) => (i < inst.positive.length ? 1 : 0) as 0 | 1);
    const scores = cands.map((c) => cosine(inst.query, c));
    apSum += averagePrecision(labels, scores);
    const order = scores.map((_, i) => i).sort((x, y) => (scores[y]! - scores[x]!) || x - y);
    let rr = 0;
    for (let r = 0; r < Math.min(mrrAt, order.length); r++) {
      if (labels[order[r]!] === 1) {
        rr = 1 / (r + 1);
        break;
      }
    }
    mrrSum += rr;
    evaluated++;
  }
  const map = evaluated > 0 ? apSum / evaluated : 0;
  const mrr = evaluated > 0 ? mrrSum / evaluated : 0;
  return { map, [`mrr_at_${mrrAt}`]: mrr, mrr_at_10: mrr, main_score: map, evaluated, skipped };
}
