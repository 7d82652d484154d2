// exportOnnx folders of mini-encoder (dense, masked, and compacted to about half its encoder
// parameters) load as is in onnxruntime-node (OnnxSentenceEncoder, openEncoder), in transformers.js
// (feature-extraction from a local folder, no network) and in Python onnxruntime, and give
// prunekit's own embeddings within 1e-4. The folder records the real per-layer sizes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel, saveModel } from '../model/load.js';
import { SentenceEncoder } from '../model/encoder.js';
import { layerNames } from '../model/names.js';
import { compact } from '../structure/compact.js';
import { saveCompacted } from '../structure/export.js';
import { planFromLists } from '../structure/plan.js';
import { maxAbsDiff } from '../test-support/reference.js';
import { OnnxSentenceEncoder } from '../runtime/onnx-encoder.js';
import { openEncoder } from '../runtime/open.js';
import { referencePython, sharedPath, workspaceRoot } from '../../../../tools/test-support/shared.js';
import { exportOnnx } from './onnx.js';

const mini = sharedPath('models/mini-encoder');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-onnx-folder-'));
const TOL = 1e-4;
const TEXTS = [
  'Revenue grew by twelve percent in the third quarter.',
  'The catalyst lowers the activation energy of the reaction.',
  'ok',
  'A much longer sentence that makes the batch pad the short ones, so the attention mask matters for every other row here.',
];

/** Folder -> prunekit's own embeddings (tfjs SentenceEncoder). */
async function prunekitEmbeddings(dir: string): Promise<Float32Array[]> {
  const enc = await SentenceEncoder.load(dir);
  try {
    return await enc.encode(TEXTS, { batchSize: 3 });
  } finally {
    enc.dispose();
  }
}

function maxDiffRows(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((x, i) => maxAbsDiff(x, b[i]!)));
}

const folders: Record<'dense' | 'masked' | 'compacted', { src: string; out: string }> = {
  dense: { src: '', out: path.join(tmp, 'dense-onnx') },
  masked: { src: path.join(tmp, 'masked'), out: path.join(tmp, 'masked-onnx') },
  compacted: { src: path.join(tmp, 'compacted'), out: path.join(tmp, 'compacted-onnx') },
};

beforeAll(async () => {
  await initBackend();
  if (!mini) return;
  folders.dense.src = mini;
  const model = loadModel(mini, { encoderOnly: true });
  const cfg = model.config;
  // masked: every other weight of each FFN-up matrix at zero (the form `prunekit prune` writes)
  await saveModel(model, folders.masked.src, {
    companionsFrom: mini,
    override: (name, t) => (/intermediate\.dense\.weight$/.test(name) ? tf.tidy(() => tf.mul(t, tf.tensor(Float32Array.from({ length: t.size }, (_, i) => i % 2), t.shape))) : t),
  });
  // compacted: half the heads and half the FFN neurons of every layer, differently per layer
  const heads: Record<number, number[]> = {};
  const neurons: Record<number, number[]> = {};
  for (let l = 0; l < cfg.numLayers; l++) {
    const n = cfg.layers[l]!.numHeads;
    heads[l] = Array.from({ length: n / 2 }, (_, i) => (i * 2 + l) % n);
    const I = cfg.layers[l]!.intermediateSize;
    neurons[l] = Array.from({ length: I / 2 + l * 8 }, (_, i) => (i * 7 + l) % I).filter((v, i, a) => a.indexOf(v) === i);
  }
  const small = compact(model, planFromLists(model, { heads, neurons }));
  await saveCompacted(small, folders.compacted.src, { companionsFrom: mini });
  small.dispose();
  model.dispose();
  for (const f of Object.values(folders)) await exportOnnx(f.src, f.out);
}, 120_000);
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

