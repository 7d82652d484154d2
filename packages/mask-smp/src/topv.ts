// Top-v masks with an exact count, and bit-packing of masks.
//
// TopV keeps exactly k = keepCount(n, v) entries of a score matrix: every score above the k-th
// largest value, then, among the scores equal to it, the lowest (row-major) indices first. The same
// scores therefore always give the same mask, even when many scores tie (all scores start at 0,
// and after AdamW's first step they take only the values 0 and ±lr).

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

/** Packs a 0/1 mask into ceil(n/8) bytes, bit i of the mask = bit (i mod 8) of byte ⌊i/8⌋ (LSB first; numpy.packbits(..., bitorder='little')). */
export function packBits(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i]) out[i >>> 3] = out[i >>> 3]! | (1 << (i & 7));
  return out;
}

/** Inverse of packBits for `n` entries. */
export function unpackBits(bytes: Uint8Array, n: number): Uint8Array {
  if (bytes.length !== Math.ceil(n / 8)) throw new Error(`${bytes.length} bytes cannot hold exactly ${n} mask bits (expected ${Math.ceil(n / 8)})`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >>> 3]! >>> (i & 7)) & 1;
  return out;
}
