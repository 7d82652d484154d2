// Clustering (MTEB's fast variant): mini-batch k-means with k = number of gold labels on repeated
// bootstrap subsets, V-measure against the gold labels, mean over subsets.
import { Rng } from '../rng.js';
import { dimensionOf } from './linalg.js';
import { mean, std } from './stats.js';

/** sklearn.metrics.v_measure_score (β = 1, natural-log entropies). */
export function vMeasure(labelsTrue: readonly (string | number)[], labelsPred: readonly (string | number)[]): { homogeneity: number; completeness: number; v_measure: number } {
  const n = labelsTrue.length;
  if (labelsPred.length !== n) throw new Error(`vMeasure: ${n} true labels, ${labelsPred.length} predicted`);
  if (n === 0) return { homogeneity: 1, completeness: 1, v_measure: 1 };
  const ci = new Map<string | number, number>();
  const ki = new Map<string | number, number>();
  const cell = new Map<string, number>();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = labelsTrue[i]!;
    const p = labelsPred[i]!;
    if (!ci.has(t)) ci.set(t, ci.size);
    if (!ki.has(p)) ki.set(p, ki.size);
    const c = ci.get(t)!;
    const k = ki.get(p)!;
    a[c] = (a[c] ?? 0) + 1;
    b[k] = (b[k] ?? 0) + 1;
    const key = `${c},${k}`;
    cell.set(key, (cell.get(key) ?? 0) + 1);
  }
  const entropy = (counts: number[]): number => {
    let h = 0;
    for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
    return h;
  };
  const hC = entropy(a);
  const hK = entropy(b);
  let mi = 0;
  for (const [key, nij] of cell) {
    const [c, k] = key.split(',').map(Number) as [number, number];
    mi += (nij / n) * (Math.log(nij * n) - Math.log(a[c]! * b[k]!));
  }
  const homogeneity = hC === 0 ? 1 : mi / hC;
  const completeness = hK === 0 ? 1 : mi / hK;
  const v = homogeneity + completeness === 0 ? 0 : (2 * homogeneity * completeness) / (homogeneity + completeness);
  return { homogeneity, completeness, v_measure: v };
}

function sqDist(x: Float32Array, c: Float64Array, off: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = x[j]! - c[off + j]!;
    s += t * t;
  }
  return s;
}

/** k-means++ seeding with greedy local trials (2 + ⌊ln k⌋ candidates per centre, as sklearn). */
export function kmeansPlusPlus(X: readonly Float32Array[], k: number, rng: Rng): Float64Array {
  const n = X.length;
  const d = X[0]!.length;
  const centers = new Float64Array(k * d);
  const trials = 2 + Math.floor(Math.log(k));
  const first = rng.int(n);
  for (let j = 0; j < d; j++) centers[j] = X[first]![j]!;
  const closest = new Float64Array(n);
  let pot = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = sqDist(X[i]!, centers, 0, d);
    pot += closest[i]!;
  }
  const cum = new Float64Array(n);
  const cand = new Float64Array(d);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += closest[i]!;
      cum[i] = acc;
    }
    let bestPot = Infinity;
    let bestId = 0;
    let bestDist: Float64Array | null = null;
    for (let t = 0; t < trials; t++) {
      const r = rng.next() * pot;
      // first index with cum > r (numpy searchsorted side='left' on cum for value r gives cum >= r)
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid]! < r) lo = mid + 1;
        else hi = mid;
      }
      const id = lo;
      for (let j = 0; j < d; j++) cand[j] = X[id]![j]!;
      const dist = new Float64Array(n);
      let p = 0;
      for (let i = 0; i < n; i++) {
        const dd = Math.min(closest[i]!, sqDist(X[i]!, cand, 0, d));
        dist[i] = dd;
        p += dd;
      }
      if (p < bestPot) {
        bestPot = p;
        bestId = id;
        bestDist = dist;
      }
    }
    for (let j = 0; j < d; j++) centers[c * d + j] = X[bestId]![j]!;
    closest.set(bestDist!);
    pot = bestPot;
  }
  return centers;
}

