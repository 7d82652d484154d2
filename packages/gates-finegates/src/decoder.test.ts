// FineGates on a Llama sequence classifier (FineGates' Llama setting): the LlamaForSequenceClassification
// fixture (tools/fixtures/make_decoder_fixtures.py; its logits match transformers within 1e-4 in
// tensor-core's decoder-parity test), gates on every bias-free decoder linear, a few training steps
// through the model's own score head (last non-pad token), and compaction of the gated model by the
// decoder coupling groups (KV groups, gated-MLP neurons) to a smaller model that reloads in prunekit;
// the score head FineGates trains (DecoderScoreHead) against transformers' logits on text padded either side.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderModel, initBackend, loadModel, readSafetensors, saveCompacted } from '@prunekit/tensor-core';
import { FineGatesAdapter } from './adapters.js';
import { DecoderScoreHead } from './head.js';
import { makeBatch, disposeBatch } from './data.js';
import { compactGated } from './compact.js';
import { createRng } from '@prunekit/tensor-core';

const dir = path.resolve(import.meta.dirname, '..', '..', '..', 'tools', 'fixtures', 'data', 'decoders', 'llama-cls');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-fg-llama-'));
let model: EncoderModel;
let inputs: { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D };

beforeAll(async () => {
  await initBackend();
  model = loadModel(dir);
  const ref = readSafetensors(path.join(dir, 'reference.safetensors')).tensors;
  const int2d = (n: string): tf.Tensor2D => tf.tensor2d(Int32Array.from(ref.get(n)!.data as Int32Array), ref.get(n)!.shape as [number, number], 'int32');
  inputs = { inputIds: int2d('left.input_ids'), attentionMask: int2d('left.attention_mask') };
});
afterAll(() => {
  model.dispose();
  tf.dispose(Object.values(inputs));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const logits = (m: EncoderModel, view?: (n: string) => tf.Tensor): Float32Array => tf.tidy(() => m.forward(inputs, view ? { view } : {}).logits!.dataSync() as Float32Array);
const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('FineGates on LlamaForSequenceClassification', () => {
  it('gates every attention and gated-MLP linear of each layer; no biases needed', () => {
    expect(model.config.head).toBe('cls');
    const adapter = new FineGatesAdapter(model, { seed: 1 });
    const names = adapter.gates.names.map((n) => n.replace(/^model\.layers\.\d\./, '')).sort();
    expect(names).toEqual([...['mlp.down_proj', 'mlp.gate_proj', 'mlp.up_proj', 'self_attn.k_proj', 'self_attn.o_proj', 'self_attn.q_proj', 'self_attn.v_proj'].flatMap((n) => [`${n}.weight`, `${n}.weight`])]);
    expect(adapter.biases.size).toBe(0);
    adapter.dispose();
  });

  it('trains the gates through the score head: the task loss and regulariser have gradients, θ moves', () => {
    const adapter = new FineGatesAdapter(model, { seed: 2, targetSparsity: 0.4 });
    const labels = tf.tensor1d([0, 2, 1], 'int32');
    const optimizer = tf.train.adam(0.1);
    const vars = [...adapter.gates.variables().values()];
    const before = vars.map((v) => Float32Array.from(v.dataSync()));
    const rng = createRng(3);
    const losses: number[] = [];
    for (let step = 0; step < 2; step++) {
      adapter.beginStep(rng.fork(`step/${step}`));
      const loss = optimizer.minimize(() => {
        const out = model.forward(inputs, { view: adapter.trainView(), training: true, dropoutSeed: step });
        const task = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 3), out.logits!);
        return tf.add(task, adapter.regularisation()!) as tf.Scalar;
      }, true, vars)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
      adapter.endStep();
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    const moved = vars.filter((v, i) => maxAbsDiff(v.dataSync() as Float32Array, before[i]!) > 1e-3).length;
    expect(moved).toBe(vars.length);
    labels.dispose();
    optimizer.dispose();
    adapter.dispose();
  });

  it('compacts the gated model by KV groups and MLP neurons: same logits, per-layer sizes, reloads in prunekit', async () => {
    const adapter = new FineGatesAdapter(model, { seed: 4 });
    const theta = adapter.gates.variables();
    const set = (name: string, axis: 'rows' | 'cols', closed: number[]): void => {
      const v = theta.get(`${name}.gate_${axis}`)!;
      const t = Float32Array.from(v.dataSync()).fill(10); // tanh(10) + 0.5 > 1: open, gate 1
      for (const i of closed) t[i] = -10; // gate 0
      v.assign(tf.tensor1d(t));
    };
    for (const n of adapter.gates.names) {
      set(n, 'rows', []);
      set(n, 'cols', []);
    }
    // layer 0: KV group 1 (query heads 2, 3 of head_dim 8: attention-output columns 16..31) and MLP neurons 0..9 (down columns);
    // layer 1: neurons 5, 6 closed through the gate projection's rows
    set('model.layers.0.self_attn.o_proj.weight', 'cols', Array.from({ length: 16 }, (_, i) => 16 + i));
    set('model.layers.0.mlp.down_proj.weight', 'cols', Array.from({ length: 10 }, (_, i) => i));
    set('model.layers.1.mlp.gate_proj.weight', 'rows', [5, 6]);
    const gated = logits(model, adapter.evalView());
    expect(maxAbsDiff(gated, logits(model))).toBeGreaterThan(1e-3); // the closed gates change the model
    const { model: small, report } = compactGated(model, adapter);
    expect(small.config.layers.map((s) => [s.numHeads, s.numKvHeads, s.intermediateSize])).toEqual([[2, 1, 38], [4, 2, 46]]);
    expect(report.totalAfter).toBeLessThan(report.totalBefore);
    expect(maxAbsDiff(logits(small), gated)).toBeLessThanOrEqual(1e-4);
    const out = path.join(tmp, 'compacted');
    await saveCompacted(small, out, { companionsFrom: dir });
    const reloaded = loadModel(out);
    expect(reloaded.config.head).toBe('cls');
    expect(maxAbsDiff(logits(reloaded), gated)).toBeLessThanOrEqual(1e-4);
    [small, reloaded].forEach((m) => { m.dispose(); });
    adapter.dispose();
  });

  it('DecoderScoreHead: the folder\'s score.weight on the last non-pad token gives the classifier\'s logits, with batches padded left or right', () => {
    const textDir = path.resolve(dir, '..', 'llama-cls-text');
    const cls = loadModel(textDir);
    const ref = readSafetensors(path.join(textDir, 'reference.safetensors')).tensors;
    const head = DecoderScoreHead.fromModel(cls, 2);
    expect(head.fromFolder).toBe(true);
    expect(head.numParameters()).toBe(2 * 32);
    // the transformers-tokenized rows, unpadded, batched by makeBatch on each side
    const ids = ref.get('text.right.input_ids')!;
    const mask = ref.get('text.right.attention_mask')!;
    const [rows, seq] = ids.shape as [number, number];
    const set = { ids: [] as Int32Array[], typeIds: [] as Int32Array[], labels: new Int32Array(rows), size: rows };
    for (let r = 0; r < rows; r++) {
      const len = (mask.data as Int32Array).subarray(r * seq, (r + 1) * seq).reduce((a, x) => a + x, 0);
      set.ids.push(Int32Array.from((ids.data as Int32Array).subarray(r * seq, r * seq + len)));
      set.typeIds.push(new Int32Array(len));
    }
    const base = new EncoderModel({ ...cls.config, head: 'base' }, cls.params, cls.prefix);
    for (const side of ['right', 'left'] as const) {
      const b = makeBatch(set, Int32Array.from({ length: rows }, (_, i) => i), cls.config.padTokenId, side);
      const got = tf.tidy(() => head.forward(base.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask }).lastHiddenState, { inputIds: b.inputIds }).dataSync() as Float32Array);
      expect(maxAbsDiff(got, ref.get(`text.${side}.logits`)!.data as Float32Array), side).toBeLessThanOrEqual(1e-4);
      disposeBatch(b);
    }
    // another number of labels: a new head (transformers' initialisation), not the folder's
    const fresh = DecoderScoreHead.fromModel(cls, 3, { seed: 1 });
    expect(fresh.fromFolder).toBe(false);
    expect(fresh.params.get('score.weight')!.shape).toEqual([3, 32]);
    expect(() => DecoderScoreHead.fromModel(base, 2)).toThrow(/needs a \.\.\.ForSequenceClassification decoder/);
    [head, fresh].forEach((h) => { h.dispose(); });
    cls.dispose();
  });
});
