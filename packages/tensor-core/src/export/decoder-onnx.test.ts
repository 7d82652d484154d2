// ONNX export of decoders against prunekit's own tfjs forward (itself at 1e-4 of transformers, see
// model/decoder-parity.test.ts): Qwen3 (q/k norm, GQA, left padding), Llama (llama3 RoPE scaling,
// right padding), Mistral (sliding window); dense, masked (zeros in the weights) and compacted with
// per-layer sizes (a KV group and MLP neurons removed in one layer only). Outputs last_hidden_state and
// the last-token pooled embedding in onnxruntime-node; whole exported folders in onnxruntime-node
// (OnnxSentenceEncoder) and in Python onnxruntime with transformers' tokenizer.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import { EncoderModel } from '../model/model.js';
import { SentenceEncoder } from '../model/encoder.js';
import { pool, type PoolingConfig } from '../model/pooling.js';
import { l2Normalize } from '../train/losses.js';
import { layerNames } from '../model/names.js';
import { MaskSet } from '../prune/maskset.js';
import { prunableParameters, ATTENTION_AND_MLP } from '../prune/policy.js';
import { compact } from '../structure/compact.js';
import { planFromMasks } from '../structure/plan.js';
import { saveCompacted } from '../structure/export.js';
import { fixturesDir, maxAbsDiff, readReference } from '../test-support/reference.js';
import { referencePython, workspaceRoot } from '../../../../tools/test-support/shared.js';
import { OnnxSentenceEncoder, openOnnxSession, runOnnx } from '../runtime/onnx-encoder.js';
import { buildOnnxModel, exportOnnx } from './onnx.js';

const root = path.join(fixturesDir, 'decoders');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-decoder-onnx-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
const TOL = 1e-4;
const POOLING: PoolingConfig = { mode: 'lasttoken', normalize: true };

interface Inputs { rows: number; seq: number; ids: Int32Array; mask: Int32Array }

function fixtureInputs(dir: string, side: 'left' | 'right'): Inputs {
  const ref = readReference(path.join(dir, 'reference.safetensors'));
  const [rows, seq] = ref.shape(`${side}.input_ids`) as [number, number];
  return { rows, seq, ids: ref.int2d(`${side}.input_ids`).dataSync() as Int32Array, mask: ref.int2d(`${side}.attention_mask`).dataSync() as Int32Array };
}

/** Zeroes padded positions of [rows, seq, width] (what a padded position holds is not an output anyone reads). */
function realTokens(x: Float32Array, mask: Int32Array): Float32Array {
  const width = x.length / mask.length;
  return x.map((v, i) => (mask[Math.floor(i / width)] ? v : 0));
}

function tfjsOutputs(model: EncoderModel, x: Inputs): { last: Float32Array; sentence: Float32Array } {
  return tf.tidy(() => {
    const attentionMask = tf.tensor2d(x.mask, [x.rows, x.seq], 'int32');
    const h = model.forward({ inputIds: tf.tensor2d(x.ids, [x.rows, x.seq], 'int32'), attentionMask }).lastHiddenState;
    const s = l2Normalize(pool(h, attentionMask, 'lasttoken'));
    return { last: realTokens(h.dataSync() as Float32Array, x.mask), sentence: s.dataSync() as Float32Array };
  });
}

async function onnxOutputs(model: EncoderModel, xs: Inputs[], name: string): Promise<{ last: Float32Array; sentence: Float32Array; inputs: readonly string[] }[]> {
  const { serialized } = buildOnnxModel(model, POOLING);
  const file = path.join(tmp, `${name}.onnx`);
  fs.writeFileSync(file, serialized.model);
  const session = await openOnnxSession(file, { intraOpThreads: 1 });
  try {
    const out = [];
    for (const x of xs) {
      const r = await runOnnx(session, x.rows, x.seq, x.ids, x.mask, new Int32Array(x.ids.length));
      out.push({ last: realTokens(r.lastHiddenState, x.mask), sentence: r.sentenceEmbedding, inputs: session.inputNames });
    }
    return out;
  } finally {
    await session.release();
  }
}