export interface MiniBatchKMeansOptions {
  batchSize?: number;
  maxIter?: number;
  maxNoImprovement?: number;
  reassignmentRatio?: number;
}

/**
 * Mini-batch k-means following scikit-learn's MiniBatchKMeans (Sculley 2010 with sklearn's
 * details): k-means++ on a random init subset of 3·batch_size points; steps on random mini-batches
 * (drawn with replacement) with per-centre learning rates 1/count; random reassignment of centres
 * whose count falls below reassignment_ratio × the largest count; early stop when the
 * exponentially weighted batch inertia has not improved for max_no_improvement steps; final labels
 * by nearest centre over all points. Randomness comes from our Rng, so runs are reproducible but
 * not identical to sklearn's (numpy's RNG stream differs).
 */
export function miniBatchKMeans(X: readonly Float32Array[], k: number, rng: Rng, options: MiniBatchKMeansOptions = {}): { labels: Int32Array; centers: Float64Array; steps: number } {
  const n = X.length;
  if (n === 0) throw new Error('miniBatchKMeans: no points');
  if (k < 1 || k > n) throw new Error(`miniBatchKMeans: k = ${k} must be between 1 and the number of points (${n})`);
  const d = dimensionOf(X, 'clustering embeddings');
  const batch = Math.min(options.batchSize ?? 1024, n);
  const maxIter = options.maxIter ?? 100;
  const maxNoImprovement = options.maxNoImprovement ?? 10;
  const ratio = options.reassignmentRatio ?? 0.01;
  let initSize = Math.min(3 * batch, n);
  if (initSize < k) initSize = Math.min(3 * k, n);
  const initSet = initSize < n ? Array.from({ length: initSize }, () => X[rng.int(n)]!) : [...X];
  const centers = kmeansPlusPlus(initSet, k, rng);
  const counts = new Float64Array(k);
  const nSteps = Math.floor((maxIter * n) / batch);
  let ewa: number | null = null;
  let ewaMin: number | null = null;
  let noImprovement = 0;
  let sinceReassign = 0;
  const labels = new Int32Array(batch);
  const sums = new Float64Array(k * d);
  const batchCounts = new Float64Array(k);
  let steps = 0;
  for (let step = 0; step < nSteps; step++) {
    steps = step + 1;
    const idx = Array.from({ length: batch }, () => rng.int(n));
    // random reassignment schedule (sklearn: when a centre is empty or every 10·k samples)
    sinceReassign += batch;
    let reassign = false;
    if (counts.some((c) => c === 0) || sinceReassign >= 10 * k) {
      sinceReassign = 0;
      reassign = true;
    }
    let inertia = 0;
    sums.fill(0);
    batchCounts.fill(0);
    for (let b = 0; b < batch; b++) {
      const x = X[idx[b]!]!;
      let best = 0;
      let bd = Infinity;
      for (let c = 0; c < k; c++) {
        const dd = sqDist(x, centers, c * d, d);
        if (dd < bd) {
          bd = dd;
          best = c;
        }
      }
      labels[b] = best;
      inertia += bd;
      batchCounts[best]!++;
      const off = best * d;
      for (let j = 0; j < d; j++) sums[off + j] = sums[off + j]! + x[j]!;
    }
    for (let c = 0; c < k; c++) {
      const bc = batchCounts[c]!;
      if (bc === 0) continue;
      const total = counts[c]! + bc;
      const off = c * d;
      for (let j = 0; j < d; j++) centers[off + j] = (centers[off + j]! * counts[c]! + sums[off + j]!) / total;
      counts[c] = total;
    }
    if (reassign && ratio > 0) {
      let mx = 0;
      for (const c of counts) mx = Math.max(mx, c);
      let to: number[] = [];
      for (let c = 0; c < k; c++) if (counts[c]! < ratio * mx) to.push(c);
      const limit = Math.floor(0.5 * batch);
      if (to.length > limit) to = [...to].sort((a, b) => counts[a]! - counts[b]! || a - b).slice(0, limit);
      if (to.length > 0) {
        const keep = new Set(to);
        let minKept = Infinity;
        for (let c = 0; c < k; c++) if (!keep.has(c)) minKept = Math.min(minKept, counts[c]!);
        // distinct batch positions, partial Fisher–Yates
        const pos = Array.from({ length: batch }, (_, i) => i);
        for (let t = 0; t < to.length; t++) {
          const j = t + rng.int(batch - t);
          [pos[t], pos[j]] = [pos[j]!, pos[t]!];
          const x = X[idx[pos[t]!]!]!;
          const c = to[t]!;
          for (let q = 0; q < d; q++) centers[c * d + q] = x[q]!;
          counts[c] = minKept;
        }
      }
    }
    // convergence on the exponentially weighted average of the batch inertia
    if (step === 0) continue;
    const bi = inertia / batch;
    if (ewa === null) ewa = bi;
    else {
      const alpha = Math.min(1, (batch * 2) / (n + 1));
      ewa = ewa * (1 - alpha) + bi * alpha;
    }
    if (ewaMin === null || ewa < ewaMin) {
      noImprovement = 0;
      ewaMin = ewa;
    } else noImprovement++;
    if (noImprovement >= maxNoImprovement) break;
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bd = Infinity;
    for (let c = 0; c < k; c++) {
      const dd = sqDist(X[i]!, centers, c * d, d);
      if (dd < bd) {
        bd = dd;
        best = c;
      }
    }
    out[i] = best;
  }
  return { labels: out, centers, steps };
}

