// The ONNX graph against prunekit's own tfjs forward, run in onnxruntime-node: BERT, RoBERTa and
// XLM-R fixtures, dense and compacted (per-layer heads and FFN widths, partial heads, gathered
// residual features), every pooling mode, dynamic batch and sequence, and the external-data path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import onnxProto from 'onnx-proto';
import { initBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import type { EncoderModel } from '../model/model.js';
import { pool, type PoolingConfig } from '../model/pooling.js';
import { l2Normalize } from '../train/losses.js';
import { MaskSet } from '../prune/maskset.js';
import { prunableParameters } from '../prune/policy.js';
import { compact } from '../structure/compact.js';
import { planFromLists, planFromMasks } from '../structure/plan.js';
import { layerNames } from '../model/names.js';
import { fixturesDir, maxAbsDiff, readReference } from '../test-support/reference.js';
import { openOnnxSession, runOnnx } from '../runtime/onnx-encoder.js';
import { buildOnnxModel } from './onnx.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-onnx-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

interface Inputs { rows: number; seq: number; ids: Int32Array; mask: Int32Array; types: Int32Array }

function fixtureInputs(dir: string): Inputs {
  const ref = readReference(path.join(dir, 'reference.safetensors'));
  const [rows, seq] = ref.shape('input_ids') as [number, number];
  const get = (n: string): Int32Array => ref.int2d(n).dataSync() as Int32Array;
  return { rows, seq, ids: get('input_ids'), mask: get('attention_mask'), types: get('token_type_ids') };
}

/** prunekit's own outputs: last hidden state and the pooled (optionally normalised) embedding. */
function tfjsOutputs(model: EncoderModel, x: Inputs, pooling: PoolingConfig): { last: Float32Array; sentence: Float32Array } {
  return tf.tidy(() => {
    const attentionMask = tf.tensor2d(x.mask, [x.rows, x.seq], 'int32');
    const h = model.forward({ inputIds: tf.tensor2d(x.ids, [x.rows, x.seq], 'int32'), attentionMask, tokenTypeIds: tf.tensor2d(x.types, [x.rows, x.seq], 'int32') }).lastHiddenState;
    let s = pool(h, attentionMask, pooling.mode);
    if (pooling.normalize) s = l2Normalize(s) as tf.Tensor2D;
    return { last: h.dataSync() as Float32Array, sentence: s.dataSync() as Float32Array };
  });
}

async function onnxOutputs(model: EncoderModel, x: Inputs, pooling: PoolingConfig, name: string, threshold?: number): Promise<{ last: Float32Array; sentence: Float32Array; file: string }> {
  const { serialized } = buildOnnxModel(model, pooling, threshold !== undefined ? { externalDataThreshold: threshold } : {});
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'model.onnx');
  fs.writeFileSync(file, serialized.model);
  if (serialized.externalData) fs.writeFileSync(path.join(dir, serialized.externalData.name), Buffer.concat(serialized.externalData.chunks));
  const session = await openOnnxSession(file, { intraOpThreads: 1 });
  try {
    const out = await runOnnx(session, x.rows, x.seq, x.ids, x.mask, x.types);
    return { last: out.lastHiddenState, sentence: out.sentenceEmbedding, file };
  } finally {
    await session.release();
  }
}

