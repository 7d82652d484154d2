// Turning scores into masks: an allocator decides how many weights each matrix loses, separately from
// the scorer that ranks them, so every scorer works with every allocator. Low score = pruned first.
// Counts are exact: ties at the cut are broken by position (matrix order, then row-major index), so
// the same scores always give the same mask.
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