export interface ClusteringOptions {
  /** Bootstrap subsets (MTEB's n_clusters, default 10). */
  nSubsets?: number;
  /** Items per subset, drawn with replacement (MTEB: 16,384; capped here at the number of items). */
  subsetSize?: number;
  /** Mini-batch size (MTEB: 512). */
  batchSize?: number;
  seed?: number;
}

/**
 * The item indices of each bootstrap subset: Rng(seed) draws nSubsets × size indices uniformly with
 * replacement (size = min(subsetSize, n)), subset after subset.
 */
export function bootstrapSubsets(n: number, nSubsets: number, subsetSize: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const size = Math.min(subsetSize, n);
  const out: number[][] = [];
  for (let s = 0; s < nSubsets; s++) out.push(Array.from({ length: size }, () => rng.int(n)));
  return out;
}

/** Seed of the k-means run on subset s (independent of the subset draws). */
export function kmeansSeed(seed: number, subset: number): number {
  return (seed + 7919 * (subset + 1)) >>> 0;
}

/**
 * MTEB ClusteringFast: for each subset, mini-batch k-means with k = number of distinct gold labels
 * *in the subset* (np.unique as MTEB), V-measure; main score the mean. The subset draws and the
 * subsets come from bootstrapSubsets(n, nSubsets, subsetSize, seed), the k-means on subset s from
 * Rng(kmeansSeed(seed, s)).
 */
export function clusteringMetrics(X: readonly Float32Array[], labels: readonly string[], options: ClusteringOptions = {}): { v_measure: number; v_measure_std: number; v_measures: number[]; main_score: number } {
  if (X.length !== labels.length) throw new Error(`clustering: ${labels.length} labels for ${X.length} embeddings`);
  if (X.length === 0) throw new Error('clustering: the split is empty');
  const seed = options.seed ?? 42;
  const subsets = bootstrapSubsets(X.length, options.nSubsets ?? 10, options.subsetSize ?? 16384, seed);
  const v: number[] = [];
  subsets.forEach((idx, s) => {
    const sx = idx.map((i) => X[i]!);
    const sy = idx.map((i) => labels[i]!);
    const k = new Set(sy).size;
    const { labels: pred } = miniBatchKMeans(sx, k, new Rng(kmeansSeed(seed, s)), { batchSize: options.batchSize ?? 512 });
    v.push(vMeasure(sy, Array.from(pred)).v_measure);
  });
  return { v_measure: mean(v), v_measure_std: std(v), v_measures: v, main_score: mean(v) };
}
