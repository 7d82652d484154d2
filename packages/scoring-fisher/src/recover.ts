// Recovery after structural removal: the compacted model is trained directly (its structure is fixed by
// its shapes, so no masks are needed), with InfoNCE on domain triplets, distillation from the dense
// model's sentence embeddings on domain and general text, or both:
//   L = w_c · InfoNCE(domain batch) + w_d · mean_texts d(student(x), teacher(x))
//   d = 1 − cos (distill 'cosine') or mean squared difference per dimension (distill 'mse').
// Compaction keeps the hidden size, so student and teacher embeddings have the same width.
// The loop (variables, AdamW with linear warm-up/decay, seeded full batches, dropout seeds per step) is
// tensor-core's shared trainer, as in retrain.ts; only the batch (the teacher's targets are computed
// outside the gradient tape when the batch is loaded) and the loss are recovery's own.
import * as tf from '@tensorflow/tfjs-core';
import { BatchOrder, createRng, linearWarmupSchedule, pool, train, type EncoderInputs, type SentenceEncoder, type WeightView } from '@prunekit/tensor-core';
import { disposeTripletInputs, tokenizeTriplets, tripletInfoNCE, type TripletInputs } from './loss.js';
import type { Triplet } from './triplets.js';

export type DistillLoss = 'cosine' | 'mse';
export const DISTILL_LOSSES: readonly DistillLoss[] = ['cosine', 'mse'];

export interface RecoverOptions {
  steps?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  warmupSteps?: number;
  seed?: number;
  /** dropout in the student during training (default true) */
  dropout?: boolean;
  /** distil from this (dense) teacher's embeddings */
  teacher?: SentenceEncoder;
  distill?: DistillLoss;
  /** general triplets whose queries and positives are also distilled (default: domain text only) */
  general?: readonly Triplet[];
  /** weight of InfoNCE on domain triplets: default 1 without distillation, 0 with it */
  contrastiveWeight?: number;
  /** weight of the distillation term (default 1) */
  distillWeight?: number;
  onStep?: (step: number, total: number, loss: number) => void;
}

function embed(encoder: SentenceEncoder, x: EncoderInputs, view?: WeightView, dropoutSeed?: number): tf.Tensor2D {
  const opts = { ...(view ? { view } : {}), ...(dropoutSeed === undefined ? {} : { training: true, dropoutSeed }) };
  return pool(encoder.model.forward(x, opts).lastHiddenState, x.attentionMask, encoder.pooling.mode);
}

/** One step's data: domain triplets, the texts distilled and the teacher's embeddings of them. */
interface RecoveryBatch {
  inputs: TripletInputs;
  /** domain query and positive (they belong to `inputs`), then the general batch's query and positive */
  distillInputs: EncoderInputs[];
  targets: tf.Tensor2D[];
}

function disposeRecoveryBatch(b: RecoveryBatch): void {
  tf.dispose(b.targets);
  // the general batch's tensors (the domain ones go with disposeTripletInputs)
  for (const x of b.distillInputs.slice(2)) tf.dispose(Object.values(x));
  disposeTripletInputs(b.inputs);
}

/** Distillation distance, averaged over rows: 1 − cos, or the mean squared difference per dimension. */
export function distillDistance(student: tf.Tensor2D, teacher: tf.Tensor2D, loss: DistillLoss): tf.Scalar {
  return tf.tidy(() => {
    if (loss === 'mse') return tf.mean(tf.square(tf.sub(student, teacher)));
    const norm = (t: tf.Tensor2D): tf.Tensor => tf.div(t, tf.maximum(tf.norm(t, 'euclidean', 1, true), 1e-12));
    return tf.sub(1, tf.mean(tf.sum(tf.mul(norm(student), norm(teacher)), 1)));
  });
}

/**
 * Trains every parameter of `student` in place (its params are replaced) and returns the loss per step.
 * Use on a compacted model for retraining with the structure fixed, or with a teacher for distillation.
 */
