// tfjs tensors are freed explicitly; a leak in the forward would grow tf.memory() with every batch.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel } from './load.js';
import { pool } from './pooling.js';
import { fixturesDir, readReference } from '../test-support/reference.js';

beforeAll(async () => {
  await initBackend();
});

describe('memory', () => {
  it('stays flat over 200 batches of inference (with a masked view)', () => {
    const dir = path.join(fixturesDir, 'models', 'roberta-base');
    const model = loadModel(dir);
    const ref = readReference(path.join(dir, 'reference.safetensors'));
    const inputs = { inputIds: ref.int2d('input_ids'), attentionMask: ref.int2d('attention_mask') };
    const maskT = tf.onesLike(model.params.get('encoder.layer.0.intermediate.dense.weight')!);
    const view = (n: string): tf.Tensor => (n === 'encoder.layer.0.intermediate.dense.weight' ? tf.mul(model.denseView(n), maskT) : model.denseView(n));
    const run = (): void => {
      const e = tf.tidy(() => pool(model.forward(inputs, { view }).lastHiddenState, inputs.attentionMask, 'mean'));
      e.dataSync();
      e.dispose();
    };
    run();
    const before = tf.memory();
    for (let i = 0; i < 200; i++) run();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    tf.dispose([maskT, ...Object.values(inputs)]);
    model.dispose();
  });
});
