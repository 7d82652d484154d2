// Recovery after structural removal on the bundled tiny-encoder: distillation distances by hand, a student
// equal to its teacher starts at zero distillation loss, training keeps the compacted shapes and lowers
// the loss, and bad settings are clear errors.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { SentenceEncoder, initBackend, type EncoderModel } from '@prunekit/tensor-core';
import { workspaceRoot } from '../../../tools/test-support/shared.js';
import { distillDistance, recoverStructured } from './recover.js';
import { pruneStructured, scoreGroups, structuredParameterNames } from './structured.js';
import type { Triplet } from './triplets.js';

const modelDir = path.join(workspaceRoot, 'apps', 'cli', 'demo', 'tiny-encoder');
const domain: Triplet[] = [
  { query: 'net revenue in 2019', positive: 'Revenue for fiscal 2019 was 4.2 million dollars', negative: 'The weather was mild in spring' },
  { query: 'operating expenses growth', positive: 'Operating expenses rose 12 percent year over year', negative: 'She plays the violin every evening' },
  { query: 'cash dividends paid', positive: 'The company paid cash dividends of 0.50 per share', negative: 'The river flows into the northern sea' },
  { query: 'long-term debt maturity', positive: 'Long-term debt matures between 2025 and 2030', negative: 'A cat slept on the warm window sill' },
];
const general: Triplet[] = [
  { query: 'a man is playing a guitar', positive: 'someone plays the guitar' },
  { query: 'two dogs run in a field', positive: 'dogs are running on the grass' },
];

function compacted(enc: SentenceEncoder, sparsity: number): EncoderModel {
  const names = structuredParameterNames(enc.model, ['heads', 'neurons']);
  const mag = new Map(names.map((n) => {
    const t = enc.model.params.get(n)!;
    return [n, { shape: [...t.shape], scores: t.dataSync() as Float32Array }];
  }));
  return pruneStructured(enc.model, scoreGroups(enc.model, mag, { aggregate: 'l2' }), { sparsity, structure: ['heads', 'neurons'] }).model;
}

let teacher: SentenceEncoder;
beforeAll(async () => {
  await initBackend();
  teacher = await SentenceEncoder.load(modelDir);
});

describe('distillation distance', () => {
  it('1 − cosine and mean squared difference, by hand', () => {
    const s = tf.tensor2d([[1, 0], [0, 1]]);
    const t = tf.tensor2d([[2, 0], [1, 0]]);
    // cosines 1 and 0 → 1 − 0.5; squared differences (1, 0, 1, 1) / 4
    expect(distillDistance(s, t, 'cosine').dataSync()[0]).toBeCloseTo(0.5, 6);
    expect(distillDistance(s, t, 'mse').dataSync()[0]).toBeCloseTo(0.75, 6);
    tf.dispose([s, t]);
  });
});

describe('recoverStructured', () => {
  it('a student equal to the teacher starts at zero distillation loss', async () => {
    const copy = await SentenceEncoder.load(modelDir);
    try {
      const losses = await recoverStructured(copy, domain, { teacher, distill: 'cosine', general, steps: 1, batchSize: 4, dropout: false, lr: 0 });
      expect(losses[0]).toBeLessThan(1e-5);
    } finally {
      copy.dispose();
    }
  });

  it('trains the compacted model with distillation + InfoNCE: shapes kept, weights changed, loss falls', async () => {
    const small = compacted(teacher, 0.5);
    const student = new SentenceEncoder(small, teacher.tokenizer, teacher.pooling, teacher.maxLength, 'student');
    const shapes = new Map([...small.params].map(([n, t]) => [n, t.shape.join()]));
    const name = [...small.params.keys()].find((n) => n.includes('intermediate.dense.weight'))!;
    const before = small.params.get(name)!.dataSync().slice();
    const losses = await recoverStructured(student, domain, { teacher, distill: 'mse', general, contrastiveWeight: 1, steps: 6, batchSize: 4, dropout: false, lr: 1e-3, warmupSteps: 0 });
    expect(losses).toHaveLength(6);
    expect(losses[5]!).toBeLessThan(losses[0]!);
    for (const [n, t] of small.params) expect(t.shape.join(), n).toBe(shapes.get(n));
    const after = small.params.get(name)!.dataSync();
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    small.dispose();
  });

  it('clear errors for distillation without a teacher, no data, or no loss', async () => {
    await expect(recoverStructured(teacher, domain, { distill: 'cosine', steps: 1 })).rejects.toThrow(/needs the dense teacher/);
    await expect(recoverStructured(teacher, [], { steps: 1 })).rejects.toThrow(/needs domain triplets/);
    await expect(recoverStructured(teacher, domain, { steps: 1, contrastiveWeight: 0 })).rejects.toThrow(/positive contrastive or distillation weight/);
    await expect(recoverStructured(teacher, domain, { steps: 1, distill: 'kl' as 'mse', teacher })).rejects.toThrow(/distill must be cosine or mse/);
  });
});
