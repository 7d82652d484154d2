// Turning scores into masks, for every scorer and method. An allocator decides how many weights each
// matrix keeps, separately from the scorer that ranks them, so every scorer works with every allocator:
//   - allocateMasks: a sparsity cut that is global, per layer (pooled, clamped) or per matrix; low
//     score = pruned first, ties at the cut pruned in position order (matrix order, row-major index);
//   - Top-v (SMP's): keepCount / topVMask keep exactly round(v·n) of the largest scores, ties at the
//     cut kept in row-major order; allocateKeep gives per-matrix keep counts, either local (smp-l) or
//     SMP-S's per-type proportional rule; allocateTopV applies them to any scorer's scores;
//   - thresholdMask: every score above a threshold (a count that follows the scores).
// Counts are exact, so the same scores always give the same mask.
import { MaskSet } from './maskset.js';
import { parseLinearName } from '../model/names.js';

export type Allocation = 'global' | 'per-layer' | 'per-matrix';
export const ALLOCATIONS: readonly Allocation[] = ['global', 'per-layer', 'per-matrix'];

export interface ScoredMatrix {
  shape: number[];
  /** one score per weight, row-major */
  scores: Float32Array;
}

export interface AllocateOptions {
  /** per-layer sparsity bounds (default [0.05, 0.95]) */
  layerClamp?: [number, number];
  /** layer of a parameter (default: parsed from its HF name) */
  layerOf?: (name: string) => number;
}

/** Indices of the k smallest values (ties: lower index first), as a mask with those set to 0. */
function bottomK(values: Float32Array, k: number): Uint8Array {
  const n = values.length;
  const keep = new Uint8Array(n).fill(1);
  if (k <= 0) return keep;
  if (k >= n) return keep.fill(0);
  const sorted = Float32Array.from(values).sort();
  const threshold = sorted[k - 1]!;
  let below = 0;
  for (let i = 0; i < n; i++) if (values[i]! < threshold) below++;
  let equalToPrune = k - below;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < threshold) keep[i] = 0;
    else if (v === threshold && equalToPrune > 0) {
      keep[i] = 0;
      equalToPrune--;
    }
  }
  return keep;
}

function checkSparsity(s: number): void {
  if (!(s >= 0 && s <= 1)) throw new Error(`sparsity must be in [0, 1] (got ${s})`);
}

function checkScores(name: string, m: ScoredMatrix): void {
  const n = m.shape.reduce((a, b) => a * b, 1);
  if (m.scores.length !== n) throw new Error(`scores for "${name}": ${m.scores.length} values for shape [${m.shape.join(', ')}]`);
  for (let i = 0; i < n; i++) if (Number.isNaN(m.scores[i])) throw new Error(`scores for "${name}" contain NaN at index ${i}`);
}

/**
 * Masks that remove exactly round(sparsity × candidates) weights (global), or that fraction of each
 * matrix (per-matrix), or of each layer's candidate weights pooled (per-layer, sparsity clamped to
 * layerClamp per layer).
 */
export function allocateMasks(scores: ReadonlyMap<string, ScoredMatrix>, sparsity: number, allocation: Allocation, options: AllocateOptions = {}): MaskSet {
  checkSparsity(sparsity);
  if (!ALLOCATIONS.includes(allocation)) throw new Error(`unknown allocation "${allocation}"; expected ${ALLOCATIONS.join(', ')}`);
  for (const [name, m] of scores) checkScores(name, m);
  const masks = new MaskSet();
  if (allocation === 'per-matrix') {
    for (const [name, m] of scores) masks.set(name, m.shape, bottomK(m.scores, Math.round(sparsity * m.scores.length)));
    return masks;
  }
  const groups = new Map<string, string[]>();
  if (allocation === 'global') {
    groups.set('all', [...scores.keys()]);
  } else {
    const layerOf = options.layerOf ?? ((name: string) => {
      const p = parseLinearName(name);
      if (!p) throw new Error(`cannot tell the layer of "${name}" for per-layer allocation`);
      return p.layer;
    });
    for (const name of scores.keys()) {
      const key = String(layerOf(name));
      groups.set(key, [...(groups.get(key) ?? []), name]);
    }
  }
  const [lo, hi] = options.layerClamp ?? [0.05, 0.95];
  for (const [key, names] of groups) {
    const total = names.reduce((a, n) => a + scores.get(n)!.scores.length, 0);
    const all = new Float32Array(total);
    let off = 0;
    for (const n of names) {
      all.set(scores.get(n)!.scores, off);
      off += scores.get(n)!.scores.length;
    }
    const s = key === 'all' ? sparsity : Math.min(hi, Math.max(lo, sparsity));
    const keep = bottomK(all, Math.round(s * total));
    off = 0;
    for (const n of names) {
      const m = scores.get(n)!;
      masks.set(n, m.shape, keep.slice(off, off + m.scores.length));
      off += m.scores.length;
    }
  }
  return masks;
}

