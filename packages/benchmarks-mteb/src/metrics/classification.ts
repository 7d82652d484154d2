// Classification on frozen embeddings, MTEB's protocol: n_experiments seeded undersamplings of the
// train split to samples_per_label per label, a classifier fitted on each, scores averaged.
import { lbfgs, type LbfgsResult } from './lbfgs.js';
import { dimensionOf, norm } from './linalg.js';
import { Rng } from '../rng.js';

/** Sorted unique labels, in the order numpy's np.unique gives for strings (code-point order). */
export function sortedLabels(labels: readonly string[]): string[] {
  return [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export interface LogisticRegressionModel {
  classes: string[];
  /** Row-major coefficients: 1 × d for two classes (binomial, as sklearn), K × d otherwise. */
  coef: Float64Array;
  intercept: Float64Array;
  dim: number;
  fit: Omit<LbfgsResult, 'x'>;
}

export interface LogisticRegressionOptions {
  /** Inverse regularisation strength (sklearn C, default 1). */
  C?: number;
  /** L-BFGS iterations (sklearn max_iter, MTEB uses 100). */
  maxIter?: number;
  /** Gradient tolerance (sklearn tol, default 1e-4). */
  tol?: number;
}

/**
 * scikit-learn's LogisticRegression(solver="lbfgs", penalty="l2", fit_intercept=True): minimises
 * mean(log-loss) + ‖W‖² / (2 C n) with an unpenalised intercept; binomial loss with one weight
 * vector for two classes (classes[1] positive), multinomial (softmax) loss for more.
 */
export function fitLogisticRegression(X: readonly Float32Array[], y: readonly string[], options: LogisticRegressionOptions = {}): LogisticRegressionModel {
  const C = options.C ?? 1;
  const n = X.length;
  if (n === 0) throw new Error('fitLogisticRegression: no training samples');
  if (y.length !== n) throw new Error(`fitLogisticRegression: ${y.length} labels for ${n} samples`);
  const d = dimensionOf(X, 'training embeddings');
  const classes = sortedLabels(y);
  if (classes.length < 2) throw new Error(`fitLogisticRegression: needs at least 2 classes, got ${classes.length} (${classes.join(', ')})`);
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  const yi = Int32Array.from(y, (l) => classIndex.get(l)!);
  const lambda = 1 / (C * n);
  const binary = classes.length === 2;
  const K = binary ? 1 : classes.length;
  const stride = d + 1; // per class: d weights then the intercept
  const x0 = new Float64Array(K * stride);
  const z = new Float64Array(K);
  const fg = (w: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const xi = X[i]!;
      for (let k = 0; k < K; k++) {
        const off = k * stride;
        let s = w[off + d]!;
        for (let j = 0; j < d; j++) s += w[off + j]! * xi[j]!;
        z[k] = s;
      }
      if (binary) {
        const s = z[0]!;
        const t = yi[i]!;
        // log(1 + e^s) − t s, computed stably
        loss += (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s))) - t * s;
        const p = s >= 0 ? 1 / (1 + Math.exp(-s)) : Math.exp(s) / (1 + Math.exp(s));
        z[0] = p - t;
      } else {
        let mx = -Infinity;
        for (let k = 0; k < K; k++) mx = Math.max(mx, z[k]!);
        let se = 0;
        for (let k = 0; k < K; k++) se += Math.exp(z[k]! - mx);
        const lse = mx + Math.log(se);
        loss += lse - z[yi[i]!]!;
        for (let k = 0; k < K; k++) z[k] = Math.exp(z[k]! - lse) - (k === yi[i] ? 1 : 0);
      }
      for (let k = 0; k < K; k++) {
        const r = z[k]!;
        if (r === 0) continue;
        const off = k * stride;
        for (let j = 0; j < d; j++) grad[off + j] = grad[off + j]! + r * xi[j]!;
        grad[off + d] = grad[off + d]! + r;
      }
    }
    let pen = 0;
    for (let k = 0; k < K; k++) {
      const off = k * stride;
      for (let j = 0; j < d; j++) {
        const wj = w[off + j]!;
        pen += wj * wj;
        grad[off + j] = grad[off + j]! / n + lambda * wj;
      }
      grad[off + d] = grad[off + d]! / n;
    }
    return loss / n + 0.5 * lambda * pen;
  };
  const res = lbfgs(fg, x0, { maxIter: options.maxIter ?? 100, gtol: options.tol ?? 1e-4 });
  const coef = new Float64Array(K * d);
  const intercept = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    coef.set(res.x.subarray(k * stride, k * stride + d), k * d);
    intercept[k] = res.x[k * stride + d]!;
  }
  const { x: _x, ...fit } = res;
  return { classes, coef, intercept, dim: d, fit };
}

