// Importance scores per weight (low = pruned first). GAPrune's DAI and the baselines it is compared
// with; each returns a ScoredMatrix per HF name, for any allocator of @prunekit/tensor-core.
import { createRng, type ScoredMatrix, type Seed } from '@prunekit/tensor-core';
import { alignment as alignmentOf, type AlignmentMode } from './alignment.js';
import { fisherOf, type FisherNormalisation, type GradStats } from './gradstats.js';

export type Rescale = 'none' | 'zscore-sigmoid' | 'minmax' | 'rank';
export const RESCALES: readonly Rescale[] = ['none', 'zscore-sigmoid', 'minmax', 'rank'];

/** Weights of the matrices to score, by HF name (row-major float32 with shape). */
export type Weights = ReadonlyMap<string, { shape: number[]; data: Float32Array }>;

export interface DaiOptions {
  /** weight of the general Fisher term (code default 1.0) */
  beta?: number;
  /** weight of the √|W| term (code default 0.5) */
  gamma?: number;
  alignment?: AlignmentMode;
  /** per-tensor rescaling of the final scores (paper: none; the code's default: zscore-sigmoid) */
  rescale?: Rescale;
  /** Σ g² ÷ batches (prunekit default) or ÷ samples (the official code); see fisherOf */
  fisherNormalisation?: FisherNormalisation;
}

export interface DaiTerms {
  domainTerm: Float32Array;
  generalTerm: Float32Array;
  alignmentFactor: Float32Array;
  magnitudeTerm: Float32Array;
}

const EPS = 1e-8;

/**
 * softplus(x) − ln 2 = log((1 + eˣ) / 2), accurate near 0. DAI's argument is often ~1e-6 (the Fisher
 * terms with γ small); softplus there is ln 2 + x/2, and float32 (6e-8 apart near ln 2) would round
 * many different x to the same score. The constant shift changes no ranking, no allocation and no
 * rescaling (z-score, min-max and rank are shift-invariant).
 */
function softplusMinusLn2(x: number): number {
  if (x > 20) return x - Math.LN2;
  if (x < -20) return Math.exp(x) - Math.LN2;
  return Math.log1p(Math.expm1(x) / 2);
}

/**
 * DAI = softplus((F_D·|W| − β·F_G·|W|) · clip(1 + 0.2·a, 0.8, 1.2) + γ·√(|W| + 1e-8)), per weight,
 * stored as DAI − ln 2 (see softplusMinusLn2: same order, float32 keeps the Fisher terms' detail).
 * Returns the scores and, when asked, each term (for diagnostics).
 */
export function daiScores(weights: Weights, domain: GradStats, general: GradStats, options: DaiOptions = {}, collectTerms?: Map<string, DaiTerms>): Map<string, ScoredMatrix> {
  const beta = options.beta ?? 1.0;
  const gamma = options.gamma ?? 0.5;
  const mode = options.alignment ?? 'per-matrix';
  const out = new Map<string, ScoredMatrix>();
  for (const [name, w] of weights) {
    const { fd, fg, a } = statsFor(name, w, domain, general, mode, options.fisherNormalisation);
    const n = w.data.length;
    const scores = new Float32Array(n);
    const terms = collectTerms ? { domainTerm: new Float32Array(n), generalTerm: new Float32Array(n), alignmentFactor: new Float32Array(n), magnitudeTerm: new Float32Array(n) } : null;
    for (let i = 0; i < n; i++) {
      const mag = Math.abs(w.data[i]!);
      const dTerm = fd[i]! * mag;
      const gTerm = beta * fg[i]! * mag;
      const factor = Math.min(1.2, Math.max(0.8, 1 + 0.2 * a[i]!));
      const mTerm = gamma * Math.sqrt(mag + EPS);
      scores[i] = softplusMinusLn2((dTerm - gTerm) * factor + mTerm);
      if (terms) {
        terms.domainTerm[i] = dTerm;
        terms.generalTerm[i] = gTerm;
        terms.alignmentFactor[i] = factor;
        terms.magnitudeTerm[i] = mTerm;
      }
    }
    if (terms) collectTerms!.set(name, terms);
    out.set(name, { shape: w.shape, scores: rescale(scores, options.rescale ?? 'none') });
  }
  return out;
}

function statsFor(name: string, w: { shape: number[]; data: Float32Array }, domain: GradStats, general: GradStats, mode: AlignmentMode, normalisation?: FisherNormalisation): { fd: Float32Array; fg: Float32Array; a: Float32Array } {
  const fd = fisherOf(domain, name, normalisation);
  const fg = fisherOf(general, name, normalisation);
  const gd = domain.meanGrad.get(name);
  const gg = general.meanGrad.get(name);
  if (!fd || !fg || !gd || !gg) throw new Error(`no ${!fd || !gd ? 'domain' : 'general'} gradient statistics for "${name}"`);
  if (fd.length !== w.data.length || fg.length !== w.data.length) throw new Error(`gradient statistics for "${name}" do not match the weight's shape [${w.shape.join(', ')}]`);
  return { fd, fg, a: alignmentOf(gd, gg, w.shape, mode) };
}

export interface BalancedDaiOptions {
  /** weight of the general Fisher term after normalisation (default 1) */
  beta?: number;
  /** weight of the magnitude term after normalisation (default 1) */
  gamma?: number;
  alignment?: AlignmentMode;
}

