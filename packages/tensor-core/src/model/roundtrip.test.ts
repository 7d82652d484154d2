// Round trip: a model saved by prunekit (with masks applied) loads in PyTorch transformers and
// sentence-transformers and gives the same outputs as prunekit's forward. Runs the Python reference
// tool (tools/fixtures/reference_outputs.py) from tools/.venv.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel, saveModel } from './load.js';
import { pool } from './pooling.js';
import { fixturesDir, maxAbsDiff, readReference, runReferenceTool } from '../test-support/reference.js';
import { referencePython, sharedPath } from '../../../../tools/test-support/shared.js';
import { MaskSet } from '../prune/maskset.js';
import { prunableParameters } from '../prune/policy.js';
import type { EncoderModel } from './model.js';

const python = referencePython();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-rt-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

/** Masks that zero every third weight of each prunable matrix (deterministic). */
function everyThird(model: EncoderModel): MaskSet {
  const masks = new MaskSet();
  for (const p of prunableParameters(model)) masks.set(p.name, p.shape, Uint8Array.from({ length: p.numel }, (_, i) => (i % 3 === 0 ? 0 : 1)));
  return masks;
}

const runReference = (modelDir: string, inputs: Record<string, unknown>, args: string[]): ReturnType<typeof readReference> => runReferenceTool(python!, tmp, modelDir, inputs, args);

describe.skipIf(!python)('save -> PyTorch round trip', () => {
  for (const fixture of ['bert-mlm', 'roberta-cls']) {
    it(`${fixture} with masks applied: same outputs in transformers`, async () => {
      const src = path.join(fixturesDir, 'models', fixture);
      const model = loadModel(src);
      const masks = everyThird(model);
      const { view, dispose } = masks.view(model);
      const out = path.join(tmp, fixture);
      await saveModel(model, out, { override: (n, t) => (masks.masks.has(n) ? view(n) : t) });
      const ref = readReference(path.join(src, 'reference.safetensors'));
      const ids = ref.int2d('input_ids');
      const mask = ref.int2d('attention_mask');
      const types = ref.int2d('token_type_ids');
      const ours = tf.tidy(() => model.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: types }, { view }).logits!.dataSync());
      dispose();
      const theirs = runReference(out, { input_ids: ids.arraySync(), attention_mask: mask.arraySync(), token_type_ids: types.arraySync() }, ['--head', model.config.head]);
      expect(maxAbsDiff(ours, theirs.float('logits'))).toBeLessThanOrEqual(1e-4);
      tf.dispose([ids, mask, types]);
      model.dispose();
    });
  }

  const mini = sharedPath('models/mini-encoder');
  it.skipIf(!mini)('mini-encoder with masks applied, saved with its tokenizer and pooling: same embeddings in sentence-transformers', async () => {
    const model = loadModel(mini!);
    const masks = everyThird(model);
    const { view, dispose } = masks.view(model);
    const out = path.join(tmp, 'mini-encoder-masked');
    await saveModel(model, out, { companionsFrom: mini!, override: (n, t) => (masks.masks.has(n) ? view(n) : t) });
    for (const f of ['tokenizer.json', 'modules.json', '1_Pooling/config.json', 'sentence_bert_config.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    const ref = readReference(path.join(fixturesDir, 'shared-refs', 'mini-encoder.safetensors'));
    const sentences = (JSON.parse(fs.readFileSync(path.join(fixturesDir, 'shared-refs', 'mini-encoder.inputs.json'), 'utf8')) as { sentences: string[] }).sentences;
    const ids = ref.int2d('input_ids');
    const mask = ref.int2d('attention_mask');
    const types = ref.int2d('token_type_ids');
    const ours = tf.tidy(() => pool(model.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: types }, { view }).lastHiddenState, mask, 'mean').dataSync());
    dispose();
    const theirs = runReference(out, { input_ids: ids.arraySync(), attention_mask: mask.arraySync(), token_type_ids: types.arraySync(), sentences }, ['--head', 'base', '--sentence-transformers']);
    expect(maxAbsDiff(ours, theirs.float('mean_pooled'))).toBeLessThanOrEqual(1e-4);
    // sentence-transformers tokenises the sentences itself: same ids, so the same embeddings
    expect(maxAbsDiff(ours, theirs.float('st_embeddings'))).toBeLessThanOrEqual(1e-4);
    tf.dispose([ids, mask, types]);
    model.dispose();
  });
});
