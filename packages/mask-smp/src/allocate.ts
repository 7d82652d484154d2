// How many weights each matrix keeps at the current keep fraction v_t.
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
import { keepCount } from './topv.js';

export type Allocation = 'smp-l' | 'smp-s';

export interface AllocMatrix {
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
export function allocateKeep(matrices: readonly AllocMatrix[], keep: number, allocation: Allocation, p = 1): Map<string, number> {
  if (!(keep >= 0 && keep <= 1)) throw new Error(`keep fraction must be in [0, 1] (got ${keep})`);
  const out = new Map<string, number>();
  if (allocation === 'smp-l') {
    for (const m of matrices) out.set(m.name, keepCount(m.numel, keep));
    return out;
  }
  if (!['smp-l', 'smp-s'].includes(allocation)) throw new Error(`unknown allocation "${allocation}"; expected smp-l or smp-s`);
  const kinds = new Map<string, AllocMatrix[]>();
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
export function smpSFractions(matrices: readonly AllocMatrix[], keep: number, p = 1): Map<string, number> {
  const counts = allocateKeep(matrices, keep, 'smp-s', p);
  return new Map(matrices.map((m) => [m.name, counts.get(m.name)! / m.numel]));
}
