// Dense helpers over Float32Array embeddings. Arithmetic is done in float64 (JS numbers) on
// float32 inputs, so results agree with numpy's float64 computations on the same stored float32
// embeddings to ~1e-15 relative.

/** Checks that every vector has the same dimension and returns it. */
export function dimensionOf(vectors: readonly Float32Array[], what = 'embeddings'): number {
  if (vectors.length === 0) return 0;
  const d = vectors[0]!.length;
  for (let i = 1; i < vectors.length; i++) {
    if (vectors[i]!.length !== d) {
      throw new Error(`${what}: vector ${i} has dimension ${vectors[i]!.length}, expected ${d} (the dimension of vector 0)`);
    }
  }
  return d;
}

export function dot(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm(a: Float32Array | Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/**
 * Copies rows [start, end) of `vectors` into a contiguous row-major Float64Array, optionally
 * scaled to unit L2 norm (zero vectors stay zero, as sklearn's normalize does).
 */
export function packRows(vectors: readonly Float32Array[], start: number, end: number, d: number, normalize: boolean, out?: Float64Array): Float64Array {
  const n = end - start;
  const buf = out && out.length >= n * d ? out : new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    const v = vectors[start + r]!;
    const off = r * d;
    let scale = 1;
    if (normalize) {
      const nv = norm(v);
      scale = nv > 0 ? 1 / nv : 0;
    }
    for (let k = 0; k < d; k++) buf[off + k] = v[k]! * scale;
  }
  return buf;
}

/**
 * Blocked dense product C = A · Bᵀ for row-major A (m×d) and B (n×d) into C (m×n, row-major).
 * The inner kernel computes a 1×4 tile of C per pass over d, so each A element loaded feeds four
 * multiply-adds; block sizes are chosen by the caller to keep A, B and C in cache.
 */
export function gemmABt(A: Float64Array, m: number, B: Float64Array, n: number, d: number, C: Float64Array): void {
  const n4 = n - (n % 4);
  for (let i = 0; i < m; i++) {
    const ai = i * d;
    const ci = i * n;
    let j = 0;
    for (; j < n4; j += 4) {
      const b0 = j * d;
      const b1 = b0 + d;
      const b2 = b1 + d;
      const b3 = b2 + d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < d; k++) {
        const a = A[ai + k]!;
        s0 += a * B[b0 + k]!;
        s1 += a * B[b1 + k]!;
        s2 += a * B[b2 + k]!;
        s3 += a * B[b3 + k]!;
      }
      C[ci + j] = s0;
      C[ci + j + 1] = s1;
      C[ci + j + 2] = s2;
      C[ci + j + 3] = s3;
    }
    for (; j < n; j++) {
      const bj = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += A[ai + k]! * B[bj + k]!;
      C[ci + j] = s;
    }
  }
}