describe.skipIf(!mini)('exported folders in onnxruntime-node', () => {
  for (const kind of ['dense', 'masked', 'compacted'] as const) {
    it(`${kind}: OnnxSentenceEncoder equals prunekit's embeddings`, async () => {
      const { src, out } = folders[kind];
      const want = await prunekitEmbeddings(src);
      const enc = await OnnxSentenceEncoder.load(out, { intraOpThreads: 1 });
      const got = await enc.encode(TEXTS, { batchSize: 3 });
      await enc.dispose();
      expect(maxDiffRows(got, want)).toBeLessThanOrEqual(TOL);
    });
  }

  it('the folder holds config, tokenizer, sentence-transformers files, manifest and real per-layer sizes', () => {
    const out = folders.compacted.out;
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'modules.json', '1_Pooling/config.json', 'onnx/model.onnx', 'prunekit/manifest.json']) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
    expect(fs.existsSync(path.join(out, 'model.safetensors'))).toBe(false);
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { prunekit_layers: { num_heads: number; intermediate_size: number }[]; prunekit_onnx: { parameters: number; pooling: string } };
    const src = loadModel(folders.compacted.src, { encoderOnly: true });
    expect(cfg.prunekit_layers.map((l) => l.num_heads)).toEqual(src.config.layers.map((l) => l.numHeads));
    expect(cfg.prunekit_layers.map((l) => l.intermediate_size)).toEqual(src.config.layers.map((l) => l.intermediateSize));
    expect(new Set(cfg.prunekit_layers.map((l) => l.intermediate_size)).size).toBeGreaterThan(1);
    // the graph holds exactly the encoder's parameters (no pooler)
    const pooler = [...src.params.keys()].filter((k) => k.startsWith('pooler.')).reduce((a, k) => a + src.params.get(k)!.size, 0);
    expect(cfg.prunekit_onnx.parameters).toBe(src.numParameters() - pooler);
    expect(cfg.prunekit_onnx.pooling).toBe('mean');
    src.dispose();
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'prunekit', 'manifest.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ format: 'prunekit-artifact', schemaVersion: 1, kind: 'onnx-export' });
    // about half the encoder layers' weights are gone: the file is well below dense
    const dense = fs.statSync(path.join(folders.dense.out, 'onnx', 'model.onnx')).size;
    expect(fs.statSync(path.join(out, 'onnx', 'model.onnx')).size).toBeLessThan(dense * 0.85);
  });

  it('openEncoder picks onnxruntime for an export folder and tfjs for a model folder', async () => {
    const onnxEnc = await openEncoder(folders.compacted.out, { batchSize: 2 });
    const tfjsEnc = await openEncoder(folders.compacted.src, { batchSize: 2 });
    expect(onnxEnc.runtime).toBe('onnxruntime');
    expect(tfjsEnc.runtime).toBe('tfjs');
    expect(maxDiffRows(await onnxEnc.encode(TEXTS), await tfjsEnc.encode(TEXTS))).toBeLessThanOrEqual(TOL);
    await onnxEnc.dispose();
    await tfjsEnc.dispose();
  });

  it('never writes over a folder it did not create, nor into its source', async () => {
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
    await expect(exportOnnx(folders.dense.src, foreign)).rejects.toThrow(/not an ONNX export written by prunekit/);
    expect(fs.readFileSync(path.join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
    await expect(exportOnnx(folders.masked.src, path.join(folders.masked.src, 'onnx-out'))).rejects.toThrow(/must not be the source folder or inside it/);
    // re-exporting over its own earlier export is allowed
    await exportOnnx(folders.dense.src, folders.dense.out);
  });

  it('external data (small threshold): the folder still loads and agrees', async () => {
    const out = path.join(tmp, 'external-onnx');
    const report = await exportOnnx(folders.compacted.src, out, { externalDataThreshold: 1024 });
    expect(report.externalDataFile).not.toBeNull();
    expect(fs.statSync(report.externalDataFile!).size).toBeGreaterThan(fs.statSync(report.modelFile).size);
    const enc = await OnnxSentenceEncoder.load(out);
    const got = await enc.encode(TEXTS);
    await enc.dispose();
    expect(maxDiffRows(got, await prunekitEmbeddings(folders.compacted.src))).toBeLessThanOrEqual(TOL);
  });
});

describe.skipIf(!mini)('exported folder in transformers.js (offline, local folder)', () => {
  it('feature-extraction with mean pooling equals prunekit (compacted and dense)', async () => {
    const { env, pipeline } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = tmp;
    for (const kind of ['compacted', 'dense'] as const) {
      const extractor = await pipeline('feature-extraction', path.basename(folders[kind].out), { dtype: 'fp32' });
      const got: Float32Array[] = [];
      for (const text of TEXTS) {
        const t = await extractor(text, { pooling: 'mean', normalize: false });
        got.push(t.data as Float32Array);
      }
      expect(maxDiffRows(got, await prunekitEmbeddings(folders[kind].src)), kind).toBeLessThanOrEqual(TOL);
      await extractor.dispose();
    }
  }, 60_000);
});

describe.skipIf(!mini)('exported folder in Python onnxruntime', () => {
  const python = referencePython();
  const hasOrt = python !== null && spawnSync(python, ['-c', 'import onnxruntime'], { encoding: 'utf8' }).status === 0;
  if (python !== null && !hasOrt) {
    const reason = `${python} has no onnxruntime (run \`bash tools/python/setup-venv.sh\`)`;
    if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
    console.warn(`skipping: ${reason}`);
  }
  it.skipIf(!hasOrt)('embeddings (one at a time and padded batch) equal prunekit', async () => {
    const textsFile = path.join(tmp, 'texts.json');
    fs.writeFileSync(textsFile, JSON.stringify(TEXTS));
    const outFile = path.join(tmp, 'py.json');
    const kinds = ['compacted', 'masked'] as const;
    const r = spawnSync(python!, [path.join(workspaceRoot, 'tools/python/onnx_embed.py'), ...kinds.flatMap((k) => ['--model', folders[k].out]), '--texts', textsFile, '--out', outFile], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const all = JSON.parse(fs.readFileSync(outFile, 'utf8')) as Record<string, { single: number[][]; batch: number[][]; inputs: string[]; outputs: string[] }>;
    for (const kind of kinds) {
      const py = all[folders[kind].out]!;
      expect(py.inputs).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
      expect(py.outputs).toEqual(['last_hidden_state', 'sentence_embedding']);
      const want = await prunekitEmbeddings(folders[kind].src);
      expect(maxDiffRows(py.single, want), `${kind} single`).toBeLessThanOrEqual(TOL);
      expect(maxDiffRows(py.batch, want), `${kind} batch`).toBeLessThanOrEqual(TOL);
    }
  }, 300_000); // importing transformers in Python dominates; minutes on a loaded 2-core machine
});

// keeps the layer-name helper honest for the masked folder: the zeros really are in the weights
describe.skipIf(!mini)('masked source', () => {
  it('has zeros in its FFN-up weights', () => {
    const m = loadModel(folders.masked.src, { encoderOnly: true });
    const w = m.params.get(layerNames(m.prefix, 0).linear.ffn_up.weight)!.dataSync();
    expect(Math.abs(w[0]!)).toBe(0);
    m.dispose();
  });
});
