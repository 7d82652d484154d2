import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, initBackend, layerNames } from '@prunekit/tensor-core';
import { createAdapter, FineGatesAdapter, LoraAdapter, OverrideAdapter } from './adapters.js';
import { closeGatesToRemoval, compactGated } from './compact.js';
import { disposeBatch, makeBatch } from './data.js';
import { GateSet } from './gates.js';
import { ClassificationHead } from './head.js';
import { syntheticSet, tinyModel } from './test-support/tiny.js';
import { measureOnnxSpeed, measureSpeed } from './speed.js';
import { predict, trainClassifier } from './train.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'finegates-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
beforeAll(async () => {
  await initBackend();
});

const snapshot = (params: ReadonlyMap<string, tf.Tensor>): Map<string, Float32Array> => new Map([...params].filter(([, t]) => t.dtype === 'float32').map(([n, t]) => [n, Float32Array.from(t.dataSync())]));
const same = (a: Float32Array, b: ArrayLike<number>): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const data = syntheticSet(24, 3);

describe('GateSet', () => {
  it('creates row and column gates on Q, K, V, O, FFN up and down with θ ~ N(1, 0.1²), seeded', () => {
    const { full, model } = tinyModel();
    const g = GateSet.create(model, { seed: 3 });
    expect(g.specs).toHaveLength(12);
    expect(g.specs.map((s) => s.kind).slice(0, 6)).toEqual(['query', 'key', 'value', 'attn_output', 'ffn_up', 'ffn_down']);
    const all = [...g.theta().values()].flatMap((t) => [...t.rows, ...t.cols]);
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const std = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
    expect(mean).toBeCloseTo(1, 1);
    expect(std).toBeGreaterThan(0.08);
    expect(std).toBeLessThan(0.12);
    expect(g.numParameters()).toBe(2 * (4 * (32 + 32) + (64 + 32) + (32 + 64)));
    // everything open at the start; expected sparsity ≈ 0 (P(open) = Φ((tanh 1 + 0.5)/0.5) ≈ 0.994)
    const s = g.stats();
    expect(s.closedWeights).toBe(0);
    expect(s.expectedSparsity).toBeGreaterThan(0);
    expect(s.expectedSparsity).toBeLessThan(0.03);
    const again = GateSet.create(model, { seed: 3 });
    expect(same(again.theta().get(g.names[0]!)!.rows, g.theta().get(g.names[0]!)!.rows)).toBe(true);
    g.dispose();
    again.dispose();
    full.dispose();
  });

  it('saves θ as safetensors + manifest and loads them back; closed gates and statistics survive', () => {
    const { full, model } = tinyModel();
    const g = GateSet.create(model, { seed: 1, policy: { kinds: ['ffn_up', 'ffn_down'] } });
    const th = g.theta();
    const first = th.get(g.names[0]!)!;
    first.rows.fill(-2, 0, 10); // 10 closed FFN neurons
    g.assign(th);
    g.save(path.join(tmp, 'gates'), { task: 't' });
    const { gates, manifest } = GateSet.load(path.join(tmp, 'gates'));
    expect(manifest.task).toBe('t');
    expect(gates.specs).toEqual(g.specs);
    for (const n of g.names) expect(same(gates.theta().get(n)!.rows, g.theta().get(n)!.rows)).toBe(true);
    expect(gates.stats()).toEqual(g.stats());
    expect(gates.stats().closedRows).toBe(10);
    expect(gates.gateMap().get(g.names[0]!)!.rows!.slice(0, 11)).toEqual(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
    expect(() => GateSet.load(tmp)).toThrow(/gates.json/);
    g.dispose();
    gates.dispose();
    full.dispose();
  });
});

describe('training', () => {
  it('FineGates trains gates, gated biases and the head; the frozen weights are unchanged', () => {
    const { full, model } = tinyModel();
    const before = snapshot(model.params);
    const ad = new FineGatesAdapter(model, { targetSparsity: 0.4, seed: 0 });
    const head = ClassificationHead.create(32, 3);
    const theta0 = ad.gates.theta();
    const headBefore = snapshot(head.params);
    const seen: number[] = [];
    const tensorsBefore = tf.memory().numTensors;
    const r = trainClassifier(model, ad, head, data, { steps: 10, batchSize: 8, lr: 1e-2, seed: 0, padId: 0, onStep: (s) => { if (s.expectedSparsity !== undefined) seen.push(s.expectedSparsity); } });
    expect(r.losses).toHaveLength(10);
    expect(tf.memory().numTensors).toBe(tensorsBefore); // flat over the steps
    expect(seen.length).toBeGreaterThan(0);
    for (const [n, v] of before) expect(same(v, model.params.get(n)!.dataSync()), n).toBe(true);
    // every gate vector moved, biases and the head too
    for (const [n, t] of ad.gates.theta()) expect(same(t.rows, theta0.get(n)!.rows), n).toBe(false);
    const b = layerNames(model.prefix, 0).linear.query.bias;
    expect(same(before.get(b)!, ad.biases.get(b)!.dataSync())).toBe(false);
    for (const [n, v] of head.params) expect(same(headBefore.get(n)!, v.dataSync()), n).toBe(false);
    // trainable = gates + biases of the 12 gated linears (not the LayerNorms)
    expect(ad.numTrainable()).toBe(ad.gates.numParameters() + 2 * (32 * 3 + 32 + 64 + 32));
    ad.dispose();
    head.dispose();
    full.dispose();
  });

  it('LoRA trains only A and B of Q and V (r = 4) and the head; BitFit only biases; the model is never modified', () => {
    const { full, model } = tinyModel();
    const before = snapshot(model.params);
    const lora = new LoraAdapter(model, { seed: 0 });
    expect([...lora.variables.keys()].every((n) => /attention\.self\.(query|value)\.weight\.lora_[AB]$/.test(n))).toBe(true);
    expect(lora.numTrainable()).toBe(2 * 2 * 4 * (32 + 32));
    const head = ClassificationHead.create(32, 3);
    trainClassifier(model, lora, head, data, { steps: 4, batchSize: 8, lr: 1e-2, seed: 0, padId: 0 });
    for (const { b } of lora.lora.values()) expect(tf.tidy(() => tf.max(tf.abs(b)).dataSync()[0]!)).toBeGreaterThan(0);
    for (const [n, v] of before) expect(same(v, model.params.get(n)!.dataSync()), n).toBe(true);
    // the LoRA view changes exactly Q and V weights
    const view = lora.evalView();
    for (const n of model.params.keys()) {
      const changed = tf.tidy(() => !same(before.get(n) ?? new Float32Array(), view(n).dataSync()));
      if (model.params.get(n)!.dtype === 'float32') expect(changed, n).toBe(/attention\.self\.(query|value)\.weight$/.test(n));
    }
    lora.dispose();

    const bitfit = createAdapter('bitfit', model);
    expect(bitfit).toBeInstanceOf(OverrideAdapter);
    expect([...bitfit.variables.keys()].every((n) => n.endsWith('.bias'))).toBe(true);
    // 12 linears' biases + 2·2 LayerNorm biases + the embeddings' LayerNorm bias
    expect(bitfit.variables.size).toBe(12 + 4 + 1);
    trainClassifier(model, bitfit, head, data, { steps: 4, batchSize: 8, lr: 1e-2, seed: 0, padId: 0 });
    for (const [n, v] of before) expect(same(v, model.params.get(n)!.dataSync()), n).toBe(true);
    const bview = bitfit.evalView();
    for (const n of model.params.keys()) {
      if (model.params.get(n)!.dtype !== 'float32') continue;
      const changed = tf.tidy(() => !same(before.get(n)!, bview(n).dataSync()));
      expect(changed, n).toBe(bitfit.variables.has(n));
    }
    bitfit.dispose();

    const fullFt = createAdapter('full-ft', model);
    expect(fullFt.numTrainable()).toBe([...fullFt.variables.values()].reduce((a, v) => a + v.size, 0));
    expect(fullFt.variables.has(layerNames(model.prefix, 1).linear.ffn_down.weight)).toBe(true);
    fullFt.dispose();
    head.dispose();
    full.dispose();
  });

  it('resumes from a checkpoint exactly where the uninterrupted run would be', () => {
    const { full, model } = tinyModel();
    const run = (steps: number, dir?: string): { theta: Map<string, { rows: Float32Array; cols: Float32Array }>; losses: number[]; resumedFrom: number } => {
      const ad = new FineGatesAdapter(model, { targetSparsity: 0.3, seed: 5 });
      const head = ClassificationHead.create(32, 3, { seed: 5 });
      const r = trainClassifier(model, ad, head, data, { steps, batchSize: 8, lr: 1e-2, seed: 5, padId: 0, ...(dir ? { checkpointDir: dir, checkpointEvery: 3, fingerprint: 'x' } : {}) });
      const theta = ad.gates.theta();
      ad.dispose();
      head.dispose();
      return { theta, losses: r.losses, resumedFrom: r.resumedFrom };
    };
    const straight = run(6);
    const dir = path.join(tmp, 'ckpt');
    const first = run(3, dir);
    expect(first.resumedFrom).toBe(0);
    const resumed = run(6, dir);
    expect(resumed.resumedFrom).toBe(3);
    expect(resumed.losses).toHaveLength(6);
    for (let i = 0; i < 6; i++) expect(resumed.losses[i]).toBeCloseTo(straight.losses[i]!, 5);
    for (const [n, t] of straight.theta) {
      const r = resumed.theta.get(n)!;
      for (let i = 0; i < t.rows.length; i++) expect(Math.abs(r.rows[i]! - t.rows[i]!)).toBeLessThan(1e-6);
    }
    // a checkpoint of other settings is refused
    const ad = new FineGatesAdapter(model, { targetSparsity: 0.3, seed: 5 });
    const head = ClassificationHead.create(32, 3, { seed: 5 });
    expect(() => trainClassifier(model, ad, head, data, { steps: 6, batchSize: 8, lr: 1e-2, seed: 5, padId: 0, checkpointDir: dir, fingerprint: 'other' })).toThrow(/other settings/);
    ad.dispose();
    head.dispose();
    full.dispose();
  });
});

describe('compaction', () => {
  for (const arch of ['bert', 'roberta'] as const) {
    it(`the compacted ${arch} model's outputs equal the gated model's (≤ 1e-4), and it is smaller`, async () => {
      const { full, model } = tinyModel(arch);
      const ad = new FineGatesAdapter(model, { targetSparsity: 0.4, seed: 2 });
      // train a little (biases move away from the checkpoint's), then close a mix of rows and columns
      const head = ClassificationHead.create(32, 3);
      trainClassifier(model, ad, head, data, { steps: 3, batchSize: 8, lr: 1e-2, seed: 0, padId: arch === 'bert' ? 0 : 1 });
      const th = ad.gates.theta();
      const n0 = layerNames(model.prefix, 0).linear;
      const n1 = layerNames(model.prefix, 1).linear;
      th.get(n0.value.weight)!.rows.fill(-2, 0, 8); // head 0 loses every value dim → removed
      th.get(n0.query.weight)!.rows.fill(-2, 8, 12); // half of head 1's query dims
      th.get(n0.key.weight)!.cols.fill(-2, 0, 5); // 5 residual features that K ignores
      th.get(n0.ffn_up.weight)!.rows.fill(-2, 0, 20); // 20 FFN neurons
      th.get(n1.ffn_down.weight)!.cols.fill(-2, 30, 50); // 20 FFN neurons via the down columns
      th.get(n1.attn_output.weight)!.rows.fill(-2, 0, 3); // residual rows: zeroed, cannot be removed
      th.get(n1.attn_output.weight)!.cols.fill(-2, 16, 20); // 4 value dims of head 2
      th.get(n1.ffn_up.weight)!.cols.fill(-2, 10, 14); // 4 features FFN up ignores
      th.get(n1.value.weight)!.rows.fill(-0.4, 0, 32); // partially open gates (0 < z < 1) are folded
      ad.gates.assign(th);
      // equal-size heads (default): exact too, fewer dims removed
      const uniform = compactGated(model, ad);
      expect(uniform.report.layers[1]!.vDimsRemoved).toBe(0);
      expect(uniform.model.config.layers.every((l) => !l.qkDims && !l.vDims)).toBe(true);
      const { model: small, report, plan } = compactGated(model, ad, { uniformHeads: false });
      expect(small.config.layers[1]!.vDims).toEqual([8, 8, 4, 8]);
      expect(uniform.report.linearAfter).toBeGreaterThan(report.linearAfter);
      expect(plan.report.droppedNonzero).toBe(0);
      expect(report.layers[0]!.headsRemoved).toEqual([0]);
      expect(report.layers[0]!.neuronsRemoved).toBe(20);
      expect(report.layers[1]!.neuronsRemoved).toBe(20);
      expect(report.layers[0]!.inputFeaturesRemoved.key).toBe(5);
      expect(report.layers[1]!.vDimsRemoved).toBe(4);
      expect(report.linearAfter).toBeLessThan(report.linearBefore);
      expect(report.layers.reduce((a, l) => a + l.removed, 0)).toBe(report.linearBefore - report.linearAfter);
      expect(small.numParameters()).toBe(report.totalAfter);

      const set = syntheticSet(6, 3, 9, 9, arch === 'bert' ? 120 : 130);
      const b = makeBatch(set, [0, 1, 2, 3, 4, 5], arch === 'bert' ? 0 : 1);
      const diff = tf.tidy(() => {
        const inputs = { inputIds: b.inputIds, attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds };
        const gated = model.forward(inputs, { view: ad.evalView() }).lastHiddenState;
        const c = small.forward(inputs).lastHiddenState;
        const m = tf.expandDims(tf.cast(b.attentionMask, 'float32'), -1);
        return tf.max(tf.abs(tf.mul(tf.sub(gated, c), m))).dataSync()[0]!;
      });
      const diffU = tf.tidy(() => {
        const inputs = { inputIds: b.inputIds, attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds };
        const m = tf.expandDims(tf.cast(b.attentionMask, 'float32'), -1);
        return tf.max(tf.abs(tf.mul(tf.sub(model.forward(inputs, { view: ad.evalView() }).lastHiddenState, uniform.model.forward(inputs).lastHiddenState), m))).dataSync()[0]!;
      });
      uniform.model.dispose();
      disposeBatch(b);
      expect(diff).toBeLessThanOrEqual(1e-4);
      expect(diffU).toBeLessThanOrEqual(1e-4);
      // and the classifier's predictions agree
      const pg = predict(model, ad, head, set, arch === 'bert' ? 0 : 1);
      const pc = predict(small, null, head, set, arch === 'bert' ? 0 : 1);
      expect([...pc]).toEqual([...pg]);
      // timing the two models leaves no tensors behind
      const n = tf.memory().numTensors;
      const sp = measureSpeed(model, small, set, arch === 'bert' ? 0 : 1, { batchSize: 2, batches: 2, repeats: 2 });
      expect(sp.denseMs).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(n);
      // the same in onnxruntime-node: both exported, timed, the temporary export folder removed
      const tmpBefore = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('finegates-onnx-speed-')).length;
      const osp = await measureOnnxSpeed(model, small, set, arch === 'bert' ? 0 : 1, { batchSize: 2, batches: 2, repeats: 2, threads: 1 });
      expect(osp.denseMs).toBeGreaterThan(0);
      expect(osp.compactMs).toBeGreaterThan(0);
      expect(osp.speedup).toBeCloseTo(osp.denseMs / osp.compactMs, 10);
      expect(osp.threads).toBe(1);
      expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('finegates-onnx-speed-')).length).toBe(tmpBefore);
      small.dispose();
      ad.dispose();
      head.dispose();
      full.dispose();
    });
  }
});

