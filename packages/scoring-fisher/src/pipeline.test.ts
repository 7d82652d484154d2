// End-to-end behaviour on the real pretrained tiny-encoder: resumable statistics, every scorer with
// every allocator at an exact sparsity, retraining that keeps pruned weights at exactly zero, and
// masks that reload into the same pruned model.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { ALLOCATIONS, MLP_ONLY, MaskSet, SentenceEncoder, allocateMasks, initBackend, loadModel, saveModel } from '@prunekit/tensor-core';
import { sharedPath } from '../../../tools/test-support/shared.js';
import { computeGradStats } from './gradstats.js';
import { SCORING_METHODS, prunableWeights, scoreWeights } from './score.js';
import { retrainMasked } from './retrain.js';
import type { Triplet } from './triplets.js';

const tiny = sharedPath('models/tiny-encoder');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-sf-'));
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

// authored finance-flavoured and general triplets (not from any dataset)
const finance: Triplet[] = [
  ['What was the net revenue in 2019?', 'Net revenue for fiscal 2019 was $4.2 billion, up 8%.', 'The company was founded in 1987 in Ohio.'],
  ['How much debt matures next year?', 'Long-term debt of $350 million matures in 2021.', 'Our employees volunteer in local schools.'],
  ['What is the dividend per share?', 'The board declared a quarterly dividend of $0.42 per share.', 'The headquarters building has twelve floors.'],
  ['Operating margin change', 'Operating margin declined 120 basis points to 14.1%.', 'We opened three new stores in Texas.'],
  ['Goodwill impairment charge', 'We recorded a goodwill impairment of $85 million in Q3.', 'The CEO holds a degree in engineering.'],
  ['Cash from operations', 'Cash provided by operating activities was $1.1 billion.', 'Our logo was redesigned last spring.'],
].map(([query, positive, negative]) => ({ query: query!, positive: positive!, negative: negative! }));
const general: Triplet[] = [
  ['A man is playing a guitar.', 'Someone plays the guitar.', 'A dog runs across the field.'],
  ['The weather is cold today.', 'It is chilly outside today.', 'She bought a new laptop.'],
  ['Children are swimming in a pool.', 'Kids swim in the pool.', 'The train arrived late.'],
  ['He is reading a book.', 'A man reads a novel.', 'The soup is too salty.'],
].map(([query, positive, negative]) => ({ query: query!, positive: positive!, negative: negative! }));

let encoder: SentenceEncoder;
beforeAll(async () => {
  await initBackend();
  if (tiny) encoder = await SentenceEncoder.load(tiny);
});

