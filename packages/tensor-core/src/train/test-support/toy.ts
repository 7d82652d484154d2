// A toy training problem for the trainer's tests: softmax regression on seeded random data with two
// variable groups (weights: linear decay + weight decay; bias: constant lr), an L2 regulariser, a
// mask hook (the smallest |W| entry of each row is masked each step) and dropout seeded by the step.
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '../rng.js';
import { linearWarmupSchedule } from '../schedules.js';
import { crossEntropyLoss } from '../losses.js';
import { BatchOrder, type TrainerOptions, type TrainerState } from '../trainer.js';
import type { HostTensor } from '../../io/safetensors.js';

export const TOY = { rows: 40, features: 6, classes: 3 };

export interface Toy {
  vars: { w: tf.Variable; b: tf.Variable };
  options: (over?: Partial<TrainerOptions<Batch>>) => TrainerOptions<Batch>;
  /** masks seen before each step (the hook's record) */
  maskLog: number[];
  dispose: () => void;
}

export interface Batch {
  x: tf.Tensor2D;
  y: Int32Array;
}

export function toy(seed = 1, steps = 12, batchSize = 8): Toy {
  const rng = createRng(`toy:${seed}`);
  const x = rng.normalArray(TOY.rows * TOY.features);
  const y = Int32Array.from({ length: TOY.rows }, () => rng.int(TOY.classes));
  const w = tf.variable(rng.normalTensor([TOY.features, TOY.classes], 0, 0.1), true);
  const b = tf.variable(tf.zeros([TOY.classes]), true);
  let mask: tf.Tensor | null = null;
  const maskLog: number[] = [];
  const state: TrainerState = {
    save: () => ({ json: { maskLog }, tensors: new Map<string, HostTensor>([['probe', { dtype: 'F32', shape: [1], data: Float32Array.of(maskLog.length) }]]) }),
    load: (json, tensors) => {
      maskLog.push(...(json as { maskLog: number[] }).maskLog);
      if ((tensors.get('probe')!.data as Float32Array)[0] !== maskLog.length) throw new Error('state tensors did not round-trip');
    },
  };
  const options = (over: Partial<TrainerOptions<Batch>> = {}): TrainerOptions<Batch> => ({
    groups: [
      { name: 'weights', variables: new Map([['w', w]]), lr: 0.05, weightDecay: 0.1, noDecay: () => false, schedule: linearWarmupSchedule(2, steps) },
      { name: 'bias', variables: new Map([['b', b]]), lr: 0.02 },
    ],
    steps,
    order: new BatchOrder({ size: TOY.rows, batchSize, seed }),
    loadBatch: (rows) => ({
      x: tf.tensor2d(Float32Array.from({ length: rows.length * TOY.features }, (_, i) => x[rows[Math.floor(i / TOY.features)]! * TOY.features + (i % TOY.features)]!), [rows.length, TOY.features]),
      y: Int32Array.from(rows, (r) => y[r]!),
    }),
    disposeBatch: (bt) => { bt.x.dispose(); },
    beforeStep: () => {
      mask?.dispose();
      const a = tf.tidy(() => tf.abs(w));
      const data = a.dataSync();
      a.dispose();
      const m = new Float32Array(data.length).fill(1);
      for (let r = 0; r < TOY.features; r++) {
        let k = r * TOY.classes;
        for (let c = 1; c < TOY.classes; c++) if (data[r * TOY.classes + c]! < data[k]!) k = r * TOY.classes + c;
        m[k] = 0;
      }
      maskLog.push(m.indexOf(0));
      mask = tf.tensor2d(m, [TOY.features, TOY.classes]);
    },
    loss: (bt, ctx) => {
      const h = tf.dropout(bt.x, 0.1, undefined, 1000 * ctx.step + ctx.piece);
      return crossEntropyLoss(tf.add(tf.matMul(h, tf.mul(w, mask!)), b) as tf.Tensor2D, bt.y);
    },
    regularisers: [{ name: 'l2', term: () => tf.mul(tf.sum(tf.square(w)), tf.scalar(1e-2)) as tf.Scalar }],
    ...over,
    ...(over.checkpoint ? { checkpoint: { ...over.checkpoint, state } } : {}),
  });
  return {
    vars: { w, b }, options, maskLog,
    dispose: () => {
      mask?.dispose();
      w.dispose();
      b.dispose();
    },
  };
}

/** Exact bytes of the toy's variables. */
export function toyBytes(t: Toy): string {
  return [t.vars.w, t.vars.b].map((v) => Buffer.from((v.dataSync() as Float32Array).buffer).toString('hex')).join('|');
}
