// Seeded FineGates / LoRA / BitFit / full fine-tuning runs are deterministic: per-step losses, the
// trained variables (hashed), the head and the predictions must equal the recorded reference
// (test-support/golden/train.json; re-recorded when dropout masks moved to tensor-core's dropout()).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, it } from 'vitest';
import { initBackend } from '@prunekit/tensor-core';
import { expectGolden, hashTensors } from '../../../tools/test-support/golden.js';
import { METHODS, createAdapter } from './adapters.js';
import { ClassificationHead } from './head.js';
import { syntheticSet, tinyModel } from './test-support/tiny.js';
import { predict, trainClassifier, type StepInfo } from './train.js';

const golden = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-support', 'golden', 'train.json');
beforeAll(async () => {
  await initBackend();
});

describe('seeded FineGates-family runs reproduce the recorded reference', () => {
  it('every method, 5 steps of batch 8 over 24 rows (an epoch boundary at step 3), weight decay 0.01', () => {
    const data = syntheticSet(24, 3);
    const runs: Record<string, unknown> = {};
    for (const method of METHODS) {
      const { full, model } = tinyModel();
      const adapter = createAdapter(method, model, { targetSparsity: 0.4, seed: 2 });
      const head = ClassificationHead.create(32, 3, { seed: 2 });
      const steps: StepInfo[] = [];
      const r = trainClassifier(model, adapter, head, data, { steps: 5, batchSize: 8, lr: 1e-2, headLr: 1e-3, gateLr: 5e-2, weightDecay: 0.01, seed: 4, padId: 0, onStep: (s) => steps.push(s) });
      const vars = hashTensors([...adapter.variables, ...head.params].map(([n, v]) => [n, { shape: v.shape, data: v.dataSync() }]));
      runs[method] = { losses: r.losses, steps, vars, pred: Array.from(predict(model, adapter, head, data, 0)) };
      adapter.dispose();
      head.dispose();
      full.dispose();
    }
    expectGolden(golden, runs);
  });
});
