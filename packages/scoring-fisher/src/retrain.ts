// Retraining after one-shot pruning: N steps (default 100) of InfoNCE on domain triplets with the masks
// held fixed. The forward reads W ⊙ M, so pruned weights get zero gradient; they start at zero and
// AdamW (zero gradient, zero moments, decoupled decay of zero) keeps them exactly zero.
import * as tf from '@tensorflow/tfjs-core';
import { BatchOrder, createRng, linearWarmupSchedule, train, type MaskSet, type SentenceEncoder } from '@prunekit/tensor-core';
import { disposeTripletInputs, tokenizeTriplets, tripletInfoNCE, type TripletInputs } from './loss.js';
import type { Triplet } from './triplets.js';

export interface RetrainOptions {
  steps?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  warmupSteps?: number;
  seed?: number;
  /** dropout during retraining (default true, as in training) */
  dropout?: boolean;
  onStep?: (step: number, total: number, loss: number) => void;
}

/** Retrains every encoder parameter in place (model.params are replaced); returns the loss per step. */
export async function retrainMasked(encoder: SentenceEncoder, masks: MaskSet, triplets: readonly Triplet[], options: RetrainOptions = {}): Promise<number[]> {
  const steps = options.steps ?? 100;
  const batchSize = options.batchSize ?? 16;
  const seed = options.seed ?? 0;
  const model = encoder.model;
  if (triplets.length === 0) throw new Error('retraining needs domain triplets');
  const maskTensors = masks.toTensors();
  const vars = new Map<string, tf.Variable>();
  for (const [name, t] of model.params) {
    const m = maskTensors.get(name);
    vars.set(name, tf.variable(m ? tf.tidy(() => tf.mul(t, m)) : t, true));
  }
  const view = (name: string): tf.Tensor => {
    const v = vars.get(name)!;
    const m = maskTensors.get(name);
    return m ? tf.mul(v, m) : v;
  };
  const losses: number[] = [];
  try {
    const dropout = options.dropout ?? true;
    await train<TripletInputs>({
      groups: [{ name: 'weights', variables: vars, lr: options.lr ?? 2e-5, weightDecay: options.weightDecay ?? 0.01, schedule: linearWarmupSchedule(options.warmupSteps ?? Math.round(steps * 0.1), steps) }],
      steps,
      // full batches of a seeded permutation per epoch (the stream tripletBatches uses for seed "<seed>:<epoch>")
      order: new BatchOrder({ size: triplets.length, batchSize, epochRng: (e) => createRng(`${seed}:${e}`).fork('gradstats-batches') }),
      loadBatch: (idx) => tokenizeTriplets(encoder.tokenizer, Array.from(idx, (i) => triplets[i]!), encoder.maxLength),
      disposeBatch: disposeTripletInputs,
      // dropout seeds differ per step so each step sees fresh masks, reproducibly
      loss: (inputs, { step }) => tripletInfoNCE(model, encoder.pooling.mode, inputs, view, 20, dropout ? seed * 100_003 + step : undefined),
      onStep: (l) => {
        losses.push(l.loss);
        options.onStep?.(l.step, steps, l.loss);
      },
    });
    // write the trained (masked) weights back into the model
    for (const name of vars.keys()) {
      const old = model.params.get(name)!;
      model.params.set(name, tf.tidy(() => view(name).clone()));
      old.dispose();
    }
    return losses;
  } finally {
    for (const v of vars.values()) v.dispose();
    for (const t of maskTensors.values()) t.dispose();
  }
}
