// The protocol fixes of issue #17: tie-breaking without index bias, the size-independent
// regulariser, the authors' SMP-S temperature, the regulariser-dominance warning, and a sanity
// check that a high keep fraction is not worse than a low one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASSIFICATION_TASKS, initBackend, loadModel } from '@prunekit/tensor-core';
import { TASKS } from './tasks.js';
import { BERT_BASE_SCORES, authorsTemperature, effectiveLambda, trainMethod, type TrainData } from './train.js';
import { tinySetup, tinySst2Data } from './test-support/tiny.js';

const tiny = tinySetup();
let data: TrainData;
beforeAll(async () => {
  await initBackend();
  data = await tinySst2Data(tiny);
});
afterAll(() => {
  tiny.cleanup();
});

/**
 * Share of the pruned weights that lie in the second half (row-major) of their matrix when Top-v
 * at keep 0.2 is taken from the initial scores (score lr 0: every score keeps its initial value,
 * the extreme of the ties that AdamW's first ±lr steps create).
 */
async function prunedInSecondHalf(scoreInitNoise: number): Promise<number> {
  const model = loadModel(tiny.model);
  try {
    const r = await trainMethod(model, data, { method: 'smp-l', keep: 0.2, steps: 1, finalHold: 0, batchSize: 16, scoreLr: 0, scoreInitNoise, dropout: false });
    let late = 0;
    let pruned = 0;
    for (const { data: bits } of r.masks!.masks.values()) {
      const half = Math.floor(bits.length / 2);
      for (let i = 0; i < bits.length; i++) {
        if (bits[i] === 0) {
          pruned++;
          if (i >= half) late++;
        }
      }
    }
    return late / pruned;
  } finally {
    model.dispose();
  }
}

describe('SMP protocol', () => {
  it('ties at the Top-v cut are broken at random, not by index (constant init shows the bias)', async () => {
    const biased = await prunedInSecondHalf(0);
    const fair = await prunedInSecondHalf(1e-6);
    // with the authors' constant 0 the ties go to the lower index: pruning takes the matrices' ends
    // (keep 0.2 keeps the first 20% of every matrix: 50/80 of the pruned weights are in the second half)
    expect(biased).toBeCloseTo(0.625, 2);
    expect(Math.abs(fair - 0.5)).toBeLessThan(0.05);
  });

  it("per-score λ scaling: the authors' BERT-base is unchanged, a smaller model gets λ·N/N_BERT-base", () => {
    expect(BERT_BASE_SCORES).toBe(84_934_656);
    expect(effectiveLambda(400, 'per-score', BERT_BASE_SCORES)).toBe(400);
    // mini-mlm: 4 layers × (4·256² + 2·256·1024) = 3,145,728 scores
    expect(effectiveLambda(400, 'per-score', 3_145_728)).toBeCloseTo(14.815, 3);
    expect(effectiveLambda(400, 'paper', 3_145_728)).toBe(400);
  });

  it("one task table: files, labels and metrics are tensor-core's; label words are the authors' first", () => {
    for (const t of Object.values(TASKS)) {
      const c = CLASSIFICATION_TASKS[t.name]!;
      expect([t.input, t.labels, t.trainFile, t.evalFile, t.metric]).toEqual([c.input, c.labels, c.trainFile, c.evalFile, c.metric]);
    }
    // kongds/SMP run.sh: METRIC=accuracy for MRPC, LABEL_MAP terrible/great for SST-2
    expect(TASKS.glue_mrpc!.metric).toBe('accuracy');
    expect(TASKS.glue_sst2!.labelWords.map((w) => w[0])).toEqual(['terrible', 'great']);
  });

  it("SMP-S temperature follows the authors' run.sh: p = 4 at keep ≥ 0.7, else 1", () => {
    expect([0.8, 0.7, 0.69, 0.5, 0.1, 0.03].map(authorsTemperature)).toEqual([4, 4, 1, 1, 1, 1]);
  });

  it('warns when the regulariser out-pushes the task on more scores than are to be pruned', async () => {
    const model = loadModel(tiny.model);
    try {
      const warnings: string[] = [];
      const strong = await trainMethod(model, data, { method: 'smp-l', keep: 0.9, steps: 1, finalHold: 0, batchSize: 16, lambdaR: 1e6 }, { onWarning: (w) => warnings.push(w) });
      expect(strong.regulariserCheck!.belowShare).toBeGreaterThan(0.1);
      expect(strong.regulariserCheck!.warning).toMatch(/regulariser stronger than the task/);
      expect(warnings).toHaveLength(1);
      const weak = await trainMethod(model, data, { method: 'smp-l', keep: 0.9, steps: 1, finalHold: 0, batchSize: 16, lambdaR: 1e-9 });
      expect(weak.regulariserCheck!.warning).toBeNull();
      expect(weak.regulariserCheck!.belowShare).toBeLessThan(strong.regulariserCheck!.belowShare);
      const ft = await trainMethod(model, data, { method: 'movement', keep: 0.9, steps: 1, finalHold: 0, batchSize: 16 });
      expect(ft.regulariserCheck).toBeNull();
      ft.weights?.forEach((t) => {
        t.dispose();
      });
    } finally {
      model.dispose();
    }
  });

  it('sanity: SMP at a high keep fraction is at least as good as at a low one', async () => {
    const model = loadModel(tiny.model);
    try {
      const at = async (keep: number): Promise<number> => (await trainMethod(model, data, { method: 'smp-l', keep, steps: 40, finalHold: 10, batchSize: 16, lambdaScale: 'per-score' })).final.main;
      const high = await at(0.8);
      const low = await at(0.05);
      expect(high).toBeGreaterThanOrEqual(low);
    } finally {
      model.dispose();
    }
  });
});
