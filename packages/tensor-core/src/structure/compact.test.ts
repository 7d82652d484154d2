// compact(model, plan) against the masked model it replaces: same outputs to 1e-4 on the tiny fixtures
// and on ../shared mini-encoder, for plans from masks (random and magnitude-learned), gates and explicit
// head/neuron lists; weights dropped on purpose are counted; bad plans fail naming the layer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import type { EncoderModel, WeightView } from '../model/model.js';
import { layerNames } from '../model/names.js';
import { MaskSet } from '../prune/maskset.js';
import { prunableParameters } from '../prune/policy.js';
import { fixturesDir, maxAbsDiff, readReference } from '../test-support/reference.js';
import { sharedPath } from '../../../../tools/test-support/shared.js';
import { compact, layerLinearParameters } from './compact.js';
import { saveCompacted } from './export.js';
import { planFromGates, planFromLists, planFromMasks, type CompactionPlan } from './plan.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-compact-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

/** deterministic uniform [0, 1) */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Inputs {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
}

function fixtureInputs(file: string): Inputs {
  const ref = readReference(file);
  return { inputIds: ref.int2d('input_ids'), attentionMask: ref.int2d('attention_mask'), tokenTypeIds: ref.int2d('token_type_ids') };
}

function outputs(model: EncoderModel, inputs: Inputs, view?: WeightView): Float32Array[] {
  return tf.tidy(() => {
    const out = model.forward(inputs, view ? { view } : {});
    const list = [out.lastHiddenState.dataSync() as Float32Array];
    if (out.logits) list.push(out.logits.dataSync() as Float32Array);
    if (out.poolerOutput) list.push(out.poolerOutput.dataSync() as Float32Array);
    return list;
  });
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((x, i) => maxAbsDiff(x, b[i]!)));
}

/** A keep-all mask for every prunable weight. */
function onesMasks(model: EncoderModel): MaskSet {
  const masks = new MaskSet();
  for (const p of prunableParameters(model)) masks.set(p.name, p.shape, new Uint8Array(p.numel).fill(1));
  return masks;
}

function zeroRow(masks: MaskSet, name: string, r: number): void {
  const m = masks.masks.get(name)!;
  const cols = m.shape[1]!;
  m.data.fill(0, r * cols, (r + 1) * cols);
}

function zeroCol(masks: MaskSet, name: string, c: number): void {
  const m = masks.masks.get(name)!;
  const [rows, cols] = m.shape as [number, number];
  for (let r = 0; r < rows; r++) m.data[r * cols + c] = 0;
}

/**
 * A random structured + unstructured mask: in every layer a random head loses all value rows, random
 * key rows, query rows, value rows, attention-output columns, FFN up rows, FFN down columns and residual
 * input columns are zeroed, and 30% of the remaining weights are zeroed at random.
 */
function randomMasks(model: EncoderModel, seed: number): { masks: MaskSet; removedHeads: number[] } {
  const rand = rng(seed);
  const masks = onesMasks(model);
  const removedHeads: number[] = [];
  const cfg = model.config;
  for (let l = 0; l < cfg.numLayers; l++) {
    const n = layerNames(model.prefix, l).linear;
    const D = cfg.layers[l]!.headDim;
    const heads = cfg.layers[l]!.numHeads;
    const dead = Math.floor(rand() * heads);
    removedHeads.push(dead);
    for (let d = 0; d < D; d++) zeroRow(masks, n.value.weight, dead * D + d);
    const H = cfg.hiddenSize;
    const I = cfg.layers[l]!.intermediateSize;
    for (let i = 0; i < H; i++) {
      if (rand() < 0.15) zeroRow(masks, n.key.weight, i);
      if (rand() < 0.1) zeroRow(masks, n.value.weight, i);
      if (rand() < 0.1) zeroCol(masks, n.attn_output.weight, i);
      if (rand() < 0.2) zeroCol(masks, n.query.weight, i);
      if (rand() < 0.2) zeroCol(masks, n.ffn_up.weight, i);
    }
    for (let j = 0; j < I; j++) {
      if (rand() < 0.2) zeroRow(masks, n.ffn_up.weight, j);
      if (rand() < 0.2) zeroCol(masks, n.ffn_down.weight, j);
    }
  }
  for (const { data } of masks.masks.values()) for (let i = 0; i < data.length; i++) if (rand() < 0.3) data[i] = 0;
  return { masks, removedHeads };
}