/**
 * gaprune-balanced (a prunekit variant, not the published method): DAI's three terms put on one scale
 * per tensor before they are combined, so the domain Fisher and the alignment can move the ranking:
 *   score = (D/mean D − β·G/mean G) · clip(1 + 0.2·a, 0.8, 1.2) + γ · M/mean M
 * with D = F_D·|W|, G = F_G·|W|, M = √(|W| + 1e-8), means over the tensor. Each normalised term has
 * mean 1, so β = γ = 1 (the defaults, chosen a priori, not tuned on any reported table) weigh domain
 * saliency, general saliency and magnitude equally. Dividing by the mean also makes the score
 * independent of the Fisher normalisation (batches vs samples) and of the data set size. Published
 * DAI: these terms differ by ~1e4-1e5 in scale, so DAI ranks like √|W| (notes/gaprune-scale.md).
 */
export function balancedDaiScores(weights: Weights, domain: GradStats, general: GradStats, options: BalancedDaiOptions = {}): Map<string, ScoredMatrix> {
  const beta = options.beta ?? 1;
  const gamma = options.gamma ?? 1;
  const mode = options.alignment ?? 'per-matrix';
  const out = new Map<string, ScoredMatrix>();
  for (const [name, w] of weights) {
    const { fd, fg, a } = statsFor(name, w, domain, general, mode);
    const n = w.data.length;
    let sd = 0;
    let sg = 0;
    let sm = 0;
    for (let i = 0; i < n; i++) {
      const mag = Math.abs(w.data[i]!);
      sd += fd[i]! * mag;
      sg += fg[i]! * mag;
      sm += Math.sqrt(mag + EPS);
    }
    const md = sd / n || 1;
    const mg = sg / n || 1;
    const mm = sm / n || 1;
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const mag = Math.abs(w.data[i]!);
      const factor = Math.min(1.2, Math.max(0.8, 1 + 0.2 * a[i]!));
      scores[i] = ((fd[i]! * mag) / md - (beta * fg[i]! * mag) / mg) * factor + (gamma * Math.sqrt(mag + EPS)) / mm;
    }
    out.set(name, { shape: w.shape, scores });
  }
  return out;
}

/** Per-tensor rescaling, as the authors' code offers it. */
export function rescale(scores: Float32Array, how: Rescale): Float32Array {
  const n = scores.length;
  if (how === 'none' || n === 0) return scores;
  if (how === 'minmax') {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of scores) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return scores.map((v) => (v - lo) / (hi - lo + EPS));
  }
  if (how === 'rank') {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
    const out = new Float32Array(n);
    order.forEach((idx, r) => (out[idx] = (r + 1) / n));
    return out;
  }
  // z-score (unbiased std, as torch.std) then sigmoid
  let mean = 0;
  for (const v of scores) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of scores) ss += (v - mean) ** 2;
  const std = Math.sqrt(ss / Math.max(1, n - 1)) + EPS;
  return scores.map((v) => 1 / (1 + Math.exp(-(v - mean) / std)));
}

export function magnitudeScores(weights: Weights): Map<string, ScoredMatrix> {
  return new Map([...weights].map(([n, w]) => [n, { shape: w.shape, scores: w.data.map(Math.abs) }]));
}

export function randomScores(weights: Weights, seed: Seed): Map<string, ScoredMatrix> {
  const rng = createRng(seed);
  return new Map([...weights].map(([n, w]) => [n, { shape: w.shape, scores: rng.fork(n).uniformArray(w.data.length) }]));
}

/** Signed first-order terms ḡ ⊙ W (mean domain gradient): summed over a group, |Σ| is group Taylor. */
export function taylorProducts(weights: Weights, stats: GradStats): Map<string, ScoredMatrix> {
  return new Map([...weights].map(([n, w]) => {
    const g = stats.meanGrad.get(n);
    if (!g) throw new Error(`no gradient statistics for "${n}"`);
    return [n, { shape: w.shape, scores: w.data.map((x, i) => x * g[i]!) }];
  }));
}

/** Fisher baseline: F ⊙ W² (the diagonal-Fisher saliency of removing each weight). */
export function fisherScores(weights: Weights, stats: GradStats): Map<string, ScoredMatrix> {
  return new Map([...weights].map(([n, w]) => {
    const f = stats.fisher.get(n);
    if (!f) throw new Error(`no gradient statistics for "${n}"`);
    return [n, { shape: w.shape, scores: w.data.map((x, i) => f[i]! * x * x) }];
  }));
}

/** First-order Taylor: |W ⊙ ḡ| with the mean domain gradient. */
export function taylorScores(weights: Weights, stats: GradStats): Map<string, ScoredMatrix> {
  return new Map([...weights].map(([n, w]) => {
    const g = stats.meanGrad.get(n);
    if (!g) throw new Error(`no gradient statistics for "${n}"`);
    return [n, { shape: w.shape, scores: w.data.map((x, i) => Math.abs(x * g[i]!)) }];
  }));
}

/** Wanda: |W_ij| · ‖X_j‖₂, with ‖X_j‖ the L2 norm of input feature j over the calibration tokens. */
export function wandaScores(weights: Weights, inputNorms: ReadonlyMap<string, Float32Array>): Map<string, ScoredMatrix> {
  return new Map([...weights].map(([n, w]) => {
    const x = inputNorms.get(n);
    const cols = w.shape[1]!;
    if (!x || x.length !== cols) throw new Error(`no input-activation norms of length ${cols} for "${n}"`);
    return [n, { shape: w.shape, scores: w.data.map((v, i) => Math.abs(v) * x[i % cols]!) }];
  }));
}