/** Decision values (n × K', K' = 1 for binary). */
export function decisionFunction(model: LogisticRegressionModel, X: readonly Float32Array[]): Float64Array[] {
  const K = model.intercept.length;
  const d = model.dim;
  return X.map((x) => {
    if (x.length !== d) throw new Error(`logistic regression: embedding dimension ${x.length}, model expects ${d}`);
    const out = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let s = model.intercept[k]!;
      const off = k * d;
      for (let j = 0; j < d; j++) s += model.coef[off + j]! * x[j]!;
      out[k] = s;
    }
    return out;
  });
}

export function predictLogisticRegression(model: LogisticRegressionModel, X: readonly Float32Array[]): string[] {
  return decisionFunction(model, X).map((s) => {
    if (s.length === 1) return model.classes[s[0]! > 0 ? 1 : 0]!;
    let best = 0;
    for (let k = 1; k < s.length; k++) if (s[k]! > s[best]!) best = k;
    return model.classes[best]!;
  });
}

/**
 * k-nearest-neighbour prediction (sklearn KNeighborsClassifier, uniform weights, brute force):
 * the k smallest distances (ties by training index), majority vote, vote ties to the smallest
 * label in sorted order.
 */
export function predictKnn(trainX: readonly Float32Array[], trainY: readonly string[], X: readonly Float32Array[], k: number, metric: 'cosine' | 'euclidean'): string[] {
  const classes = sortedLabels(trainY);
  const ci = new Map(classes.map((c, i) => [c, i]));
  const yi = trainY.map((l) => ci.get(l)!);
  const trainNorms = trainX.map((v) => norm(v));
  const kk = Math.min(k, trainX.length);
  return X.map((x) => {
    const nx = norm(x);
    const dist = trainX.map((t, i) => {
      if (metric === 'cosine') {
        let s = 0;
        for (let j = 0; j < x.length; j++) s += x[j]! * t[j]!;
        const den = nx * trainNorms[i]!;
        return 1 - (den > 0 ? s / den : 0);
      }
      let s = 0;
      for (let j = 0; j < x.length; j++) {
        const diff = x[j]! - t[j]!;
        s += diff * diff;
      }
      return Math.sqrt(s);
    });
    const order = dist.map((_, i) => i).sort((a, b) => dist[a]! - dist[b]! || a - b);
    const votes = new Array<number>(classes.length).fill(0);
    for (let r = 0; r < kk; r++) votes[yi[order[r]!]!]!++;
    let best = 0;
    for (let c = 1; c < votes.length; c++) if (votes[c]! > votes[best]!) best = c;
    return classes[best]!;
  });
}

/** Counts per label: true positives, predictions and true occurrences. */
function labelCounts<L>(yTrue: ArrayLike<L>, yPred: ArrayLike<L>): { correct: number; tp: Map<L, number>; predicted: Map<L, number>; actual: Map<L, number> } {
  if (yTrue.length !== yPred.length) throw new Error(`classification metrics: ${yTrue.length} true labels, ${yPred.length} predictions`);
  const tp = new Map<L, number>();
  const predicted = new Map<L, number>();
  const actual = new Map<L, number>();
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    actual.set(t, (actual.get(t) ?? 0) + 1);
    predicted.set(p, (predicted.get(p) ?? 0) + 1);
    if (t === p) {
      correct++;
      tp.set(t, (tp.get(t) ?? 0) + 1);
    }
  }
  return { correct, tp, predicted, actual };
}

/** F1 of each given label (sklearn's f1_score with labels=[label], zero_division = 0). */
export function f1PerLabel<L>(yTrue: ArrayLike<L>, yPred: ArrayLike<L>, labels: readonly L[]): number[] {
  const { tp, predicted, actual } = labelCounts(yTrue, yPred);
  return labels.map((l) => {
    const denom = (predicted.get(l) ?? 0) + (actual.get(l) ?? 0);
    return denom > 0 ? (2 * (tp.get(l) ?? 0)) / denom : 0;
  });
}

/** Matthews correlation; multi-class as Gorodkin's R_K (sklearn.metrics.matthews_corrcoef); 0 when undefined. */
export function matthewsCorrcoef<L>(yTrue: ArrayLike<L>, yPred: ArrayLike<L>): number {
  const { correct, predicted, actual } = labelCounts(yTrue, yPred);
  const n = yTrue.length;
  let tp = 0;
  let tt = 0;
  let pp = 0;
  for (const l of new Set([...actual.keys(), ...predicted.keys()])) {
    const t = actual.get(l) ?? 0;
    const p = predicted.get(l) ?? 0;
    tp += t * p;
    tt += t * t;
    pp += p * p;
  }
  const denom = Math.sqrt((n * n - pp) * (n * n - tt));
  return denom === 0 ? 0 : (correct * n - tp) / denom;
}