describe('matched-count finalisation', () => {
  it('closes the fewest lowest-θ gates that make compaction remove the target fraction; gates past it stay as trained', () => {
    const { full, model } = tinyModel('bert');
    const ad = new FineGatesAdapter(model, { targetSparsity: 0.4, seed: 3 });
    // trained-looking θ: spread out, a few already closed (tanh θ + 0.5 ≤ 0)
    const rng = createRng('matched-count');
    const th = ad.gates.theta();
    for (const t of th.values()) for (const a of [t.rows, t.cols]) a.set(rng.uniformArray(a.length, -0.9, 2));
    ad.gates.assign(th);
    const trained = ad.gates.theta();
    const openBefore = ad.gates.openCount();
    const byGates = compactGated(model, ad);
    byGates.model.dispose();
    const target = byGates.report.linearRemovedFraction + 0.2;

    const m = closeGatesToRemoval(model, ad, target);
    expect(m.target).toBe(target);
    expect(m.removedByGates).toBeCloseTo(byGates.report.linearRemovedFraction, 12);
    expect(m.extraClosed).toBeGreaterThan(0);
    expect(m.evaluations).toBeLessThan(2 * Math.log2(openBefore) + 4);
    expect(ad.gates.openCount()).toBe(openBefore - m.extraClosed);
    // the adapter is left finalised: compaction now removes what the match reports, at least the target
    const after = compactGated(model, ad);
    expect(after.report.linearRemovedFraction).toBe(m.removed);
    expect(m.removed).toBeGreaterThanOrEqual(target);
    after.model.dispose();
    // the closed ones are exactly the open gates at or below the threshold θ (one global threshold)
    const now = ad.gates.theta();
    for (const [name, t] of trained) {
      for (const axis of ['rows', 'cols'] as const) {
        t[axis].forEach((v, i) => {
          const wasOpen = Math.tanh(v) + 0.5 > 0;
          const closedNow = Math.tanh(now.get(name)![axis][i]!) + 0.5 <= 0;
          if (!wasOpen) expect(closedNow).toBe(true);
          else expect(closedNow, `${name} ${axis} ${i}`).toBe(v <= m.threshold!);
        });
      }
    }
    // one gate fewer would not reach the target
    ad.gates.assign(trained);
    ad.gates.closeLowest(m.extraClosed - 1);
    const fewer = compactGated(model, ad);
    expect(fewer.report.linearRemovedFraction).toBeLessThan(target);
    fewer.model.dispose();

    // a target the trained gates already pass: nothing more is closed, θ unchanged
    ad.gates.assign(trained);
    const none = closeGatesToRemoval(model, ad, Math.max(0.01, byGates.report.linearRemovedFraction / 2));
    expect(none.extraClosed).toBe(0);
    expect(none.threshold).toBeNull();
    expect([...ad.gates.theta()].every(([n, t]) => same(t.rows, trained.get(n)!.rows) && same(t.cols, trained.get(n)!.cols))).toBe(true);
    expect(() => closeGatesToRemoval(model, ad, 1)).toThrow(/removal target must be in \(0, 1\)/);
    expect(() => { ad.gates.closeLowest(openBefore + 1); }).toThrow(/gates asked for/);
    ad.dispose();
    full.dispose();
  });
});
