// Losses, each a differentiable function of tfjs tensors returning a scalar (mean over the batch
// unless stated). Semantics follow the PyTorch code the methods come from; tests pin them to
// PyTorch reference values (tools/fixtures/make_train_refs.py).
import * as tf from '@tensorflow/tfjs-core';

/** Integer labels: a tensor or a plain array. */
export type Labels = tf.Tensor | Int32Array | readonly number[];

/** Identity in the forward pass, zero gradient in the backward pass (torch's .detach()). */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad<tf.Tensor>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** x / max(‖x‖₂, eps) along the last axis (torch.nn.functional.normalize). */
export function l2Normalize(x: tf.Tensor, eps = 1e-12): tf.Tensor {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.sum(tf.square(x), -1, true));
    return tf.div(x, tf.maximum(norm, tf.scalar(eps)));
  });
}

/** Cosine similarity matrix [n, m] between rows of a [n, d] and b [m, d]. */
export function cosineSimilarity(a: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.matMul<tf.Tensor2D>(l2Normalize(a), l2Normalize(b), false, true));
}

function labelsTensor(labels: Labels): tf.Tensor1D {
  if (labels instanceof tf.Tensor) return tf.cast<tf.Tensor1D>(tf.reshape(labels, [-1]), 'int32');
  return tf.tensor1d(labels instanceof Int32Array ? labels : Int32Array.from(labels), 'int32');
}

export interface CrossEntropyOptions {
  /** labels equal to this are ignored (default −100, torch's and HF's) */
  ignoreIndex?: number;
  /** 'mean' over non-ignored rows (default) or 'sum' */
  reduction?: 'mean' | 'sum';
}

/**
 * Cross-entropy of logits [N, C] (any leading shape, classes last) against integer labels, as
 * torch.nn.functional.cross_entropy: mean over the rows whose label is not ignoreIndex. Like torch,
 * the mean is NaN when every label is ignored.
 */
export function crossEntropyLoss(logits: tf.Tensor, labels: Labels, options: CrossEntropyOptions = {}): tf.Scalar {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const reduction = options.reduction ?? 'mean';
  return tf.tidy(() => {
    const c = logits.shape[logits.rank - 1]!;
    const flat = tf.reshape(logits, [-1, c]);
    const n = flat.shape[0];
    const y = labelsTensor(labels);
    if (y.size !== n) throw new Error(`crossEntropyLoss: ${y.size} labels for ${n} rows of logits`);
    const valid = tf.notEqual(y, tf.scalar(ignoreIndex, 'int32'));
    const safe = tf.where(valid, y, tf.zerosLike(y));
    const logp = tf.logSoftmax(flat);
    // picks logp[i, y_i] through a flat gather (no [N, C] one-hot)
    const flatIdx = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(c, 'int32')), safe);
    const picked = tf.gather(tf.reshape(logp, [-1]), flatIdx);
    const w = tf.cast(valid, 'float32');
    const total = tf.neg(tf.sum(tf.mul(picked, w)));
    return (reduction === 'sum' ? total : tf.div(total, tf.sum(w))) as tf.Scalar;
  });
}

/**
 * Masked-language-model loss: cross-entropy over the positions whose label is not −100 (HF's
 * convention), logits [B, T, V], labels [B, T]. Only the labelled rows enter the softmax. With no
 * labelled position the loss is NaN, as in HF/torch. Labels given as a tensor are read synchronously
 * (the masked rows are selected on the CPU side).
 */
export function mlmLoss(logits: tf.Tensor, labels: Labels, ignoreIndex = -100): tf.Scalar {
  const v = logits.shape[logits.rank - 1]!;
  const ys = labels instanceof tf.Tensor ? Int32Array.from(labels.dataSync()) : Int32Array.from(labels);
  const rows: number[] = [];
  const kept: number[] = [];
  ys.forEach((y, i) => {
    if (y !== ignoreIndex) {
      rows.push(i);
      kept.push(y);
    }
  });
  if (ys.length * v !== logits.size) throw new Error(`mlmLoss: ${ys.length} labels for logits of shape [${logits.shape.join(', ')}]`);
  if (rows.length === 0) return tf.scalar(NaN);
  return tf.tidy(() => {
    const sel = tf.gather(tf.reshape(logits, [-1, v]), tf.tensor1d(rows, 'int32'));
    return crossEntropyLoss(sel, kept);
  });
}