/** deterministic uniform [0, 1) */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Masks that free whole heads, head dims, FFN neurons and residual input columns (all compaction paths). */
function structuredMasks(model: EncoderModel, seed: number): MaskSet {
  const rand = rng(seed);
  const masks = new MaskSet();
  for (const p of prunableParameters(model)) masks.set(p.name, p.shape, new Uint8Array(p.numel).fill(1));
  const zeroRow = (name: string, r: number): void => {
    const m = masks.masks.get(name)!;
    m.data.fill(0, r * m.shape[1]!, (r + 1) * m.shape[1]!);
  };
  const zeroCol = (name: string, c: number): void => {
    const m = masks.masks.get(name)!;
    for (let r = 0; r < m.shape[0]!; r++) m.data[r * m.shape[1]! + c] = 0;
  };
  const cfg = model.config;
  for (let l = 0; l < cfg.numLayers; l++) {
    const n = layerNames(model.prefix, l).linear;
    const D = cfg.layers[l]!.headDim;
    const dead = Math.floor(rand() * cfg.layers[l]!.numHeads);
    for (let d = 0; d < D; d++) zeroRow(n.value.weight, dead * D + d);
    for (let i = 0; i < cfg.hiddenSize; i++) {
      if (rand() < 0.15) zeroRow(n.key.weight, i);
      if (rand() < 0.2) zeroCol(n.query.weight, i);
      if (rand() < 0.2) zeroCol(n.ffn_up.weight, i);
    }
    for (let j = 0; j < cfg.layers[l]!.intermediateSize; j++) {
      if (rand() < 0.2 + 0.2 * l) {
        zeroRow(n.ffn_up.weight, j);
        zeroCol(n.ffn_down.weight, j);
      }
    }
  }
  return masks;
}

const MEAN_NORM: PoolingConfig = { mode: 'mean', normalize: true };
const TOL = 1e-4;