// ---- Top-v with exact counts (SMP) ----

/** The number of weights a matrix of `numel` weights keeps at keep fraction `keep`: round(keep · numel). */
export function keepCount(numel: number, keep: number): number {
  if (!(keep >= 0 && keep <= 1)) throw new Error(`keep fraction must be in [0, 1] (got ${keep})`);
  return Math.min(numel, Math.max(0, Math.round(keep * numel)));
}

/** The k-th largest value of `values` (1-based k ≤ n), by selection on a copy (values unchanged). */
export function kthLargest(values: Float32Array, k: number): number {
  const n = values.length;
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new Error(`k must be an integer in [1, ${n}] (got ${k})`);
  const a = Float32Array.from(values);
  // the k-th largest is the (n − k)-th smallest (0-based): iterative quickselect, median-of-three pivots
  const target = n - k;
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // order a[lo] <= a[mid] <= a[hi], pivot a[mid]
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
}

function swap(a: Float32Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/**
 * Mask (1 = keep) of exactly `k` entries: the k largest scores, ties at the cut broken by lower
 * row-major index. NaN scores are an error.
 */
export function topVMask(scores: Float32Array, k: number): Uint8Array {
  const n = scores.length;
  if (!(Number.isInteger(k) && k >= 0 && k <= n)) throw new Error(`keep count must be an integer in [0, ${n}] (got ${k})`);
  const mask = new Uint8Array(n);
  if (k === n) return mask.fill(1);
  if (k === 0) return mask;
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i])) throw new Error(`scores contain NaN at index ${i}`);
  const t = kthLargest(scores, k);
  let above = 0;
  for (let i = 0; i < n; i++) if (scores[i]! > t) above++;
  let equalToKeep = k - above;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (s > t) mask[i] = 1;
    else if (s === t && equalToKeep > 0) {
      mask[i] = 1;
      equalToKeep--;
    }
  }
  return mask;
}

// ---- keep counts per matrix: SMP-L (local) and SMP-S (per-type proportional) ----
//
// SMP-L (local): every matrix keeps round(v_t · numel).
// SMP-S: per matrix *type* (query, key, value, attention output, FFN up, FFN down) across the L
// layers, v_l = R(S_l) · L / Σ_l' R(S_l') · v_t with R(S) = mean σ(S / p) (the authors' code; the
// paper's Σ σ(S) gives the same ratios for equally sized matrices; p = 1 by default, a larger p
// flattens the allocation, which the code uses at high keep fractions). Recomputed every step.
// A v_l above 1 is capped at 1 and the excess is shared among the other layers of that type in
// proportion to their R (so the type still keeps its whole budget), and the per-type budget
// round(v_t · Σ numel) is split into integer counts by largest remainder (ties: lower layer first).
// Hence Σ counts = Σ_types round(v_t · numel_type) exactly.

/** Keep-count rules of SMP: local (every matrix keeps round(v·numel)) or SMP-S's per-type proportional rule. */
export type KeepAllocation = 'smp-l' | 'smp-s';
export const KEEP_ALLOCATIONS: readonly KeepAllocation[] = ['smp-l', 'smp-s'];

export interface KeepMatrix {
  name: string;
  /** matrix type: layers are compared within one type */
  kind: string;
  numel: number;
  /** current scores (row-major); only read for SMP-S */
  scores: Float32Array;
}

/** R(S) = mean σ(S / p). */
export function scoreMass(scores: Float32Array, p = 1): number {
  if (!(p > 0)) throw new Error(`temperature p must be > 0 (got ${p})`);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += 1 / (1 + Math.exp(-scores[i]! / p));
  return scores.length ? sum / scores.length : 0;
}