function checkAgainstMasked(model: EncoderModel, masks: MaskSet, plan: CompactionPlan, inputs: Inputs): EncoderModel {
  const { view, dispose } = masks.view(model);
  const want = outputs(model, inputs, view);
  dispose();
  const small = compact(model, plan);
  expect(maxDiff(outputs(small, inputs), want)).toBeLessThanOrEqual(1e-4);
  return small;
}

describe('compact() equals the masked model on the fixtures', () => {
  for (const fixture of ['bert-base', 'roberta-cls', 'xlm-roberta-mlm']) {
    it(`${fixture}: random structured masks`, async () => {
      const dir = path.join(fixturesDir, 'models', fixture);
      const model = loadModel(dir);
      const inputs = fixtureInputs(path.join(dir, 'reference.safetensors'));
      const { masks, removedHeads } = randomMasks(model, 7);
      const plan = planFromMasks(model, masks);
      expect(plan.report.droppedNonzero).toBe(0);
      removedHeads.forEach((h, l) => { expect(plan.report.perLayer[l]!.headsRemoved).toContain(h); });
      const small = checkAgainstMasked(model, masks, plan, inputs);
      expect(layerLinearParameters(small)).toBeLessThan(layerLinearParameters(model));
      // per-layer sizes: heads, dims and neurons the masks freed are gone
      small.config.layers.forEach((s, l) => {
        expect(s.numHeads).toBeLessThan(model.config.layers[l]!.numHeads);
        expect(s.intermediateSize).toBeLessThan(model.config.layers[l]!.intermediateSize);
        expect(s.inputFeatures?.query).toBeLessThan(model.config.hiddenSize);
      });
      // partial heads (fewer query/key or value dims than the head size) took the per-head path
      expect(small.config.layers.some((s) => s.qkDims !== undefined && s.vDims !== undefined)).toBe(true);
      // saved and reloaded in prunekit's form: same outputs
      const out = path.join(tmp, `${fixture}-prunekit`);
      await saveCompacted(small, out);
      const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(Array.isArray(cfg.prunekit_layers)).toBe(true);
      const back = loadModel(out);
      expect(maxDiff(outputs(back, inputs), outputs(small, inputs))).toBeLessThanOrEqual(1e-6);
      // dense-compatible: standard shapes, same outputs
      const outDense = path.join(tmp, `${fixture}-dense`);
      await saveCompacted(small, outDense, { form: 'dense-compatible' });
      const dcfg = JSON.parse(fs.readFileSync(path.join(outDense, 'config.json'), 'utf8')) as Record<string, unknown>;
      expect(dcfg.prunekit_layers).toBeUndefined();
      expect(dcfg.pruned_heads).toBeUndefined();
      const dense = loadModel(outDense);
      expect(dense.numParameters()).toBe(model.numParameters());
      expect(maxDiff(outputs(dense, inputs), outputs(small, inputs))).toBeLessThanOrEqual(1e-4);
      // compacting the compacted model again with no masks changes nothing
      const again = compact(small, planFromMasks(small));
      expect(layerLinearParameters(again)).toBe(layerLinearParameters(small));
      for (const m of [model, small, back, dense, again]) m.dispose();
      tf.dispose(Object.values(inputs));
    });
  }

  it('bert-base: a zero-padded (dense-compatible) model compacts back to the compacted size', async () => {
    const dir = path.join(fixturesDir, 'models', 'bert-base');
    const model = loadModel(dir);
    const inputs = fixtureInputs(path.join(dir, 'reference.safetensors'));
    const { masks } = randomMasks(model, 11);
    const small = compact(model, planFromMasks(model, masks));
    const out = path.join(tmp, 'padded');
    await saveCompacted(small, out, { form: 'dense-compatible' });
    const padded = loadModel(out);
    const recovered = compact(padded, planFromMasks(padded));
    expect(layerLinearParameters(recovered)).toBeLessThanOrEqual(layerLinearParameters(small));
    expect(maxDiff(outputs(recovered, inputs), outputs(small, inputs))).toBeLessThanOrEqual(1e-4);
    for (const m of [model, small, padded, recovered]) m.dispose();
    tf.dispose(Object.values(inputs));
  });

  it('bert-mlm: minKept drops rows with few weights on purpose and reports them', () => {
    const dir = path.join(fixturesDir, 'models', 'bert-mlm');
    const model = loadModel(dir);
    const inputs = fixtureInputs(path.join(dir, 'reference.safetensors'));
    const masks = onesMasks(model);
    const up = layerNames(model.prefix, 1).linear.ffn_up.weight;
    const m = masks.masks.get(up)!;
    const cols = m.shape[1]!;
    // rows 0..9 of layer 1's FFN up keep only 2 weights each (columns 0 and 1)
    for (let r = 0; r < 10; r++) for (let c = 2; c < cols; c++) m.data[r * cols + c] = 0;
    const exact = planFromMasks(model, masks);
    expect(exact.report.perLayer[1]!.neuronsRemoved).toBe(0);
    const plan = planFromMasks(model, masks, { minKept: 3, gatherInputs: false });
    expect(plan.report.perLayer[1]!.neuronsRemoved).toBe(10);
    const w = model.params.get(up)!.dataSync();
    let expected = 0;
    for (let r = 0; r < 10; r++) for (const c of [0, 1]) expected += w[r * cols + c] !== 0 ? 1 : 0;
    expect(plan.report.droppedNonzero).toBe(expected);
    expect(plan.report.droppedSquaredNorm).toBeGreaterThan(0);
    const { view, dispose } = masks.view(model);
    const want = outputs(model, inputs, view);
    dispose();
    const small = compact(model, plan);
    expect(small.config.layers[1]!.intermediateSize).toBe(model.config.intermediateSize - 10);
    // the difference exists (the weights mattered) and is what the report warned about
    expect(maxDiff(outputs(small, inputs), want)).toBeGreaterThan(1e-6);
    model.dispose();
    small.dispose();
    tf.dispose(Object.values(inputs));
  });

  it('roberta-base: gates (closed rows/columns by HF name) give the gated model', () => {
    const dir = path.join(fixturesDir, 'models', 'roberta-base');
    const model = loadModel(dir);
    const inputs = fixtureInputs(path.join(dir, 'reference.safetensors'));
    const n = layerNames(model.prefix, 0).linear;
    const H = model.config.hiddenSize;
    const I = model.config.intermediateSize;
    const open = (len: number, closed: (i: number) => boolean): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (closed(i) ? 0 : 1));
    const gates = new Map([
      [n.attn_output.weight, { cols: open(H, (i) => i < 8 || i % 5 === 0) }], // head 0 (dims 0..7) and more value dims
      [n.ffn_up.weight, { rows: open(I, (j) => j % 3 === 0), cols: open(H, (c) => c % 4 === 1) }],
      [n.key.weight, { rows: open(H, (i) => i % 7 === 2) }],
    ]);
    // the gated model, built here from the gates: W ⊙ (z_r z_cᵀ)
    const gated = new MaskSet();
    for (const [name, g] of gates) {
      const [rows, cols] = model.params.get(name)!.shape as [number, number];
      gated.set(name, [rows, cols], Uint8Array.from({ length: rows * cols }, (_, i) => ((g as { rows?: Uint8Array }).rows?.[Math.floor(i / cols)] ?? 1) * ((g as { cols?: Uint8Array }).cols?.[i % cols] ?? 1)));
    }
    const plan = planFromGates(model, gates);
    expect(plan.source).toBe('gates');
    expect(plan.report.perLayer[0]!.headsRemoved).toEqual([0]);
    expect(plan.report.perLayer[0]!.neuronsRemoved).toBe(Math.ceil(I / 3));
    expect(plan.report.perLayer[0]!.inputFeaturesRemoved.ffn_up).toBe(H / 4);
    const small = checkAgainstMasked(model, gated, plan, inputs);
    expect(small.config.layers[0]!.numHeads).toBe(model.config.numAttentionHeads - 1);
    model.dispose();
    small.dispose();
    tf.dispose(Object.values(inputs));
  });
});