async function expectSameAsTfjs(model: EncoderModel, dir: string, name: string): Promise<void> {
  const xs = [fixtureInputs(dir, 'right'), fixtureInputs(dir, 'left')];
  const onnx = await onnxOutputs(model, xs, name);
  for (let i = 0; i < xs.length; i++) {
    const want = tfjsOutputs(model, xs[i]!);
    const side = i === 0 ? 'right' : 'left';
    expect(onnx[i]!.inputs).toEqual(['input_ids', 'attention_mask']);
    expect(maxAbsDiff(onnx[i]!.last, want.last), `${name} ${side} last_hidden_state`).toBeLessThanOrEqual(TOL);
    expect(maxAbsDiff(onnx[i]!.sentence, want.sentence), `${name} ${side} sentence_embedding`).toBeLessThanOrEqual(TOL);
  }
}

/** All-ones masks of every linear with chosen rows/columns zeroed (layer, linear kind, axis, indices). */
function masksFor(model: EncoderModel, zero: [number, 'attn_output' | 'ffn_down', number, number[]][]): MaskSet {
  const masks = new MaskSet();
  for (const p of prunableParameters(model, ATTENTION_AND_MLP)) masks.set(p.name, p.shape, new Uint8Array(p.numel).fill(1));
  for (const [layer, kind, axis, indices] of zero) {
    const { shape, data } = masks.masks.get(layerNames(model.prefix, layer, 'decoder').linear[kind].weight)!;
    const [rows, cols] = shape as [number, number];
    for (const i of indices) {
      if (axis === 0) data.fill(0, i * cols, (i + 1) * cols);
      else for (let r = 0; r < rows; r++) data[r * cols + i] = 0;
    }
  }
  return masks;
}

describe('decoder ONNX graphs equal the tfjs forward (onnxruntime-node)', () => {
  for (const name of ['qwen3-embed', 'llama-embed', 'mistral-base', 'llama-cls']) {
    it(`${name}: dense, right and left padding`, async () => {
      const dir = path.join(root, name);
      const model = loadModel(dir, { encoderOnly: true });
      await expectSameAsTfjs(model, dir, `${name}-dense`);
      model.dispose();
    });
  }

  it('qwen3-embed and llama-embed: masked (half of every linear zeroed at random) and compacted with per-layer sizes', async () => {
    for (const name of ['qwen3-embed', 'llama-embed']) {
      const dir = path.join(root, name);
      const model = loadModel(dir, { encoderOnly: true });
      // masked: zeros in the weights, same shapes
      const masked = new Map<string, tf.Tensor>();
      let seed = 1;
      for (const p of prunableParameters(model, ATTENTION_AND_MLP)) {
        const keep = Float32Array.from({ length: p.numel }, () => ((seed = (seed * 16807) % 2147483647) % 2 === 0 ? 1 : 0));
        masked.set(p.name, tf.mul(model.params.get(p.name)!, tf.tensor(keep, p.shape)));
      }
      for (const [n, t] of model.params) if (!masked.has(n)) masked.set(n, t);
      const maskedModel = new EncoderModel(model.config, masked, model.prefix);
      await expectSameAsTfjs(maskedModel, dir, `${name}-masked`);
      // compacted: layer 0 loses KV group 1 (its query heads 2 and 3) and 10 MLP neurons; layer 1 keeps all heads
      const neurons = [0, 3, 5, 7, 11, 13, 17, 19, 23, 29];
      const headDim = model.config.decoder!.headDim;
      const oCols = [2, 3].flatMap((h) => Array.from({ length: headDim }, (_, i) => h * headDim + i));
      const small = compact(model, planFromMasks(model, masksFor(model, [[0, 'attn_output', 1, oCols], [0, 'ffn_down', 1, neurons]])));
      expect(small.config.layers.map((s) => [s.numHeads, s.numKvHeads, s.intermediateSize])).toEqual([[2, 1, 38], [4, 2, 48]]);
      await expectSameAsTfjs(small, dir, `${name}-compacted`);
      small.dispose();
      for (const p of prunableParameters(model, ATTENTION_AND_MLP)) masked.get(p.name)!.dispose();
      model.dispose();
    }
  });
});

