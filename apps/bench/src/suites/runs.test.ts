import { describe, expect, it } from 'vitest';
import { memoryIo } from '@prunekit/cli';
import { mean, pctCell, presetKind, runOrReuse, sd, seedsTaskResult } from './runs.js';
import type { BenchOutcome, BenchRunContext } from './types.js';

const context = (quick = false): BenchRunContext => ({
  io: memoryIo(), loadEncoder: () => Promise.reject(new Error('unused')), models: [], dataRoot: '/data', outDir: '/out', resultsDir: '/out/results',
  cacheDir: undefined, batchSize: 8, quick, tasksDirs: [],
});
const empty = (): BenchOutcome => ({ results: [], models: [], failures: [], notes: [] });

describe('runs: resumable run folders and mean ± sd over seeds', () => {
  it('mean, sample sd and percentage cells', () => {
    expect(mean([0.5, 0.7])).toBeCloseTo(0.6, 12);
    expect(sd([0.5, 0.7])).toBeCloseTo(0.2 / Math.SQRT2, 12);
    expect(sd([0.5])).toBe(0);
    expect(pctCell([])).toBe('–');
    expect(pctCell([0.8125])).toBe('81.3');
    expect(pctCell([0.5, 0.7])).toBe('60.0 ± 14.1');
  });

  it('runOrReuse: a finished folder is read back unannounced; else the run executes; an error is a failure and null', async () => {
    const ctx = context();
    const outcome = empty();
    let executed = 0;
    const reused = await runOrReuse(ctx, outcome, { key: 'r1', read: () => 'done', announce: 'never', failure: { model: 'm', task: 't' }, execute: () => { executed++; return Promise.resolve(); } });
    expect([reused, executed]).toEqual(['done', 0]);
    let written = false;
    const ran = await runOrReuse(ctx, outcome, { key: 'r2', read: () => (written ? 'new' : null), announce: 'run 2', failure: { model: 'm', task: 't' }, execute: () => { written = true; return Promise.resolve(); } });
    expect(ran).toBe('new');
    const failed = await runOrReuse(ctx, outcome, { key: 'r3', read: () => null, announce: 'run 3', failure: { model: 'm seed 1', task: 'glue_sst2' }, execute: () => Promise.reject(new Error('out of memory')) });
    expect(failed).toBeNull();
    expect(outcome.failures).toEqual([{ model: 'm seed 1', task: 'glue_sst2', error: 'out of memory' }]);
    expect((ctx.io as ReturnType<typeof memoryIo>).stderr).toBe('run 2\nrun 3\n');
  });

  it('seedsTaskResult: main score is the mean over seeds, std their sd, each seed listed', () => {
    const r = seedsTaskResult({
      task: 'glue_sst2-x', type: 'classification', domain: 'general', split: 'dev', mainMetric: 'accuracy', modelName: 'm a', fingerprint: 'fp',
      runs: [{ seed: 0, main: 0.5, seconds: 2 }, { seed: 1, main: 0.7, seconds: 3 }], metrics: { accuracy: 0.6 }, extra: { trainable_parameters: 10 },
    });
    expect(r).toMatchObject({ task_name: 'glue_sst2-x', model_name: 'm a', model_revision: 'fp', main_metric: 'accuracy', evaluation_time: 5 });
    expect(r.scores).toEqual({ dev: [{ hf_subset: 'default', languages: ['eng-Latn'], main_score: 0.6, accuracy: 0.6, std: sd([0.5, 0.7]), seeds: [0, 1], per_seed: [0.5, 0.7], trainable_parameters: 10 }] });
  });

  it('presetKind: each suite runs its preset, or the quick one under --quick', async () => {
    const seen: string[] = [];
    const kind = presetKind({
      name: 'k', description: 'd', presets: { quick: 'Q', default: 'D', full: 'F' },
      run: (_ctx, name, preset) => { seen.push(`${name}=${preset}`); return Promise.resolve(empty()); },
      suites: [['k', 'default', 'one'], ['k-full', 'full', 'two']],
    });
    const suites = kind.suites({ tasksDirs: [] });
    expect(suites.map((s) => [s.name, s.kind, s.description])).toEqual([['k', 'k', 'one'], ['k-full', 'k', 'two']]);
    for (const s of suites) {
      await s.run(context());
      await s.run(context(true));
    }
    expect(seen).toEqual(['default=D', 'quick=Q', 'full=F', 'quick=Q']);
  });
});
