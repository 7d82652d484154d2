// Retraining after one-shot pruning: N steps (default 100) of InfoNCE on domain triplets with the masks
// held fixed. The forward reads W ⊙ M, so pruned weights get zero gradient; they start at zero and
// AdamW (zero gradient, zero moments, decoupled decay of zero) keeps them exactly zero.
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, linearWarmupSchedule, type MaskSet, type SentenceEncoder } from '@prunekit/tensor-core';
import { disposeTripletInputs, tokenizeTriplets, tripletInfoNCE } from './loss.js';
import { tripletBatches } from './gradstats.js';
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
  const opt = new AdamW(vars, { lr: options.lr ?? 2e-5, weightDecay: options.weightDecay ?? 0.01, schedule: linearWarmupSchedule(options.warmupSteps ?? Math.round(steps * 0.1), steps) });
  const losses: number[] = [];
  try {
    let epoch = 0;
    let batches = tripletBatches(triplets, batchSize, `${seed}:0`);
    for (let step = 0; step < steps; step++) {
      const idx = step - epoch * batches.length;
      if (idx >= batches.length) {
        epoch += 1;
        batches = tripletBatches(triplets, batchSize, `${seed}:${epoch}`);
      }
      const inputs = await tokenizeTriplets(encoder.tokenizer, batches[step - epoch * batches.length]!, encoder.maxLength);
      try {
        const { value, grads } = tf.variableGrads(() => tf.tidy(() => {
          // dropout seeds differ per step so each step sees fresh masks, reproducibly
          const dropoutSeed = (options.dropout ?? true) ? seed * 100_003 + step : undefined;
          return tripletInfoNCE(model, encoder.pooling.mode, inputs, view, 20, dropoutSeed);
        }), [...vars.values()]);
        const named: tf.NamedTensorMap = {};
        for (const [name, v] of vars) if (grads[v.name]) named[name] = grads[v.name]!;
        opt.step(named);
        const loss = value.dataSync()[0]!;
        losses.push(loss);
        tf.dispose([value, ...Object.values(grads)]);
        options.onStep?.(step + 1, steps, loss);
      } finally {
        disposeTripletInputs(inputs);
      }
    }
    // write the trained (masked) weights back into the model
    for (const name of vars.keys()) {
      const old = model.params.get(name)!;
      model.params.set(name, tf.tidy(() => view(name).clone()));
      old.dispose();
    }
    return losses;
  } finally {
    opt.dispose();
    for (const v of vars.values()) v.dispose();
    for (const t of maskTensors.values()) t.dispose();
  }
}