export async function recoverStructured(student: SentenceEncoder, domain: readonly Triplet[], options: RecoverOptions = {}): Promise<number[]> {
  const steps = options.steps ?? 100;
  const batchSize = options.batchSize ?? 16;
  const seed = options.seed ?? 0;
  const distill = options.distill;
  if (distill !== undefined && !DISTILL_LOSSES.includes(distill)) throw new Error(`distill must be ${DISTILL_LOSSES.join(' or ')} (got "${distill as string}")`);
  if (distill && !options.teacher) throw new Error('distillation needs the dense teacher model');
  if (domain.length === 0) throw new Error('recovery needs domain triplets');
  const wc = options.contrastiveWeight ?? (distill ? 0 : 1);
  const wd = distill ? (options.distillWeight ?? 1) : 0;
  if (!(wc >= 0 && wd >= 0) || wc + wd === 0) throw new Error(`recovery needs a positive contrastive or distillation weight (got contrastive ${wc}, distillation ${wd})`);
  if (options.teacher && options.teacher.model.config.hiddenSize !== student.model.config.hiddenSize) {
    throw new Error(`teacher hidden size ${options.teacher.model.config.hiddenSize} differs from the student's ${student.model.config.hiddenSize}`);
  }
  const model = student.model;
  const vars = new Map<string, tf.Variable>();
  for (const [name, t] of model.params) vars.set(name, tf.variable(t, true));
  const view: WeightView = (name) => vars.get(name) ?? model.denseView(name);
  // full batches of a seeded permutation per epoch; the domain and general streams are independent
  const orderOf = (data: readonly Triplet[], label: string): BatchOrder => new BatchOrder({ size: data.length, batchSize, epochRng: (e) => createRng(`${seed}:${label}:${e}`).fork('gradstats-batches') });
  const generalOrder = distill && options.general && options.general.length > 0 ? orderOf(options.general, 'g') : null;
  const losses: number[] = [];
  try {
    await train<RecoveryBatch>({
      groups: [{ name: 'weights', variables: vars, lr: options.lr ?? 2e-5, weightDecay: options.weightDecay ?? 0.01, schedule: linearWarmupSchedule(options.warmupSteps ?? Math.round(steps * 0.1), steps) }],
      steps,
      order: orderOf(domain, 'd'),
      loadBatch: async (rows, { step }) => {
        const inputs = await tokenizeTriplets(student.tokenizer, Array.from(rows, (i) => domain[i]!), student.maxLength);
        const batch: RecoveryBatch = { inputs, distillInputs: [], targets: [] };
        try {
          if (distill) {
            batch.distillInputs.push(inputs.query, inputs.positive);
            if (generalOrder) {
              const g = await tokenizeTriplets(student.tokenizer, Array.from(generalOrder.indices(step), (i) => options.general![i]!), student.maxLength);
              if (g.negative) tf.dispose(Object.values(g.negative));
              batch.distillInputs.push(g.query, g.positive);
            }
            for (const x of batch.distillInputs) batch.targets.push(tf.tidy(() => embed(options.teacher!, x)));
          }
          return batch;
        } catch (e) {
          disposeRecoveryBatch(batch);
          throw e;
        }
      },
      disposeBatch: disposeRecoveryBatch,
      // dropout seeds differ per step so each step sees fresh masks, reproducibly
      loss: (b, { step }) => {
        const dropoutSeed = (options.dropout ?? true) ? seed * 100_003 + step : undefined;
        let loss: tf.Scalar = tf.scalar(0);
        if (wc > 0) loss = tf.add(loss, tf.mul(wc, tripletInfoNCE(model, student.pooling.mode, b.inputs, view, 20, dropoutSeed)));
        if (wd > 0) {
          const parts = b.distillInputs.map((x, i) => distillDistance(embed(student, x, view, dropoutSeed === undefined ? undefined : dropoutSeed * 7 + i), b.targets[i]!, distill!));
          loss = tf.add(loss, tf.mul(wd, tf.div(tf.addN(parts), parts.length)));
        }
        return loss;
      },
      onStep: (l) => {
        losses.push(l.loss);
        options.onStep?.(l.step, steps, l.loss);
      },
    });
    for (const [name, v] of vars) {
      const old = model.params.get(name)!;
      model.params.set(name, tf.keep(v.clone()));
      old.dispose();
    }
    return losses;
  } finally {
    for (const v of vars.values()) v.dispose();
  }
}