describe('ONNX graph in onnxruntime-node equals the tfjs forward', () => {
  for (const fixture of ['bert-base', 'roberta-base', 'xlm-roberta-base']) {
    const dir = path.join(fixturesDir, 'models', fixture);

    it(`${fixture}: dense`, async () => {
      const model = loadModel(dir, { encoderOnly: true });
      const x = fixtureInputs(dir);
      expect(Array.from(x.mask)).toContain(0); // padded rows exercise the mask
      const want = tfjsOutputs(model, x, MEAN_NORM);
      const got = await onnxOutputs(model, x, MEAN_NORM, `${fixture}-dense`);
      expect(maxAbsDiff(got.last, want.last)).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(got.sentence, want.sentence)).toBeLessThanOrEqual(TOL);
      model.dispose();
    });

    it(`${fixture}: compacted (per-layer heads and FFN, partial heads, gathered inputs)`, async () => {
      const model = loadModel(dir, { encoderOnly: true });
      const small = compact(model, planFromMasks(model, structuredMasks(model, 11)));
      const s = small.config.layers;
      expect(new Set(s.map((l) => l.intermediateSize)).size).toBeGreaterThan(1);
      expect(s.some((l) => l.qkDims !== undefined)).toBe(true);
      expect(s.some((l) => l.inputFeatures?.query !== undefined)).toBe(true);
      const x = fixtureInputs(dir);
      const want = tfjsOutputs(small, x, MEAN_NORM);
      const got = await onnxOutputs(small, x, MEAN_NORM, `${fixture}-compact`);
      expect(maxAbsDiff(got.last, want.last)).toBeLessThanOrEqual(TOL);
      expect(maxAbsDiff(got.sentence, want.sentence)).toBeLessThanOrEqual(TOL);
      model.dispose();
      small.dispose();
    });
  }

  it('whole heads and neurons removed (uniform heads per layer, different counts per layer); ONNX metadata records the sizes', async () => {
    const dir = path.join(fixturesDir, 'models', 'bert-base');
    const model = loadModel(dir, { encoderOnly: true });
    const heads = model.config.layers[0]!.numHeads;
    const small = compact(model, planFromLists(model, { heads: { 0: [0], 1: Array.from({ length: heads - 1 }, (_, h) => h + 1) }, neurons: { 0: [1, 2, 3], 1: [0] } }));
    expect(small.config.layers.map((l) => l.numHeads)).toEqual([heads - 1, 1]);
    const x = fixtureInputs(dir);
    const want = tfjsOutputs(small, x, MEAN_NORM);
    const got = await onnxOutputs(small, x, MEAN_NORM, 'bert-lists');
    expect(maxAbsDiff(got.last, want.last)).toBeLessThanOrEqual(TOL);
    expect(maxAbsDiff(got.sentence, want.sentence)).toBeLessThanOrEqual(TOL);
    const decoded = onnxProto.onnx.ModelProto.decode(fs.readFileSync(got.file));
    const meta = new Map(decoded.metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
    const layers = JSON.parse(meta.get('prunekit.layers') ?? 'null') as { num_heads: number; intermediate_size: number }[];
    expect(layers.map((l) => l.num_heads)).toEqual([heads - 1, 1]);
    expect(layers.map((l) => l.intermediate_size)).toEqual([model.config.intermediateSize - 3, model.config.intermediateSize - 1]);
    const graph = decoded.graph!;
    expect(graph.input!.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(graph.output!.map((o) => o.name)).toEqual(['last_hidden_state', 'sentence_embedding']);
    expect(graph.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam)).toEqual(['batch_size', 'sequence_length']);
    model.dispose();
    small.dispose();
  });

  it('every pooling mode, with and without normalisation', async () => {
    const dir = path.join(fixturesDir, 'models', 'roberta-base');
    const model = loadModel(dir, { encoderOnly: true });
    const x = fixtureInputs(dir);
    for (const mode of ['cls', 'mean', 'max', 'lasttoken'] as const) {
      for (const normalize of [false, true]) {
        const pooling = { mode, normalize };
        const want = tfjsOutputs(model, x, pooling);
        const got = await onnxOutputs(model, x, pooling, `pool-${mode}-${normalize}`);
        expect(maxAbsDiff(got.sentence, want.sentence), `${mode} normalize=${normalize}`).toBeLessThanOrEqual(TOL);
      }
    }
    model.dispose();
  });

  it('dynamic axes: one graph serves other batch sizes and lengths', async () => {
    const dir = path.join(fixturesDir, 'models', 'bert-base');
    const model = loadModel(dir, { encoderOnly: true });
    const x = fixtureInputs(dir);
    // first row alone, cut to its first 3 tokens
    const seq = 3;
    const one: Inputs = { rows: 1, seq, ids: x.ids.slice(0, seq), mask: new Int32Array(seq).fill(1), types: x.types.slice(0, seq) };
    const { serialized } = buildOnnxModel(model, MEAN_NORM);
    const file = path.join(tmp, 'dynamic.onnx');
    fs.writeFileSync(file, serialized.model);
    const session = await openOnnxSession(file);
    for (const input of [x, one]) {
      const got = await runOnnx(session, input.rows, input.seq, input.ids, input.mask, input.types);
      expect(maxAbsDiff(got.sentenceEmbedding, tfjsOutputs(model, input, MEAN_NORM).sentence)).toBeLessThanOrEqual(TOL);
    }
    await session.release();
    model.dispose();
  });

  it('external data: weights over the threshold go to a side file and the graph still runs', async () => {
    const dir = path.join(fixturesDir, 'models', 'xlm-roberta-base');
    const model = loadModel(dir, { encoderOnly: true });
    const x = fixtureInputs(dir);
    const inline = buildOnnxModel(model, MEAN_NORM).serialized;
    expect(inline.externalData).toBeUndefined();
    const got = await onnxOutputs(model, x, MEAN_NORM, 'external', 1000);
    const side = path.join(path.dirname(got.file), 'model.onnx_data');
    expect(fs.statSync(side).size).toBeGreaterThan(fs.statSync(got.file).size);
    expect(fs.statSync(got.file).size).toBeLessThan(inline.model.byteLength / 4);
    const want = tfjsOutputs(model, x, MEAN_NORM);
    expect(maxAbsDiff(got.last, want.last)).toBeLessThanOrEqual(TOL);
    expect(maxAbsDiff(got.sentence, want.sentence)).toBeLessThanOrEqual(TOL);
    model.dispose();
  });
});
