import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { loadModel, saveModel } from './load.js';
import { fixturesDir, maxAbsDiff, readReference } from '../test-support/reference.js';
import { MaskSet } from '../prune/maskset.js';
import { prunableParameters, MLP_ONLY } from '../prune/policy.js';

const bertBase = path.join(fixturesDir, 'models', 'bert-base');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-load-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

function copyFixture(name: string): string {
  const dst = path.join(tmp, `${name}-${Math.random().toString(36).slice(2)}`);
  fs.cpSync(bertBase, dst, { recursive: true });
  return dst;
}

describe('loading model folders', () => {
  it('loads sharded checkpoints through model.safetensors.index.json', () => {
    const dir = copyFixture('sharded');
    const { tensors } = readSafetensors(path.join(dir, 'model.safetensors'));
    const names = [...tensors.keys()].sort();
    const half = Math.floor(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const weightMap: Record<string, string> = {};
    shards.forEach((part, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(path.join(dir, file), new Map(part.map((n) => [n, tensors.get(n)!])));
      for (const n of part) weightMap[n] = file;
    });
    fs.rmSync(path.join(dir, 'model.safetensors'));
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const a = loadModel(bertBase);
    const b = loadModel(dir);
    expect([...b.params.keys()].sort()).toEqual([...a.params.keys()].sort());
    for (const [n, t] of a.params) expect(maxAbsDiff(t.dataSync(), b.params.get(n)!.dataSync())).toBe(0);
    a.dispose();
    b.dispose();
  });

  it('refuses a folder with only pytorch_model.bin and says how to convert', () => {
    const dir = copyFixture('bin');
    fs.renameSync(path.join(dir, 'model.safetensors'), path.join(dir, 'pytorch_model.bin'));
    expect(() => loadModel(dir)).toThrow(/pytorch_model\.bin: prunekit reads only safetensors \(it never unpickles\)\. Convert once in Python/);
  });

  it('names a shard the index points to that is missing', () => {
    const dir = copyFixture('missing-shard');
    fs.rmSync(path.join(dir, 'model.safetensors'));
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors' } }));
    expect(() => loadModel(dir)).toThrow(/names shard "model-00001-of-00002\.safetensors", which is missing/);
  });

  it('names a tensor whose shape disagrees with config.json', () => {
    const dir = copyFixture('shape');
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 48 }));
    expect(() => loadModel(dir)).toThrow(/tensor "encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[64, 32\]; config\.json implies \[48, 32\]/);
  });

  it('names a missing tensor', () => {
    const dir = copyFixture('missing');
    const { tensors } = readSafetensors(path.join(dir, 'model.safetensors'));
    tensors.delete('encoder.layer.1.output.LayerNorm.bias');
    writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    expect(() => loadModel(dir)).toThrow(/missing tensor "encoder\.layer\.1\.output\.LayerNorm\.bias"/);
  });

  it('says when the folder has no weights at all', () => {
    const dir = copyFixture('empty');
    fs.rmSync(path.join(dir, 'model.safetensors'));
    expect(() => loadModel(dir)).toThrow(/no weights: expected model\.safetensors or model\.safetensors\.index\.json/);
  });
});

describe('masks and saving', () => {
  it('a masked model saved and reloaded gives the masked forward exactly; masks round-trip with stats', async () => {
    const model = loadModel(bertBase);
    const params = prunableParameters(model, MLP_ONLY);
    expect(params.map((p) => p.kind)).toEqual(['ffn_up', 'ffn_down', 'ffn_up', 'ffn_down']);
    const masks = new MaskSet();
    let seed = 7;
    for (const p of params) {
      const data = new Uint8Array(p.numel);
      for (let i = 0; i < data.length; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        data[i] = seed % 4 === 0 ? 0 : 1;
      }
      masks.set(p.name, p.shape, data);
    }
    const stats = masks.stats();
    const zeros = [...masks.masks.values()].reduce((a, m) => a + m.data.filter((v) => v === 0).length, 0);
    expect(stats.numel).toBe(params.reduce((a, p) => a + p.numel, 0));
    expect(stats.sparsity).toBeCloseTo(zeros / stats.numel, 12);

    const maskFile = path.join(tmp, 'masks.safetensors');
    masks.save(maskFile, { method: 'test', targetSparsity: 0.25 });
    const { masks: loaded, manifest } = MaskSet.load(maskFile);
    expect(manifest?.method).toBe('test');
    expect(manifest?.stats?.sparsity).toBeCloseTo(stats.sparsity, 12);
    for (const [n, m] of masks.masks) expect(loaded.masks.get(n)!.data).toEqual(m.data);

    const ref = readReference(path.join(bertBase, 'reference.safetensors'));
    const inputs = { inputIds: ref.int2d('input_ids'), attentionMask: ref.int2d('attention_mask'), tokenTypeIds: ref.int2d('token_type_ids') };
    const { view, dispose } = loaded.view(model);
    const maskedOut = tf.tidy(() => model.forward(inputs, { view }).lastHiddenState.dataSync());
    const denseOut = tf.tidy(() => model.forward(inputs).lastHiddenState.dataSync());
    expect(maxAbsDiff(maskedOut, denseOut)).toBeGreaterThan(1e-3); // the masks do something

    const outDir = path.join(tmp, 'saved');
    await saveModel(model, outDir, { override: (n, t) => (loaded.masks.has(n) ? view(n) : t), metadata: { pruned_by: 'test' } });
    dispose();
    const reloaded = loadModel(outDir);
    const reOut = tf.tidy(() => reloaded.forward(inputs).lastHiddenState.dataSync());
    expect(maxAbsDiff(reOut, maskedOut)).toBeLessThanOrEqual(1e-6);
    // pruned weights are exactly zero in the saved file
    const w = reloaded.params.get(params[0]!.name)!.dataSync();
    const m = loaded.masks.get(params[0]!.name)!.data;
    expect(m.every((keep, i) => keep === 1 || w[i] === 0)).toBe(true);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
    reloaded.dispose();
    model.dispose();
    tf.dispose(Object.values(inputs));
  });
});