describe('exported decoder folders', () => {
  const texts = ['The cat sat on the mat.', 'Hi.', 'A café in Zürich serves crème brûlée.', 'Pruning removes rows that contribute little to the output.'];
  const folders: Record<string, string> = {};

  it('export the folder; OnnxSentenceEncoder embeds as SentenceEncoder does (batched, both padding sides)', async () => {
    for (const name of ['qwen3-embed', 'llama-embed']) {
      const out = path.join(tmp, `${name}-export`);
      const report = await exportOnnx(path.join(root, name), out);
      expect(report.pooling).toEqual(POOLING);
      folders[name] = out;
      const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { model_type: string; prunekit_onnx: { outputs: string[] } };
      expect(config.prunekit_onnx.outputs).toEqual(['last_hidden_state', 'sentence_embedding']);
      const onnx = await OnnxSentenceEncoder.load(out);
      const tfjs = await SentenceEncoder.load(path.join(root, name));
      const a = await onnx.encode(texts, { batchSize: 4 });
      const b = await tfjs.encode(texts, { batchSize: 4 });
      for (let i = 0; i < texts.length; i++) expect(maxAbsDiff(a[i]!, b[i]!), `${name} text ${i}`).toBeLessThanOrEqual(TOL);
      await onnx.dispose();
      tfjs.dispose();
    }
  });

  const python = referencePython();
  const hasOrt = python !== null && spawnSync(python, ['-c', 'import onnxruntime'], { encoding: 'utf8' }).status === 0;
  if (python !== null && !hasOrt) {
    const reason = `${python} has no onnxruntime (run \`bash tools/python/setup-venv.sh\`)`;
    if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
    console.warn(`skipping: ${reason}`);
  }
  it.skipIf(!hasOrt)('Python onnxruntime with transformers\' tokenizer gives prunekit\'s embeddings (one at a time and padded batch)', async () => {
    expect(Object.keys(folders).sort()).toEqual(['llama-embed', 'qwen3-embed']);
    const textsFile = path.join(tmp, 'texts.json');
    fs.writeFileSync(textsFile, JSON.stringify(texts));
    const outFile = path.join(tmp, 'py.json');
    const r = spawnSync(python!, [path.join(workspaceRoot, 'tools/python/onnx_embed.py'), ...Object.values(folders).flatMap((f) => ['--model', f]), '--texts', textsFile, '--out', outFile], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const all = JSON.parse(fs.readFileSync(outFile, 'utf8')) as Record<string, { single: number[][]; batch: number[][]; inputs: string[]; outputs: string[] }>;
    for (const [name, out] of Object.entries(folders)) {
      const py = all[out]!;
      expect(py.inputs).toEqual(['input_ids', 'attention_mask']);
      expect(py.outputs).toEqual(['last_hidden_state', 'sentence_embedding']);
      const enc = await SentenceEncoder.load(path.join(root, name));
      const want = await enc.encode(texts, { batchSize: 1 });
      enc.dispose();
      for (let i = 0; i < texts.length; i++) {
        expect(maxAbsDiff(Float32Array.from(py.single[i]!), want[i]!), `${name} single ${i}`).toBeLessThanOrEqual(TOL);
        expect(maxAbsDiff(Float32Array.from(py.batch[i]!), want[i]!), `${name} batch ${i}`).toBeLessThanOrEqual(TOL);
      }
    }
  }, 300_000);
});

// transformers.js (@huggingface/transformers 4.3) runs these folders offline: for model_type llama / qwen3
// it builds LlamaModel / Qwen3Model (DecoderOnlyWithoutHead), whose forward feeds a session only the
// inputs it declares (our graph: input_ids, attention_mask; no position_ids or past_key_values, so no
// KV cache is allocated) and returns every graph output. sentence_embedding (pooling inside the graph) is
// right for any padding; the feature-extraction pipeline's pooling "last_token" takes the last position,
// which is the last real token only for one text or left padding (Qwen3), not for right-padded batches (Llama).
describe('decoder ONNX folders in transformers.js (offline, local folder)', () => {
  // short: the prompt alone is about 52 of the fixtures' 64 tokens (transformers.js cannot pad a batch whose
  // longest row exceeds model_max_length unless it truncates; truncated rows were not compared here)
  const texts = ['A cat sat.', 'Hi.', 'The cat sat.'];
  const local = path.join(tmp, 'transformers-js');
  const maxRows = (got: ArrayLike<number>, want: Float32Array[]): number => {
    const d = want[0]!.length;
    return Math.max(...want.map((w, i) => maxAbsDiff(Array.from({ length: d }, (_, j) => got[i * d + j]!), w)));
  };

  it('qwen3-embed and llama-embed, dense and compacted (per-layer sizes): AutoModel\'s sentence_embedding of a padded batch with the query prompt, and the pipeline one text at a time, equal prunekit (1e-4)', async () => {
    const { env, pipeline, AutoModel, AutoTokenizer } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = local;
    for (const name of ['qwen3-embed', 'llama-embed']) {
      const dir = path.join(root, name);
      // compacted: layer 0 loses KV group 1 and 10 MLP neurons (sizes no standard config states)
      const model = loadModel(dir, { encoderOnly: true });
      const headDim = model.config.decoder!.headDim;
      const oCols = [2, 3].flatMap((h) => Array.from({ length: headDim }, (_, i) => h * headDim + i));
      const small = compact(model, planFromMasks(model, masksFor(model, [[0, 'attn_output', 1, oCols], [0, 'ffn_down', 1, [0, 3, 5, 7, 11, 13, 17, 19, 23, 29]]])));
      const compactedDir = path.join(tmp, `${name}-tjs-compacted`);
      await saveCompacted(small, compactedDir, { companionsFrom: dir });
      [model, small].forEach((m) => { m.dispose(); });
      for (const [kind, src] of [['dense', dir], ['compacted', compactedDir]] as const) {
        const id = `${name}-${kind}`;
        await exportOnnx(src, path.join(local, id));
        const enc = await SentenceEncoder.load(src);
        const prompt = enc.promptFor({ promptName: 'query' });
        const want = await enc.encode(texts, { promptName: 'query' });
        const plain = await enc.encode(texts);
        enc.dispose();
        const tokenizer = await AutoTokenizer.from_pretrained(id);
        const tjsModel = await AutoModel.from_pretrained(id, { dtype: 'fp32' });
        // transformers.js applies no sentence-transformers prompt: the caller prefixes it
        const inputs = tokenizer(texts.map((t) => prompt + t), { padding: true });
        expect(inputs.input_ids.dims[1]).toBeLessThan(enc.maxLength);
        const out = (await tjsModel(inputs)) as Record<string, { data: Float32Array }>;
        expect(Object.keys(out).sort()).toEqual(['last_hidden_state', 'sentence_embedding']);
        expect(maxRows(out.sentence_embedding!.data, want), `${id} AutoModel`).toBeLessThanOrEqual(TOL);
        await tjsModel.dispose();
        const extractor = await pipeline('feature-extraction', id, { dtype: 'fp32' });
        const single: number[] = [];
        for (const t of texts) single.push(...((await extractor(t, { pooling: 'last_token', normalize: true })).data as Float32Array));
        expect(maxRows(single, plain), `${id} pipeline, one text at a time`).toBeLessThanOrEqual(TOL);
        const batch = (await extractor(texts, { pooling: 'last_token', normalize: true })).data as Float32Array;
        // the pipeline pools the last position: right for left padding (Qwen3's tokenizer), a pad token under right padding (this Llama's)
        if (name === 'qwen3-embed') expect(maxRows(batch, plain), `${id} pipeline batch`).toBeLessThanOrEqual(TOL);
        else expect(maxRows(batch, plain), `${id} pipeline batch (right padding)`).toBeGreaterThan(1e-2);
        await extractor.dispose();
      }
    }
  }, 120_000);
});
