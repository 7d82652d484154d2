// Parity with PyTorch transformers 5.18 on tiny random-weight models of every supported architecture
// and head (tools/fixtures/make_model_fixtures.py): outputs to 1e-4 absolute, gradients of a fixed
// loss to 1e-4 relative, with padded rows in the batch.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel } from './load.js';
import { pool } from './pooling.js';
import { fixturesDir, maxAbsDiff, readReference, relDiff } from '../test-support/reference.js';

const modelsDir = path.join(fixturesDir, 'models');
const fixtures = fs.readdirSync(modelsDir).sort();

beforeAll(async () => {
  await initBackend();
});

describe('forward parity with PyTorch', () => {
  it('covers every architecture and head', () => {
    expect(fixtures).toEqual(['bert-base', 'bert-cls', 'bert-mlm', 'roberta-base', 'roberta-cls', 'roberta-mlm', 'xlm-roberta-base', 'xlm-roberta-cls', 'xlm-roberta-mlm']);
  });

  for (const name of fixtures) {
    it(`${name}: outputs and gradients`, () => {
      const dir = path.join(modelsDir, name);
      const ref = readReference(path.join(dir, 'reference.safetensors'));
      const model = loadModel(dir);
      expect(model.config.head).toBe(ref.metadata.head);
      const inputs = { inputIds: ref.int2d('input_ids'), attentionMask: ref.int2d('attention_mask'), tokenTypeIds: ref.int2d('token_type_ids') };
      // padding really is in the batch
      expect(Array.from(inputs.attentionMask.dataSync()).some((v) => v === 0)).toBe(true);

      tf.tidy(() => {
        const out = model.forward(inputs);
        expect(maxAbsDiff(out.lastHiddenState.dataSync(), ref.float('last_hidden_state'))).toBeLessThanOrEqual(1e-4);
        if (ref.tensors.has('pooler_output')) expect(maxAbsDiff(out.poolerOutput!.dataSync(), ref.float('pooler_output'))).toBeLessThanOrEqual(1e-4);
        if (ref.tensors.has('mean_pooled')) {
          expect(maxAbsDiff(pool(out.lastHiddenState, inputs.attentionMask, 'mean').dataSync(), ref.float('mean_pooled'))).toBeLessThanOrEqual(1e-4);
          expect(maxAbsDiff(pool(out.lastHiddenState, inputs.attentionMask, 'cls').dataSync(), ref.float('cls_pooled'))).toBeLessThanOrEqual(1e-4);
        }
        if (ref.tensors.has('logits')) expect(maxAbsDiff(out.logits!.dataSync(), ref.float('logits'))).toBeLessThanOrEqual(1e-4);
      });

      // gradients of L = sum(main_output * probe) with respect to four weight matrices
      const gradNames = ref.metadata.grad_params!.split(',');
      const probe = tf.tensor(ref.float('probe'), ref.shape('probe'));
      const vars = new Map(gradNames.map((n) => [n, tf.variable(model.params.get(n)!, true, `g_${name}_${n}`)]));
      const view = (n: string): tf.Tensor => vars.get(n) ?? model.denseView(n);
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward(inputs, { view });
        const main = ref.metadata.main_output === 'logits' ? out.logits! : out.lastHiddenState;
        return tf.sum(tf.mul(main, probe)) as tf.Scalar;
      }, [...vars.values()]);
      expect(Math.abs(value.dataSync()[0]! - ref.float('loss')[0]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(ref.float('loss')[0]!)));
      for (const n of gradNames) {
        const g = grads[`g_${name}_${n}`]!;
        expect(relDiff(g.dataSync(), ref.float(`grad.${n}`)), n).toBeLessThanOrEqual(1e-4);
      }
      tf.dispose([value, probe, ...Object.values(grads), ...vars.values()]);
      tf.dispose(Object.values(inputs));
      model.dispose();
    });
  }
});
