// Domain/general gradient alignment, from mean gradients ḡ_D and ḡ_G of one weight matrix.
//  - per-matrix: a_W = cos(ḡ_D, ḡ_G), one scalar broadcast over the matrix (the paper);
//  - per-weight (the authors' code): u = ḡ/(‖ḡ‖ + 1e-8) for both, a = u_G ⊙ u_D, then a 3×3 mean
//    filter over the matrix (zero padding, divisor always 9). Entries are ~1/numel in size, so the
//    DAI alignment factor clip(1 + 0.2·a, 0.8, 1.2) is ≈ 1 in this mode; diagnostics report it.
const EPS = 1e-8;

export type AlignmentMode = 'per-matrix' | 'per-weight';

function norm(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

/** cos(ḡ_D, ḡ_G); 0 when either gradient is (numerically) zero. */
export function matrixCosine(domain: Float32Array, general: Float32Array): number {
  const nd = norm(domain);
  const ng = norm(general);
  if (nd <= EPS || ng <= EPS) return 0;
  let d = 0;
  for (let i = 0; i < domain.length; i++) d += (domain[i]! / (nd + EPS)) * (general[i]! / (ng + EPS));
  return d;
}

/** The code's per-weight alignment: element-wise product of unit gradients, 3×3-smoothed. */
export function perWeightAlignment(domain: Float32Array, general: Float32Array, shape: readonly number[]): Float32Array {
  const n = domain.length;
  const nd = norm(domain);
  const ng = norm(general);
  if (nd <= EPS || ng <= EPS) return new Float32Array(n);
  const prod = new Float64Array(n);
  for (let i = 0; i < n; i++) prod[i] = (general[i]! / (ng + EPS)) * (domain[i]! / (nd + EPS));
  if (shape.length !== 2) return Float32Array.from(prod);
  const [rows, cols] = shape as [number, number];
  // below 3×3 the code's shrunken kernel yields a wrongly shaped array that it then discards, so
  // such matrices keep the unsmoothed product
  if (rows < 3 || cols < 3) return Float32Array.from(prod);
  const k = 3;
  const r = 1;
  const out = new Float32Array(n);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let di = -r; di <= r; di++) {
        const ii = i + di;
        if (ii < 0 || ii >= rows) continue;
        for (let dj = -r; dj <= r; dj++) {
          const jj = j + dj;
          if (jj >= 0 && jj < cols) s += prod[ii * cols + jj]!;
        }
      }
      out[i * cols + j] = s / (k * k);
    }
  }
  return out;
}

/** Alignment for one matrix in either mode (per-matrix is broadcast to every weight). */
export function alignment(domain: Float32Array, general: Float32Array, shape: readonly number[], mode: AlignmentMode): Float32Array {
  return mode === 'per-matrix' ? new Float32Array(domain.length).fill(matrixCosine(domain, general)) : perWeightAlignment(domain, general, shape);
}
