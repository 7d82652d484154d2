// Seeded retraining and gradient statistics are deterministic: per-step losses and a hash of the
// retrained weights / accumulated statistics must equal the recorded reference
// (test-support/golden/train.json; re-recorded when dropout masks moved to tensor-core's dropout()).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { MLP_ONLY, SentenceEncoder, allocateMasks, initBackend } from '@prunekit/tensor-core';
import { sharedPath } from '../../../tools/test-support/shared.js';
import { expectGolden, hashTensors } from '../../../tools/test-support/golden.js';
import { computeGradStats } from './gradstats.js';
import { prunableWeights, scoreWeights } from './score.js';
import { retrainMasked } from './retrain.js';
import type { Triplet } from './triplets.js';

const golden = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-support', 'golden', 'train.json');
const tiny = sharedPath('models/tiny-encoder');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-sf-golden-'));
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });
beforeAll(async () => {
  await initBackend();
});

// authored triplets (not from any dataset)
const triplets: Triplet[] = [
  ['What was the net revenue in 2019?', 'Net revenue for fiscal 2019 was $4.2 billion, up 8%.', 'The company was founded in 1987 in Ohio.'],
  ['How much debt matures next year?', 'Long-term debt of $350 million matures in 2021.', 'Our employees volunteer in local schools.'],
  ['What is the dividend per share?', 'The board declared a quarterly dividend of $0.42 per share.', 'The headquarters building has twelve floors.'],
  ['Operating margin change', 'Operating margin declined 120 basis points to 14.1%.', 'We opened three new stores in Texas.'],
  ['Goodwill impairment charge', 'We recorded a goodwill impairment of $85 million in Q3.', 'The CEO holds a degree in engineering.'],
  ['Cash from operations', 'Cash provided by operating activities was $1.1 billion.', 'Our logo was redesigned last spring.'],
].map(([query, positive, negative]) => ({ query: query!, positive: positive!, negative: negative! }));

describe.skipIf(!tiny)('seeded retraining and statistics reproduce the recorded reference', () => {
  it('retraining: 5 steps of 2 triplets over 6 (an epoch boundary at step 4), warm-up 1; statistics with a checkpoint every batch', async () => {
    const enc = await SentenceEncoder.load(tiny!);
    const weights = prunableWeights(enc, MLP_ONLY);
    const params = [...weights.keys()];
    const stats = await computeGradStats(enc, triplets, { params, batchSize: 4, seed: 2, checkpoint: { file: path.join(tmp, 'stats.safetensors'), every: 1 } });
    const masks = allocateMasks((await scoreWeights(enc, 'magnitude', weights, {})).scores, 0.5, 'per-matrix');
    const losses = await retrainMasked(enc, masks, triplets, { steps: 5, batchSize: 2, lr: 1e-4, warmupSteps: 1, seed: 5 });
    const retrained = hashTensors([...enc.model.params].map(([n, t]) => [n, { shape: t.shape, data: t.dataSync() }]));
    expectGolden(golden, {
      stats: { fisher: hashTensors([...stats.fisher].map(([n, f]) => [n, { shape: stats.shapes.get(n)!, data: f }])), meanGrad: hashTensors([...stats.meanGrad].map(([n, f]) => [n, { shape: stats.shapes.get(n)!, data: f }])), numBatches: stats.numBatches },
      retrain: { losses, weights: retrained },
    });
    enc.dispose();
  });
});