describe.skipIf(!tiny)('GAPrune pipeline on tiny-encoder', () => {
  it('skips and counts batches without negatives (one triplet, no hard negative) instead of averaging in a zero gradient', async () => {
    const params = ['encoder.layer.0.intermediate.dense.weight'];
    // 5 triplets without negatives at batch size 2: the leftover batch holds one triplet, gradient exactly 0
    const noNeg = finance.slice(0, 5).map(({ query, positive }) => ({ query, positive }));
    const warnings: string[] = [];
    const all = await computeGradStats(encoder, noNeg, { params, batchSize: 2, seed: 1, onWarn: (m) => warnings.push(m) });
    const firstTwo = await computeGradStats(encoder, noNeg, { params, batchSize: 2, seed: 1, maxBatches: 2 });
    expect(all.numBatches).toBe(2);
    expect(all.meta.skippedBatches).toBe('1');
    expect(firstTwo.meta.skippedBatches).toBe('0');
    expect(warnings).toEqual([expect.stringMatching(/1 of 3 batches hold one triplet without a hard negative/)]);
    expect([...all.fisher.get(params[0]!)!]).toEqual([...firstTwo.fisher.get(params[0]!)!]);
    // a single triplet without a negative cannot give statistics at all
    await expect(computeGradStats(encoder, noNeg.slice(0, 1), { params, batchSize: 16 })).rejects.toThrow(/no batch has negatives to contrast/);
    // with a hard negative a batch of one does contrast
    const one = await computeGradStats(encoder, finance.slice(0, 1), { params, batchSize: 1 });
    expect(one.meta.skippedBatches).toBe('0');
    expect(Math.max(...one.meanGrad.get(params[0]!)!.map(Math.abs))).toBeGreaterThan(0);
  });

  it('an interrupted, resumed statistics run gives the same accumulators as an uninterrupted one', async () => {
    const params = ['encoder.layer.0.intermediate.dense.weight', 'encoder.layer.1.output.dense.weight'];
    const full = await computeGradStats(encoder, finance, { params, batchSize: 2, seed: 3 });
    const file = path.join(tmp, 'ck.safetensors');
    await expect(
      computeGradStats(encoder, finance, {
        params, batchSize: 2, seed: 3, checkpoint: { file, every: 1 },
        onBatch: (done) => {
          if (done === 2) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    expect(fs.existsSync(file)).toBe(true);
    let resumedFrom = -1;
    const resumed = await computeGradStats(encoder, finance, {
      params, batchSize: 2, seed: 3, checkpoint: { file, every: 1 },
      onBatch: (done) => {
        if (resumedFrom < 0) resumedFrom = done;
      },
    });
    expect(resumedFrom).toBe(3); // batches 1-2 were not recomputed
    for (const n of params) {
      expect(resumed.fisher.get(n)).toEqual(full.fisher.get(n));
      expect(resumed.meanGrad.get(n)).toEqual(full.meanGrad.get(n));
    }
    // a checkpoint from other data is refused, not silently mixed in
    await expect(computeGradStats(encoder, general, { params, batchSize: 2, seed: 3, checkpoint: { file, every: 1 } })).rejects.toThrow(/different dataFingerprint/);
  });

  it('every scorer with every allocator prunes exactly the requested sparsity', async () => {
    const weights = prunableWeights(encoder, MLP_ONLY);
    const params = [...weights.keys()];
    const domain = await computeGradStats(encoder, finance, { params, batchSize: 3 });
    const gen = await computeGradStats(encoder, general, { params, batchSize: 2 });
    const total = [...weights.values()].reduce((a, w) => a + w.data.length, 0);
    for (const method of SCORING_METHODS) {
      const { scores, diagnostics } = await scoreWeights(encoder, method, weights, { domain, general: gen, calibrationTexts: finance.map((t) => t.positive), seed: 1 });
      if (method === 'gaprune') {
        expect(diagnostics!.layers).toHaveLength(2);
        expect(diagnostics!.spearmanWithMagnitude).toBeGreaterThan(-1);
      }
      for (const allocation of ALLOCATIONS) {
        const masks = allocateMasks(scores, 0.5, allocation);
        expect(masks.stats().numel).toBe(total);
        // global: round(s·total) of all candidates; per-matrix: round(s·numel) of each matrix;
        // per-layer: round(s·layer size) of each layer's pooled candidates
        const groups = allocation === 'global' ? [total] : allocation === 'per-matrix' ? [...weights.values()].map((w) => w.data.length) : [0, 1].map((l) => [...weights].filter(([n]) => n.includes(`layer.${l}.`)).reduce((a, [, w]) => a + w.data.length, 0));
        const expectedPruned = groups.reduce((a, g) => a + Math.round(0.5 * g), 0);
        expect(total - masks.stats().kept, `${method}/${allocation}`).toBe(expectedPruned);
      }
    }
    // magnitude at 50% global removes exactly the smallest |W|
    const mag = allocateMasks((await scoreWeights(encoder, 'magnitude', weights, {})).scores, 0.5, 'global');
    let maxPruned = 0;
    let minKept = Infinity;
    for (const [n, w] of weights) {
      const m = mag.masks.get(n)!.data;
      w.data.forEach((x, i) => {
        if (m[i]) minKept = Math.min(minKept, Math.abs(x));
        else maxPruned = Math.max(maxPruned, Math.abs(x));
      });
    }
    expect(maxPruned).toBeLessThanOrEqual(minKept);
  });

  it('retraining keeps pruned weights exactly zero and masks reload into the same pruned model', async () => {
    const enc = await SentenceEncoder.load(tiny!);
    const weights = prunableWeights(enc, MLP_ONLY);
    const masks = allocateMasks((await scoreWeights(enc, 'magnitude', weights, {})).scores, 0.5, 'global');
    const before = new Map([...weights.keys()].map((n) => [n, Float32Array.from(enc.model.params.get(n)!.dataSync())]));
    const losses = await retrainMasked(enc, masks, finance, { steps: 4, batchSize: 3, lr: 1e-4, seed: 5 });
    expect(losses).toHaveLength(4);
    for (const [n, { data }] of masks.masks) {
      const w = enc.model.params.get(n)!.dataSync();
      let moved = 0;
      data.forEach((keep, i) => {
        if (!keep) expect(w[i] === 0, `${n}[${i}] = ${w[i]}`).toBe(true); // +0 or -0
        else if (w[i] !== before.get(n)![i]) moved++;
      });
      expect(moved, n).toBeGreaterThan(0); // kept weights did train
    }
    // save masks + model, reload both: same pruned model
    masks.save(path.join(tmp, 'masks.safetensors'), { method: 'magnitude', targetSparsity: 0.5 });
    await saveModel(enc.model, path.join(tmp, 'pruned'), { companionsFrom: tiny! });
    const { masks: reloaded } = MaskSet.load(path.join(tmp, 'masks.safetensors'));
    const model = loadModel(path.join(tmp, 'pruned'));
    for (const [n, { data }] of reloaded.masks) {
      expect(data).toEqual(masks.masks.get(n)!.data);
      const w = model.params.get(n)!.dataSync();
      expect(w).toEqual(enc.model.params.get(n)!.dataSync());
    }
    model.dispose();
    enc.dispose();
    expect(tf.memory().numTensors).toBeGreaterThan(0);
  });
});