/** Splits `total` among weights ∝ `shares`, each capped at `caps[i]`; exact integer counts. */
function splitCounts(total: number, shares: number[], caps: number[]): number[] {
  const n = shares.length;
  const capTotal = caps.reduce((a, b) => a + b, 0);
  if (total > capTotal) throw new Error(`cannot keep ${total} weights in matrices holding ${capTotal}`);
  // continuous water-filling: fractions ∝ share, capped at the matrix size
  const target = new Array<number>(n).fill(0);
  const capped = new Array<boolean>(n).fill(false);
  let remaining = total;
  for (let round = 0; round <= n; round++) {
    const free = [...Array(n).keys()].filter((i) => !capped[i]);
    const shareSum = free.reduce((a, i) => a + shares[i]!, 0);
    let changed = false;
    for (const i of free) {
      target[i] = shareSum > 0 ? (remaining * shares[i]!) / shareSum : remaining / free.length;
    }
    for (const i of free) {
      if (target[i]! >= caps[i]!) {
        target[i] = caps[i]!;
        capped[i] = true;
        remaining -= caps[i]!;
        changed = true;
      }
    }
    if (!changed) break;
  }
  const counts = target.map((t, i) => Math.min(caps[i]!, Math.floor(t)));
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = [...Array(n).keys()].sort((a, b) => target[b]! - Math.floor(target[b]!) - (target[a]! - Math.floor(target[a]!)) || a - b);
  for (let pass = 0; left > 0 && pass < 2; pass++) {
    for (const i of order) {
      if (left === 0) break;
      if (counts[i]! < caps[i]!) {
        counts[i] = counts[i]! + 1;
        left--;
      }
    }
  }
  return counts;
}

/**
 * Keep counts per matrix name at keep fraction `keep` (v_t). `p` is SMP-S's temperature.
 */
export function allocateKeep(matrices: readonly KeepMatrix[], keep: number, allocation: KeepAllocation, p = 1): Map<string, number> {
  if (!(keep >= 0 && keep <= 1)) throw new Error(`keep fraction must be in [0, 1] (got ${keep})`);
  const out = new Map<string, number>();
  if (allocation === 'smp-l') {
    for (const m of matrices) out.set(m.name, keepCount(m.numel, keep));
    return out;
  }
  if (!KEEP_ALLOCATIONS.includes(allocation)) throw new Error(`unknown allocation "${allocation}"; expected smp-l or smp-s`);
  const kinds = new Map<string, KeepMatrix[]>();
  for (const m of matrices) kinds.set(m.kind, [...(kinds.get(m.kind) ?? []), m]);
  for (const group of kinds.values()) {
    const total = keepCount(group.reduce((a, m) => a + m.numel, 0), keep);
    // v_l ∝ R(S_l); with sizes n_l the kept count of layer l is ∝ R(S_l) · n_l
    const shares = group.map((m) => scoreMass(m.scores, p) * m.numel);
    const counts = splitCounts(total, shares, group.map((m) => m.numel));
    group.forEach((m, i) => out.set(m.name, counts[i]!));
  }
  return out;
}

/** The SMP-S keep fractions v_l (kept count / size of each matrix), for reports. */
export function smpSFractions(matrices: readonly KeepMatrix[], keep: number, p = 1): Map<string, number> {
  const counts = allocateKeep(matrices, keep, 'smp-s', p);
  return new Map(matrices.map((m) => [m.name, counts.get(m.name)! / m.numel]));
}

/**
 * Masks that keep the Top-v of any scorer's scores, with keep counts from allocateKeep (`keep` is the
 * kept fraction, 1 − sparsity). The matrix type of each name defaults to its HF linear kind.
 */
export function allocateTopV(scores: ReadonlyMap<string, ScoredMatrix>, keep: number, allocation: KeepAllocation, options: { temperature?: number; kindOf?: (name: string) => string } = {}): MaskSet {
  for (const [name, m] of scores) checkScores(name, m);
  const kindOf = options.kindOf ?? ((name: string) => {
    const p = parseLinearName(name);
    if (!p) throw new Error(`cannot tell the matrix type of "${name}" for ${allocation} allocation`);
    return p.kind;
  });
  const mats: KeepMatrix[] = [...scores].map(([name, m]) => ({ name, kind: allocation === 'smp-s' ? kindOf(name) : '', numel: m.scores.length, scores: m.scores }));
  const counts = allocateKeep(mats, keep, allocation, options.temperature ?? 1);
  const masks = new MaskSet();
  for (const [name, m] of scores) masks.set(name, m.shape, topVMask(m.scores, counts.get(name)!));
  return masks;
}

/** Mask (1 = keep) of every score strictly above `threshold`; NaN scores are an error. */
export function thresholdMask(scores: Float32Array, threshold: number): Uint8Array {
  if (Number.isNaN(threshold)) throw new Error('threshold is NaN');
  const mask = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) throw new Error(`scores contain NaN at index ${i}`);
    mask[i] = s > threshold ? 1 : 0;
  }
  return mask;
}
