// Fisher, alignment and DAI on a tiny fixture model agree with a PyTorch reference
// (tools/fixtures/make_gaprune_refs.py) for the same batches, to 1e-5 relative.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, loadModel, readSafetensors, toFloat32, toInt32, type EncoderInputs, type HostTensor } from '@prunekit/tensor-core';
import { workspaceRoot } from '../../../tools/test-support/shared.js';
import { GradStatsAccumulator, fisherOf, type GradStats } from './gradstats.js';
import { alignment, matrixCosine } from './alignment.js';
import { balancedDaiScores, daiScores, type Weights } from './scorers.js';

const fixtures = path.join(workspaceRoot, 'tools', 'fixtures', 'data');
const { tensors, metadata } = readSafetensors(path.join(fixtures, 'gaprune', 'refs.safetensors'));
const params = metadata.params!.split(',');
const ref = (name: string): Float32Array => toFloat32(tensors.get(name) as HostTensor);

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return m / (s || 1);
}

function inputs(label: string, b: number, part: string): EncoderInputs {
  const t = (k: string): tf.Tensor2D => {
    const h = tensors.get(`${label}.${b}.${part}.${k}`)!;
    return tf.tensor2d(toInt32(h), h.shape as [number, number], 'int32');
  };
  const inputIds = t('input_ids');
  return { inputIds, attentionMask: t('attention_mask'), tokenTypeIds: tf.zerosLike(inputIds) };
}

let domain: GradStats;
let general: GradStats;
let domainChunked: GradStats;
let weights: Weights;

beforeAll(async () => {
  await initBackend();
  const model = loadModel(path.join(fixtures, 'models', 'bert-base'));
  const run = (label: string, microBatch?: number): GradStats => {
    const acc = new GradStatsAccumulator(model, params, 'mean', microBatch === undefined ? {} : { microBatch });
    for (let b = 0; b < 3; b++) {
      const batch = { query: inputs(label, b, 'q'), positive: inputs(label, b, 'p'), negative: inputs(label, b, 'n') };
      const loss = acc.add(batch);
      expect(Math.abs(loss - ref(`${label}.${b}.loss`)[0]!)).toBeLessThan(1e-5);
      for (const part of Object.values(batch)) tf.dispose(Object.values(part));
    }
    const r = acc.result();
    acc.dispose();
    return r;
  };
  domain = run('domain');
  general = run('general');
  // two-stage (GradCache-style) gradients, 1 sequence per backward pass
  domainChunked = run('domain', 1);
  weights = new Map(params.map((n) => [n, { shape: [...model.params.get(n)!.shape], data: model.params.get(n)!.dataSync() as Float32Array }]));
});

