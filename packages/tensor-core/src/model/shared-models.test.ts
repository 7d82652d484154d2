// Parity with PyTorch on the really pretrained models in ../shared/models (reference outputs computed
// once by tools/fixtures/make_model_fixtures.py and committed): hidden states, pooled and
// sentence-transformers embeddings, MLM logits at [MASK], and gradients, to 1e-4.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel } from './load.js';
import { pool, readPoolingConfig } from './pooling.js';
import { l2Normalize } from '../train/losses.js';
import { fixturesDir, maxAbsDiff, readReference, relDiff } from '../test-support/reference.js';
import { sharedPath, workspaceRoot } from '../../../../tools/test-support/shared.js';
import { toInt32 } from '../io/safetensors.js';

const refs = path.join(fixturesDir, 'shared-refs');

beforeAll(async () => {
  await initBackend();
});

// the bundled demo model of `npm start` is in the repo (apps/cli/demo), the others in ../shared/models
const bundled: Record<string, string> = { 'demo-encoder': path.join(workspaceRoot, 'apps', 'cli', 'demo', 'demo-encoder') };

describe('pretrained encoders in ../shared/models and the bundled demo model', () => {
  for (const name of ['tiny-encoder', 'mini-encoder', 'demo-encoder']) {
    const dir = bundled[name] ?? sharedPath(`models/${name}`);
    it.skipIf(!dir)(`${name}: hidden states, mean/cls pooling and sentence-transformers embeddings`, () => {
      const ref = readReference(path.join(refs, `${name}.safetensors`));
      const model = loadModel(dir!);
      const inputs = { inputIds: ref.int2d('input_ids'), attentionMask: ref.int2d('attention_mask'), tokenTypeIds: ref.int2d('token_type_ids') };
      const pooling = readPoolingConfig(dir!);
      expect(pooling).toEqual({ mode: 'mean', normalize: ref.metadata.st_normalized === 'true' });
      tf.tidy(() => {
        const out = model.forward(inputs);
        expect(maxAbsDiff(out.lastHiddenState.dataSync(), ref.float('last_hidden_state'))).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(pool(out.lastHiddenState, inputs.attentionMask, 'mean').dataSync(), ref.float('mean_pooled'))).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(pool(out.lastHiddenState, inputs.attentionMask, 'cls').dataSync(), ref.float('cls_pooled'))).toBeLessThanOrEqual(1e-4);
        let st = pool(out.lastHiddenState, inputs.attentionMask, pooling.mode);
        if (pooling.normalize) st = l2Normalize(st) as tf.Tensor2D;
        expect(maxAbsDiff(st.dataSync(), ref.float('st_embeddings'))).toBeLessThanOrEqual(1e-4);
      });
      if (ref.metadata.grad_params) {
        const probe = tf.tensor(ref.float('probe'), ref.shape('probe'));
        const full = ref.metadata.grad_params.split(',');
        const rowParams = (ref.metadata.grad_row_params ?? '').split(',').filter(Boolean);
        const vars = new Map([...full, ...rowParams].map((n) => [n, tf.variable(model.params.get(n)!, true, `s_${name}_${n}`)]));
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward(inputs, { view: (n) => vars.get(n) ?? model.denseView(n) });
          return tf.sum(tf.mul(out.lastHiddenState, probe)) as tf.Scalar;
        }, [...vars.values()]);
        expect(relDiff(value.dataSync(), ref.float('loss'))).toBeLessThanOrEqual(1e-4);
        for (const n of full) expect(relDiff(grads[`s_${name}_${n}`]!.dataSync(), ref.float(`grad.${n}`)), n).toBeLessThanOrEqual(1e-4);
        for (const n of rowParams) {
          // rows sampled every grad_row_stride (the reference stores a subset to stay small)
          const rows = toInt32(ref.tensors.get(`grad_row_index.${n}`)!);
          const g = grads[`s_${name}_${n}`]!;
          const picked = tf.gather(g, tf.tensor1d(rows, 'int32'));
          expect(relDiff(picked.dataSync(), ref.float(`grad_rows.${n}`)), n).toBeLessThanOrEqual(1e-4);
          picked.dispose();
        }
        tf.dispose([value, probe, ...Object.values(grads), ...vars.values()]);
      }
      tf.dispose(Object.values(inputs));
      model.dispose();
    });
  }

  const mlmDir = sharedPath('models/mini-mlm');
  it.skipIf(!mlmDir)('mini-mlm: MLM logits at [MASK] over the full vocabulary', () => {
    const ref = readReference(path.join(refs, 'mini-mlm.safetensors'));
    const model = loadModel(mlmDir!);
    expect(model.config.head).toBe('mlm');
    const inputs = { inputIds: ref.int2d('input_ids'), attentionMask: ref.int2d('attention_mask'), tokenTypeIds: ref.int2d('token_type_ids') };
    const positions = toInt32(ref.tensors.get('mask_positions')!);
    tf.tidy(() => {
      const out = model.forward(inputs);
      expect(maxAbsDiff(out.lastHiddenState.dataSync(), ref.float('last_hidden_state'))).toBeLessThanOrEqual(1e-4);
      const [batch, seq, vocab] = out.logits!.shape as [number, number, number];
      const flat = tf.reshape(out.logits!, [batch * seq, vocab]);
      const rows = tf.gather(flat, tf.tensor1d(Array.from(positions, (p, b) => b * seq + p), 'int32'));
      expect(maxAbsDiff(rows.dataSync(), ref.float('mlm_logits_at_mask'))).toBeLessThanOrEqual(1e-4);
    });
    tf.dispose(Object.values(inputs));
    model.dispose();
  });
});