export interface InfoNCEOptions {
  /** similarity scale (1 / temperature), default 20 */
  scale?: number;
}

/**
 * InfoNCE with in-batch negatives, as sentence-transformers' MultipleNegativesRankingLoss:
 * candidates = [all positives of the batch; all hard negatives of the batch], scores =
 * scale · cos(query_i, candidate_j), loss = mean_i cross-entropy(scores_i, target i).
 * query, positive: [B, d]; hardNegatives: [M, d] or a list of such (e.g. one [B, d] per column).
 */
export function infoNCELoss(
  query: tf.Tensor,
  positive: tf.Tensor,
  hardNegatives?: tf.Tensor | readonly tf.Tensor[],
  options: InfoNCEOptions = {},
): tf.Scalar {
  const scale = options.scale ?? 20;
  const b = query.shape[0];
  if (query.rank !== 2 || positive.rank !== 2) throw new Error('infoNCELoss: query and positive must be [B, d]');
  if (positive.shape[0] !== b || positive.shape[1] !== query.shape[1]) {
    throw new Error(`infoNCELoss: positive [${positive.shape.join(', ')}] does not match query [${query.shape.join(', ')}]`);
  }
  const negs = hardNegatives === undefined ? [] : hardNegatives instanceof tf.Tensor ? [hardNegatives] : [...hardNegatives];
  for (const n of negs) {
    if (n.rank !== 2 || n.shape[1] !== query.shape[1]) throw new Error(`infoNCELoss: hard negatives [${n.shape.join(', ')}] must be [M, ${query.shape[1]}]`);
  }
  return tf.tidy(() => {
    const candidates = negs.length === 0 ? positive : tf.concat([positive, ...negs], 0);
    const scores = tf.mul(cosineSimilarity(query, candidates), tf.scalar(scale));
    return crossEntropyLoss(scores, Int32Array.from({ length: b }, (_, i) => i));
  });
}

export interface KDOptions {
  /** softmax temperature T on both teacher and student (default 2) */
  temperature?: number;
  /** weight α of the distillation term (default 0.5) */
  alpha?: number;
  /** ignored label value for the CE term (default −100) */
  ignoreIndex?: number;
}

/**
 * Knowledge distillation (SMP's setting):
 * L = α · KL(p_teacher ‖ p_student) · T² + (1 − α) · CE(student, labels),
 * p = softmax(logits / T), KL summed over classes and averaged over rows (torch's
 * kl_div(..., reduction='batchmean')). The teacher gets no gradient. Logits [N, C].
 */
export function kdLoss(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, labels: Labels, options: KDOptions = {}): tf.Scalar {
  const t = options.temperature ?? 2;
  const alpha = options.alpha ?? 0.5;
  if (!(t > 0)) throw new Error(`kdLoss: temperature must be > 0 (got ${t})`);
  if (studentLogits.shape.join() !== teacherLogits.shape.join()) {
    throw new Error(`kdLoss: student [${studentLogits.shape.join(', ')}] and teacher [${teacherLogits.shape.join(', ')}] logits differ in shape`);
  }
  return tf.tidy(() => {
    const c = studentLogits.shape[studentLogits.rank - 1]!;
    const s = tf.reshape(studentLogits, [-1, c]);
    const te = stopGradient(tf.reshape(teacherLogits, [-1, c]));
    const n = s.shape[0];
    const invT = tf.scalar(1 / t);
    const logPs = tf.logSoftmax(tf.mul(s, invT));
    const logPt = tf.logSoftmax(tf.mul(te, invT));
    const kl = tf.div(tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs))), tf.scalar(n));
    const distil = tf.mul<tf.Scalar>(kl, tf.scalar(alpha * t * t));
    if (alpha === 1) return distil;
    const ce = crossEntropyLoss(s, labels, { ignoreIndex: options.ignoreIndex ?? -100 });
    return tf.add<tf.Scalar>(distil, tf.mul(ce, tf.scalar(1 - alpha)));
  });
}