/** accuracy, macro F1 and support-weighted F1 (sklearn: labels = union of true and predicted, zero_division = 0). */
export function classificationScores(yTrue: readonly string[], yPred: readonly string[]): { accuracy: number; f1: number; f1_weighted: number } {
  const { correct, actual } = labelCounts(yTrue, yPred);
  const labels = sortedLabels([...yTrue, ...yPred]);
  const f1s = f1PerLabel(yTrue, yPred, labels);
  let macro = 0;
  let weighted = 0;
  labels.forEach((l, i) => {
    macro += f1s[i]!;
    weighted += f1s[i]! * (actual.get(l) ?? 0);
  });
  return { accuracy: yTrue.length > 0 ? correct / yTrue.length : 0, f1: macro / labels.length, f1_weighted: yTrue.length > 0 ? weighted / yTrue.length : 0 };
}

/**
 * MTEB's undersampling: shuffle the (persistent) index array, then keep the first
 * samplesPerLabel indices of each label in shuffled order. `idxs` is shuffled in place, so
 * successive experiments continue from the previous permutation, as in MTEB.
 */
export function undersample(labels: readonly string[], samplesPerLabel: number, idxs: number[], rng: Rng): number[] {
  rng.shuffle(idxs);
  const counts = new Map<string, number>();
  const picked: number[] = [];
  for (const i of idxs) {
    const l = labels[i]!;
    const c = counts.get(l) ?? 0;
    if (c < samplesPerLabel) {
      picked.push(i);
      counts.set(l, c + 1);
    }
  }
  return picked;
}

/** The train indices each experiment uses (so callers can encode only their union). */
export function experimentSamples(trainLabels: readonly string[], opts: { nExperiments: number; samplesPerLabel: number; seed: number }): number[][] {
  const rng = new Rng(opts.seed);
  const idxs = trainLabels.map((_, i) => i);
  const out: number[][] = [];
  for (let e = 0; e < opts.nExperiments; e++) out.push(undersample(trainLabels, opts.samplesPerLabel, idxs, rng));
  return out;
}

export interface ClassificationOptions {
  /** 'logReg' (default, MTEB's) or 'kNN'. */
  method?: 'logReg' | 'kNN';
  nExperiments?: number;
  samplesPerLabel?: number;
  seed?: number;
  maxIter?: number;
  /** Neighbours for kNN (MTEB default 3). */
  k?: number;
}

export interface ClassificationResult extends Record<string, unknown> {
  accuracy: number;
  f1: number;
  f1_weighted: number;
  main_score: number;
  scores_per_experiment: Record<string, number>[];
}

/**
 * Runs the protocol given train embeddings *for the rows listed in `samples`*: `trainEmbedding(i)`
 * returns the embedding of train row i (only rows in some experiment's sample are asked for).
 */
export function classificationMetrics(
  trainLabels: readonly string[],
  trainEmbedding: (row: number) => Float32Array,
  testX: readonly Float32Array[],
  testY: readonly string[],
  options: ClassificationOptions = {},
): ClassificationResult {
  const nExperiments = options.nExperiments ?? 10;
  const samplesPerLabel = options.samplesPerLabel ?? 8;
  const seed = options.seed ?? 42;
  const method = options.method ?? 'logReg';
  if (testX.length !== testY.length) throw new Error(`classification: ${testY.length} test labels for ${testX.length} test embeddings`);
  if (testX.length === 0) throw new Error('classification: the evaluation split is empty');
  if (trainLabels.length === 0) throw new Error('classification: the train split is empty');
  const samples = experimentSamples(trainLabels, { nExperiments, samplesPerLabel, seed });
  const per: Record<string, number>[] = [];
  for (const rows of samples) {
    const X = rows.map((r) => trainEmbedding(r));
    const y = rows.map((r) => trainLabels[r]!);
    if (method === 'logReg') {
      const model = fitLogisticRegression(X, y, { maxIter: options.maxIter ?? 100 });
      per.push(classificationScores(testY, predictLogisticRegression(model, testX)));
    } else {
      const k = options.k ?? 3;
      const cos = classificationScores(testY, predictKnn(X, y, testX, k, 'cosine'));
      const euc = classificationScores(testY, predictKnn(X, y, testX, k, 'euclidean'));
      per.push({
        accuracy_cosine: cos.accuracy,
        f1_cosine: cos.f1,
        f1_weighted_cosine: cos.f1_weighted,
        accuracy_euclidean: euc.accuracy,
        f1_euclidean: euc.f1,
        f1_weighted_euclidean: euc.f1_weighted,
        accuracy: Math.max(cos.accuracy, euc.accuracy),
        f1: Math.max(cos.f1, euc.f1),
        f1_weighted: Math.max(cos.f1_weighted, euc.f1_weighted),
      });
    }
  }
  const avg: Record<string, number> = {};
  for (const key of Object.keys(per[0]!)) avg[key] = per.reduce((s, p) => s + p[key]!, 0) / per.length;
  return { ...avg, accuracy: avg.accuracy!, f1: avg.f1!, f1_weighted: avg.f1_weighted!, main_score: avg.accuracy!, scores_per_experiment: per };
}
