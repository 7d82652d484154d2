// Recovery after structural removal: the compacted model is trained directly (its structure is fixed by
// its shapes, so no masks are needed), with InfoNCE on domain triplets, distillation from the dense
// model's sentence embeddings on domain and general text, or both:
//   L = w_c · InfoNCE(domain batch) + w_d · mean_texts d(student(x), teacher(x))
//   d = 1 − cos (distill 'cosine') or mean squared difference per dimension (distill 'mse').
// Compaction keeps the hidden size, so student and teacher embeddings have the same width.
// Shape for the shared trainer (tensor-core train/trainer.ts, being built): everything model-specific is
// `lossOf(batch, view, step)` below; the loop around it (variables, AdamW with linear warm-up/decay,
// seeded batches, write-back) is the same as retrain.ts and moves onto the trainer unchanged.
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, linearWarmupSchedule, pool, type EncoderInputs, type SentenceEncoder, type WeightView } from '@prunekit/tensor-core';
import { disposeTripletInputs, tokenizeTriplets, tripletInfoNCE } from './loss.js';
import { tripletBatches } from './gradstats.js';
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
  const opt = new AdamW(vars, { lr: options.lr ?? 2e-5, weightDecay: options.weightDecay ?? 0.01, schedule: linearWarmupSchedule(options.warmupSteps ?? Math.round(steps * 0.1), steps) });
  const batchesOf = (data: readonly Triplet[], label: string, epoch: number): Triplet[][] => tripletBatches(data, batchSize, `${seed}:${label}:${epoch}`);
  const losses: number[] = [];
  try {
    const cursor = { domain: { epoch: 0, i: 0, batches: batchesOf(domain, 'd', 0) }, general: options.general && options.general.length > 0 ? { epoch: 0, i: 0, batches: batchesOf(options.general, 'g', 0) } : null };
    const next = (c: { epoch: number; i: number; batches: Triplet[][] }, data: readonly Triplet[], label: string): Triplet[] => {
      if (c.i >= c.batches.length) {
        c.epoch += 1;
        c.i = 0;
        c.batches = batchesOf(data, label, c.epoch);
      }
      return c.batches[c.i++]!;
    };
    for (let step = 0; step < steps; step++) {
      const batch = next(cursor.domain, domain, 'd');
      const inputs = await tokenizeTriplets(student.tokenizer, batch, student.maxLength);
      const distillInputs: EncoderInputs[] = [];
      const targets: tf.Tensor2D[] = [];
      try {
        if (distill) {
          distillInputs.push(inputs.query, inputs.positive);
          if (cursor.general) {
            const g = await tokenizeTriplets(student.tokenizer, next(cursor.general, options.general!, 'g'), student.maxLength);
            if (g.negative) tf.dispose(Object.values(g.negative));
            distillInputs.push(g.query, g.positive);
          }
          for (const x of distillInputs) targets.push(tf.tidy(() => embed(options.teacher!, x)));
        }
        const dropoutSeed = (options.dropout ?? true) ? seed * 100_003 + step : undefined;
        const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
          let loss: tf.Scalar = tf.scalar(0);
          if (wc > 0) loss = tf.add(loss, tf.mul(wc, tripletInfoNCE(model, student.pooling.mode, inputs, view, 20, dropoutSeed)));
          if (wd > 0) {
            const parts = distillInputs.map((x, i) => distillDistance(embed(student, x, view, dropoutSeed === undefined ? undefined : dropoutSeed * 7 + i), targets[i]!, distill!));
            loss = tf.add(loss, tf.mul(wd, tf.div(tf.addN(parts), parts.length)));
          }
          return loss;
        }), [...vars.values()]);
        const named: tf.NamedTensorMap = {};
        for (const [name, v] of vars) if (grads[v.name]) named[name] = grads[v.name]!;
        opt.step(named);
        const loss = value.dataSync()[0]!;
        losses.push(loss);
        tf.dispose([value, ...Object.values(grads)]);
        options.onStep?.(step + 1, steps, loss);
      } finally {
        tf.dispose(targets);
        // the general batch's tensors (domain ones go with disposeTripletInputs)
        for (const x of distillInputs.slice(2)) tf.dispose(Object.values(x));
        disposeTripletInputs(inputs);
      }
    }
    for (const [name, v] of vars) {
      const old = model.params.get(name)!;
      model.params.set(name, tf.keep(v.clone()));
      old.dispose();
    }
    return losses;
  } finally {
    opt.dispose();
    for (const v of vars.values()) v.dispose();
  }
}