describe('explicit head and neuron lists', () => {
  it('bert-cls: equals the model with those heads\' output columns and neurons\' down columns zeroed; pruned_heads numbering composes', async () => {
    const dir = path.join(fixturesDir, 'models', 'bert-cls');
    const model = loadModel(dir);
    const inputs = fixtureInputs(path.join(dir, 'reference.safetensors'));
    const D = model.config.layers[0]!.headDim;
    const reference = onesMasks(model);
    const n0 = layerNames(model.prefix, 0).linear;
    const n1 = layerNames(model.prefix, 1).linear;
    for (const h of [1, 3]) for (let d = 0; d < D; d++) zeroCol(reference, n0.attn_output.weight, h * D + d);
    for (const j of [0, 5, 6]) zeroCol(reference, n1.ffn_down.weight, j);
    const plan = planFromLists(model, { heads: { 0: [1, 3] }, neurons: new Map([[1, [0, 5, 6]]]) });
    expect(plan.report.droppedNonzero).toBeGreaterThan(0);
    const small = checkAgainstMasked(model, reference, plan, inputs);
    expect(small.config.layers.map((s) => [s.numHeads, s.intermediateSize])).toEqual([[2, 64], [4, 61]]);
    const out = path.join(tmp, 'bert-cls-lists');
    await saveCompacted(small, out);
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg.pruned_heads).toEqual({ 0: [1, 3] });
    // remove the second remaining head of layer 0 (original head 2): pruned_heads keeps original numbers
    const back = loadModel(out);
    const smaller = compact(back, planFromLists(back, { heads: { 0: [1] } }));
    const out2 = path.join(tmp, 'bert-cls-lists-2');
    await saveCompacted(smaller, out2);
    const cfg2 = JSON.parse(fs.readFileSync(path.join(out2, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg2.pruned_heads).toEqual({ 0: [1, 2, 3] });
    // heads only (standard FFN): HF's pruned_heads alone says it all
    const headsOnly = compact(model, planFromLists(model, { heads: { 1: [0] } }));
    expect(headsOnly.config.raw.prunekit_layers).toBeUndefined();
    expect(headsOnly.config.raw.pruned_heads).toEqual({ 1: [0] });
    for (const m of [model, small, back, smaller, headsOnly]) m.dispose();
    tf.dispose(Object.values(inputs));
  });
});

const mini = sharedPath('models/mini-encoder');
describe.skipIf(!mini)('mini-encoder (../shared)', () => {
  const refFile = path.join(fixturesDir, 'shared-refs', 'mini-encoder.safetensors');

  it('random structured masks: compacted equals masked', () => {
    const model = loadModel(mini!);
    const inputs = fixtureInputs(refFile);
    const { masks } = randomMasks(model, 3);
    const plan = planFromMasks(model, masks);
    expect(plan.report.droppedNonzero).toBe(0);
    const small = checkAgainstMasked(model, masks, plan, inputs);
    model.dispose();
    small.dispose();
    tf.dispose(Object.values(inputs));
  });

  it('learned plan (magnitude importance): 40% of FFN neurons and one head per layer, vs the zeroed model', () => {
    const model = loadModel(mini!);
    const inputs = fixtureInputs(refFile);
    const cfg = model.config;
    const heads: Record<number, number[]> = {};
    const neurons: Record<number, number[]> = {};
    const reference = onesMasks(model);
    for (let l = 0; l < cfg.numLayers; l++) {
      const n = layerNames(model.prefix, l).linear;
      const H = cfg.hiddenSize;
      const I = cfg.intermediateSize;
      const D = cfg.layers[l]!.headDim;
      const up = model.params.get(n.ffn_up.weight)!.dataSync();
      const down = model.params.get(n.ffn_down.weight)!.dataSync();
      const o = model.params.get(n.attn_output.weight)!.dataSync();
      // neuron importance: |up row| * |down column|; head importance: |attention-output columns|
      const score = Array.from({ length: I }, (_, j) => {
        let a = 0;
        let b = 0;
        for (let c = 0; c < H; c++) a += up[j * H + c]! ** 2;
        for (let r = 0; r < H; r++) b += down[r * I + j]! ** 2;
        return Math.sqrt(a * b);
      });
      const weakest = score.map((s, j) => [s, j] as const).sort((x, y) => x[0] - y[0]).slice(0, Math.round(0.4 * I)).map(([, j]) => j);
      neurons[l] = weakest;
      const hs = Array.from({ length: cfg.layers[l]!.numHeads }, (_, h) => {
        let s = 0;
        for (let r = 0; r < H; r++) for (let d = 0; d < D; d++) s += o[r * H + h * D + d]! ** 2;
        return s;
      });
      const weakHead = hs.indexOf(Math.min(...hs));
      heads[l] = [weakHead];
      for (const j of weakest) zeroCol(reference, n.ffn_down.weight, j);
      for (let d = 0; d < D; d++) zeroCol(reference, n.attn_output.weight, weakHead * D + d);
    }
    const plan = planFromLists(model, { heads, neurons });
    const small = checkAgainstMasked(model, reference, plan, inputs);
    expect(small.config.layers.every((s) => s.intermediateSize === cfg.intermediateSize - Math.round(0.4 * cfg.intermediateSize) && s.numHeads === cfg.numAttentionHeads - 1)).toBe(true);
    // the same removal found from the zeroed weights by a mask plan (the learned mask)
    const fromMask = planFromMasks(model, reference);
    expect(fromMask.report.perLayer.map((r) => [r.headsRemoved, r.neuronsRemoved])).toEqual(plan.report.perLayer.map((r) => [r.headsRemoved, r.neuronsRemoved]));
    model.dispose();
    small.dispose();
    tf.dispose(Object.values(inputs));
  });
});

describe('bad plans fail with the layer and the problem', () => {
  it('rejects mismatched, empty and unknown plans', () => {
    const a = loadModel(path.join(fixturesDir, 'models', 'bert-base'));
    const b = loadModel(path.join(fixturesDir, 'models', 'bert-cls'));
    const n1 = layerNames(a.prefix, 1).linear;
    // a plan for another shape
    const smaller = compact(a, planFromLists(a, { neurons: { 1: [3] } }));
    const planForA = planFromLists(a, { heads: { 0: [0] } });
    expect(() => compact(smaller, planForA)).toThrow(/layer 1: the plan was made for 4 heads, FFN 64; the model's layer has 4 heads, FFN 63/);
    // every head / every neuron
    expect(() => planFromLists(a, { heads: { 1: [0, 1, 2, 3] } })).toThrow(/layer 1: the plan removes every attention head \(all 4\)/);
    expect(() => planFromLists(a, { neurons: { 0: Array.from({ length: 64 }, (_, j) => j) } })).toThrow(/layer 0: the plan removes every FFN neuron \(all 64\)/);
    const masks = onesMasks(a);
    for (let r = 0; r < 32; r++) zeroRow(masks, n1.value.weight, r);
    expect(() => planFromMasks(a, masks)).toThrow(/layer 1: the plan removes every attention head/);
    const ffnDead = onesMasks(a);
    for (let c = 0; c < 64; c++) zeroCol(ffnDead, n1.ffn_down.weight, c);
    expect(() => planFromMasks(a, ffnDead)).toThrow(/layer 1: the plan removes every FFN neuron/);
    // out of range, unknown parameters, wrong gate sizes
    expect(() => planFromLists(a, { heads: { 0: [4] } })).toThrow(/layer 0: head 4 does not exist \(the layer has 4 heads\)/);
    expect(() => planFromLists(a, { heads: { 5: [0] } })).toThrow(/layer 5: no such layer/);
    const unknown = new MaskSet().set('encoder.layer.9.attention.self.query.weight', [32, 32], new Uint8Array(1024));
    expect(() => planFromMasks(a, unknown)).toThrow(/mask names "encoder.layer.9.attention.self.query.weight", which the model does not have/);
    const wrongShape = new MaskSet().set(n1.key.weight, [16, 32], new Uint8Array(512));
    expect(() => planFromMasks(a, wrongShape)).toThrow(/layer 1: mask for "encoder.layer.1.attention.self.key.weight" has shape \[16, 32\] but the parameter is \[32, 32\]/);
    expect(() => planFromGates(a, new Map([['encoder.layer.0.attention.self.qkv.weight', { rows: new Uint8Array(32) }]]))).toThrow(/gate names "encoder.layer.0.attention.self.qkv.weight", which the model does not have/);
    expect(() => planFromGates(a, new Map([[n1.ffn_up.weight, { rows: new Uint8Array(10).fill(1) }]]))).toThrow(/layer 1: gate for "encoder.layer.1.intermediate.dense.weight" has 10 row gates but the weight has 64 rows/);
    expect(() => planFromGates(a, new Map([['embeddings.word_embeddings.weight', { rows: new Uint8Array(128).fill(1) }]]))).toThrow(/not the weight of an encoder linear/);
    // a hand-edited plan with a bad index
    const edited = planFromLists(a, {});
    edited.layers[1]!.ffn = [0, 2, 2];
    expect(() => compact(a, edited)).toThrow(/layer 1: the plan's FFN neuron list must be increasing without repeats/);
    edited.layers[1]!.ffn = [0, 99];
    expect(() => compact(a, edited)).toThrow(/layer 1: the plan names FFN neuron 99, outside 0..63/);
    // the cls model has the same encoder shapes: a plan for it is accepted, compacting gives a smaller model
    const ok = compact(b, planFromLists(b, { heads: { 0: [0] } }));
    expect(ok.config.layers[0]!.numHeads).toBe(3);
    for (const m of [a, b, smaller, ok]) m.dispose();
  });
});