describe('GAPrune statistics against PyTorch', () => {
  it('diagonal Fisher and mean gradients, domain and general', () => {
    for (const n of params) {
      expect(relDiff(domain.fisher.get(n)!, ref(`domain.fisher.${n}`)), n).toBeLessThanOrEqual(1e-5);
      expect(relDiff(domain.meanGrad.get(n)!, ref(`domain.grad.${n}`)), n).toBeLessThanOrEqual(1e-5);
      expect(relDiff(general.fisher.get(n)!, ref(`general.fisher.${n}`)), n).toBeLessThanOrEqual(1e-5);
      expect(relDiff(general.meanGrad.get(n)!, ref(`general.grad.${n}`)), n).toBeLessThanOrEqual(1e-5);
    }
    expect(domain.numBatches).toBe(3);
  });

  it('the micro-batched (two-stage) accumulation gives the same Fisher and mean gradients', () => {
    for (const n of params) {
      expect(relDiff(domainChunked.fisher.get(n)!, ref(`domain.fisher.${n}`)), n).toBeLessThanOrEqual(1e-5);
      expect(relDiff(domainChunked.meanGrad.get(n)!, ref(`domain.grad.${n}`)), n).toBeLessThanOrEqual(1e-5);
    }
    expect(domainChunked.numBatches).toBe(3);
    expect(() => new GradStatsAccumulator(loadModel(path.join(fixtures, 'models', 'bert-base')), params, 'mean', { microBatch: 0 })).toThrow(/microBatch must be a positive integer/);
  });

  it('alignment per matrix and per weight (3×3 smoothed)', () => {
    for (const n of params) {
      const gd = domain.meanGrad.get(n)!;
      const gg = general.meanGrad.get(n)!;
      expect(Math.abs(matrixCosine(gd, gg) - ref(`align_pm.${n}`)[0]!)).toBeLessThanOrEqual(1e-5);
      expect(relDiff(alignment(gd, gg, weights.get(n)!.shape, 'per-weight'), ref(`align_pw.${n}`)), n).toBeLessThanOrEqual(1e-5);
    }
  });

  it('DAI with per-matrix and per-weight alignment, and z-score+sigmoid rescaling', () => {
    const pm = daiScores(weights, domain, general, { alignment: 'per-matrix' });
    const pw = daiScores(weights, domain, general, { alignment: 'per-weight' });
    const zs = daiScores(weights, domain, general, { alignment: 'per-weight', rescale: 'zscore-sigmoid' });
    for (const n of params) {
      // prunekit stores DAI − ln 2 (same order; see scorers.ts)
      const plusLn2 = (x: Float32Array): Float32Array => x.map((v) => v + Math.LN2);
      expect(relDiff(plusLn2(pm.get(n)!.scores), ref(`dai_pm.${n}`)), n).toBeLessThanOrEqual(1e-5);
      expect(relDiff(plusLn2(pw.get(n)!.scores), ref(`dai_pw.${n}`)), n).toBeLessThanOrEqual(1e-5);
      expect(relDiff(zs.get(n)!.scores, ref(`dai_pw_zsig.${n}`)), n).toBeLessThanOrEqual(1e-5);
    }
  });

  it('the official code\'s Fisher normalisation (Σ g² ÷ samples) and DAI under it', () => {
    expect(domain.numSamples).toBe(6);
    expect(domainChunked.numSamples).toBe(6);
    for (const n of params) {
      expect(relDiff(fisherOf(domain, n, 'samples')!, ref(`domain.fisher_samples.${n}`)), n).toBeLessThanOrEqual(1e-5);
      expect(relDiff(fisherOf(general, n, 'samples')!, ref(`general.fisher_samples.${n}`)), n).toBeLessThanOrEqual(1e-5);
      // batches (default) is B = 2 times larger than samples, away from the 1e-8 floor
      expect(relDiff(fisherOf(domain, n, 'batches')!, ref(`domain.fisher.${n}`)), n).toBeLessThanOrEqual(1e-5);
    }
    const official = daiScores(weights, domain, general, { alignment: 'per-weight', fisherNormalisation: 'samples' });
    const manual = new Map(params.map((n) => [n, official.get(n)!.scores]));
    // DAI recomputed from the reference's sample-normalised Fisher (the formula written out here, independently)
    for (const n of params) {
      const w = weights.get(n)!.data;
      const fd = ref(`domain.fisher_samples.${n}`);
      const fg = ref(`general.fisher_samples.${n}`);
      const a = ref(`align_pw.${n}`);
      const expected = w.map((x, i) => {
        const m = Math.abs(x);
        const z = (fd[i]! * m - fg[i]! * m) * Math.min(1.2, Math.max(0.8, 1 + 0.2 * a[i]!)) + 0.5 * Math.sqrt(m + 1e-8);
        return Math.log1p(Math.exp(z)) - Math.LN2;
      });
      expect(relDiff(manual.get(n)!, expected), n).toBeLessThanOrEqual(1e-5);
    }
    const stale: GradStats = { ...domain };
    delete stale.numSamples;
    expect(() => fisherOf(stale, params[0]!, 'samples')).toThrow(/number of samples/);
  });

  it('gaprune-balanced (prunekit variant) per matrix and per weight', () => {
    const pm = balancedDaiScores(weights, domain, general, { alignment: 'per-matrix' });
    const pw = balancedDaiScores(weights, domain, general, { alignment: 'per-weight' });
    for (const n of params) {
      expect(relDiff(pm.get(n)!.scores, ref(`dai_balanced_pm.${n}`)), n).toBeLessThanOrEqual(1e-5);
      expect(relDiff(pw.get(n)!.scores, ref(`dai_balanced_pw.${n}`)), n).toBeLessThanOrEqual(1e-5);
    }
  });
});
