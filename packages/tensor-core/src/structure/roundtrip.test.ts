// Compacted models saved by prunekit, loaded in PyTorch (tools/fixtures/reference_outputs.py from
// tools/.venv) where each form is meant to load:
//   dense-compatible: plain transformers shapes, and sentence-transformers builds its own pipeline from it;
//   prunekit form with whole heads removed (pruned_heads) and per-layer FFN widths: the reference tool
//   rebuilds transformers' modules to the checkpoint's shapes (transformers 5 itself no longer prunes heads).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import { layerNames } from '../model/names.js';
import { pool } from '../model/pooling.js';
import { MaskSet } from '../prune/maskset.js';
import { prunableParameters } from '../prune/policy.js';
import { fixturesDir, maxAbsDiff, readReference, runReferenceTool } from '../test-support/reference.js';
import { referencePython, sharedPath } from '../../../../tools/test-support/shared.js';
import { compact } from './compact.js';
import { saveCompacted } from './export.js';
import { planFromLists, planFromMasks } from './plan.js';

const python = referencePython();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-compact-rt-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

const runReference = (modelDir: string, inputs: Record<string, unknown>, args: string[]): ReturnType<typeof readReference> => runReferenceTool(python!, tmp, modelDir, inputs, args);

describe.skipIf(!python)('compacted models in PyTorch', () => {
  it('bert-mlm with whole heads and FFN neurons removed (pruned_heads + prunekit_layers): same logits', async () => {
    const src = path.join(fixturesDir, 'models', 'bert-mlm');
    const model = loadModel(src);
    const small = compact(model, planFromLists(model, { heads: { 0: [2], 1: [0, 3] }, neurons: { 0: [1, 2, 3, 40], 1: Array.from({ length: 20 }, (_, j) => 2 * j) } }));
    const out = path.join(tmp, 'bert-mlm-compact');
    await saveCompacted(small, out);
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg.pruned_heads).toEqual({ 0: [2], 1: [0, 3] });
    expect((cfg.prunekit_layers as { intermediate_size: number }[]).map((e) => e.intermediate_size)).toEqual([60, 44]);
    const ref = readReference(path.join(src, 'reference.safetensors'));
    const ids = ref.int2d('input_ids');
    const mask = ref.int2d('attention_mask');
    const types = ref.int2d('token_type_ids');
    const ours = tf.tidy(() => small.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: types }).logits!.dataSync());
    const theirs = runReference(out, { input_ids: ids.arraySync(), attention_mask: mask.arraySync(), token_type_ids: types.arraySync() }, ['--head', 'mlm']);
    expect(theirs.metadata.resized).toContain('layer 1: 2 heads');
    expect(maxAbsDiff(ours, theirs.float('logits'))).toBeLessThanOrEqual(1e-4);
    tf.dispose([ids, mask, types]);
    model.dispose();
    small.dispose();
  });

  const mini = sharedPath('models/mini-encoder');
  it.skipIf(!mini)('mini-encoder compacted from masks (partial heads, gathered inputs), dense-compatible: same embeddings in transformers and sentence-transformers', async () => {
    const model = loadModel(mini!);
    // masks: head 1 of every layer loses its value rows, every 4th key row and FFN-up row, every 8th residual column of the FFN up
    const masks = new MaskSet();
    for (const p of prunableParameters(model)) {
      const cols = p.shape[1];
      const n = layerNames(model.prefix, p.layer).linear;
      const D = model.config.layers[p.layer]!.headDim;
      masks.set(p.name, p.shape, Uint8Array.from({ length: p.numel }, (_, i) => {
        const r = Math.floor(i / cols);
        const c = i % cols;
        if (p.name === n.value.weight && r >= D && r < 2 * D) return 0;
        if (p.name === n.key.weight && r % 4 === 0) return 0;
        if (p.name === n.ffn_up.weight && (r % 4 === 1 || c % 8 === 0)) return 0;
        return 1;
      }));
    }
    const plan = planFromMasks(model, masks);
    expect(plan.report.droppedNonzero).toBe(0);
    const small = compact(model, plan);
    expect(small.config.layers[0]!.qkDims).toBeDefined();
    expect(small.config.layers[0]!.inputFeatures?.ffn_up).toBe(model.config.hiddenSize - model.config.hiddenSize / 8);
    const out = path.join(tmp, 'mini-dense-compatible');
    await saveCompacted(small, out, { form: 'dense-compatible', companionsFrom: mini! });
    const ref = readReference(path.join(fixturesDir, 'shared-refs', 'mini-encoder.safetensors'));
    const sentences = (JSON.parse(fs.readFileSync(path.join(fixturesDir, 'shared-refs', 'mini-encoder.inputs.json'), 'utf8')) as { sentences: string[] }).sentences;
    const ids = ref.int2d('input_ids');
    const mask = ref.int2d('attention_mask');
    const types = ref.int2d('token_type_ids');
    const ours = tf.tidy(() => pool(small.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: types }).lastHiddenState, mask, 'mean').dataSync());
    const { view, dispose } = masks.view(model);
    const masked = tf.tidy(() => pool(model.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: types }, { view }).lastHiddenState, mask, 'mean').dataSync());
    dispose();
    expect(maxAbsDiff(ours, masked)).toBeLessThanOrEqual(1e-4);
    const theirs = runReference(out, { input_ids: ids.arraySync(), attention_mask: mask.arraySync(), token_type_ids: types.arraySync(), sentences }, ['--head', 'base', '--sentence-transformers']);
    expect(theirs.metadata.resized).toBe('');
    expect(maxAbsDiff(ours, theirs.float('mean_pooled'))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(ours, theirs.float('st_embeddings'))).toBeLessThanOrEqual(1e-4);
    tf.dispose([ids, mask, types]);
    model.dispose();
    small.dispose();
  });
});
