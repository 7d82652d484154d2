// FineGates' gate arithmetic and its target-sparsity regulariser (../shared/METHODS.md):
//   μ = tanh θ
//   training gate z = clamp(μ + ε + 0.5, 0, 1), ε ~ N(0, σ²), σ = 0.1 (reparameterised: ∂z/∂θ flows)
//   evaluation gate z = clamp(μ + 0.5, 0, 1) (exactly 0 closes a row/column)
//   P(open) = Φ((μ + 0.5)/σ_reg), σ_reg = 0.5 (the code's value)
//   per gated linear r = ½(|mean_rows P − keep| + |mean_cols P − keep|), keep = 1 − target sparsity
//   L = L_task + λ · mean_linears r, λ = 50.
// Optional kurtosis weighting (the code's --kurt): the plain means become weighted sums over the rows /
// columns whose evaluation gate is open, with weights softmax(−√kurtosis/τ) of the activations x̄ ⊙ W.
import * as tf from '@tensorflow/tfjs-core';

export const GATE_DEFAULTS = {
  /** θ ~ N(initMean, initStd²) */
  initMean: 1,
  initStd: 0.1,
  /** σ of the training noise ε */
  noiseStd: 0.1,
  /** σ_reg of P(open) */
  regSigma: 0.5,
  /** λ */
  lambda: 50,
  /** τ of the kurtosis softmax */
  kurtosisTau: 100,
} as const;

/** μ = tanh θ. */
export function gateMu(theta: tf.Tensor): tf.Tensor {
  return tf.tanh(theta);
}

/** Training gates clamp(tanh θ + ε + 0.5, 0, 1) for a noise tensor ε of θ's shape. */
export function trainingGate(theta: tf.Tensor, noise: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.add(gateMu(theta), noise), 0.5), 0, 1));
}

/** Evaluation gates clamp(tanh θ + 0.5, 0, 1). */
export function evalGate(theta: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.add(gateMu(theta), 0.5), 0, 1));
}

/** P(open) = Φ((μ + 0.5)/σ_reg) = ½ + ½·erf((μ + 0.5)/(σ_reg·√2)). */
export function openProbability(theta: tf.Tensor, regSigma: number = GATE_DEFAULTS.regSigma): tf.Tensor {
  return tf.tidy(() => tf.add(0.5, tf.mul(0.5, tf.erf(tf.div(tf.add(gateMu(theta), 0.5), regSigma * Math.SQRT2)))));
}

/** One gated linear's gate parameters, with optional kurtosis weights (over all rows / columns; 0 where closed). */
export interface RegulariserTerm {
  rowTheta: tf.Tensor;
  colTheta: tf.Tensor;
  rowWeights?: tf.Tensor;
  colWeights?: tf.Tensor;
}

/**
 * λ-free regulariser mean_linears ½(|m_rows − keep| + |m_cols − keep|), where m is the mean of P(open)
 * (or, with kurtosis weights, Σ w·P). Multiply by λ for the loss.
 */
export function sparsityRegulariser(terms: readonly RegulariserTerm[], targetSparsity: number, regSigma: number = GATE_DEFAULTS.regSigma): tf.Scalar {
  if (!(targetSparsity >= 0 && targetSparsity < 1)) throw new Error(`target sparsity must be in [0, 1) (got ${targetSparsity})`);
  if (terms.length === 0) throw new Error('sparsityRegulariser: no gated linears');
  const keep = 1 - targetSparsity;
  return tf.tidy(() => {
    const per = terms.map((t) => {
      const side = (theta: tf.Tensor, w?: tf.Tensor): tf.Tensor => {
        const p = openProbability(theta, regSigma);
        const m = w ? tf.sum(tf.mul(p, w)) : tf.mean(p);
        return tf.abs(tf.sub(m, keep));
      };
      return tf.mul(0.5, tf.add(side(t.rowTheta, t.rowWeights), side(t.colTheta, t.colWeights)));
    });
    return tf.div(tf.addN(per), per.length) as tf.Scalar;
  });
}

/**
 * Kurtosis weights of one linear, as the FineGates code computes them (no gradient): A = x̄ ⊙ W over the
 * open rows and columns (x̄ the mean input over batch and positions), k = √(mean z⁴) per column (z over
 * the rows, unbiased std, 0 where the std is 0) and per row; weights softmax(−k/τ). Returned as full-size
 * vectors with 0 at closed rows / columns.
 */
export function kurtosisWeights(weight: Float32Array, rows: number, cols: number, inputMean: Float32Array, openRows: Uint8Array, openCols: Uint8Array, tau: number = GATE_DEFAULTS.kurtosisTau): { rows: Float32Array; cols: Float32Array } {
  const r = [...openRows.keys()].filter((i) => openRows[i]);
  const c = [...openCols.keys()].filter((j) => openCols[j]);
  const a = (i: number, j: number): number => inputMean[j]! * weight[i * cols + j]!;
  // kurtosis of each column j over the open rows, and of each row i over the open columns
  const kurt = (outer: number[], inner: number[], at: (o: number, k: number) => number): number[] =>
    outer.map((o) => {
      const n = inner.length;
      let mean = 0;
      for (const k of inner) mean += at(o, k);
      mean /= n;
      let ss = 0;
      for (const k of inner) ss += (at(o, k) - mean) ** 2;
      const std = Math.sqrt(ss / (n - 1));
      let m4 = 0;
      for (const k of inner) {
        const z = (at(o, k) - mean) / std;
        m4 += Number.isNaN(z) ? 0 : z ** 4;
      }
      return Math.sqrt(m4 / n);
    });
  const softmaxNeg = (k: number[]): number[] => {
    const x = k.map((v) => -v / tau);
    const mx = Math.max(...x);
    const e = x.map((v) => Math.exp(v - mx));
    const s = e.reduce((p, q) => p + q, 0);
    return e.map((v) => v / s);
  };
  const colW = softmaxNeg(kurt(c, r, (j, i) => a(i, j)));
  const rowW = softmaxNeg(kurt(r, c, (i, j) => a(i, j)));
  const outR = new Float32Array(rows);
  const outC = new Float32Array(cols);
  r.forEach((i, k) => (outR[i] = rowW[k]!));
  c.forEach((j, k) => (outC[j] = colW[k]!));
  return { rows: outR, cols: outC };
}
