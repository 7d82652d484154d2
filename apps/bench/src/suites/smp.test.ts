import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResults, mainScore } from '@prunekit/benchmarks-mteb';
import { memoryIo } from '@prunekit/cli-support';
import { loadBitMasks, runSmp } from '@prunekit/mask-smp';
import { MaskSet, loadModel, readManifest, readSafetensors } from '@prunekit/tensor-core';
import { fixtureModelFolder, mtimes, tempRoot, writeTinyDatasets } from '../test-support/tiny-classification.js';
import { run } from '../run.js';
import { SuiteRegistry } from './registry.js';
import { makeSmpKind, smpVerdicts, SMP_PRESETS, type SmpPreset } from './smp.js';

const TINY: SmpPreset = {
  tasks: ['glue_sst2'], keeps: [0.5, 0.1], methods: ['smp-l', 'smp-s', 'movement', 'magnitude-ft'], seeds: [0, 1], distil: true,
  steps: 4, batchSize: 8, maxLength: 24, maxTrain: 32, maxEval: 16, weightLr: 1e-4, head: 'prompt', lambdaR: 400, lambdaScale: 'paper',
};
const PRUNING_LABELS = ['smp-l', 'smp-s', 'movement', 'magnitude-ft', 'smp-s+kd'];
/** run folders in the order they run: dense fine-tuning of every seed, then per keep fraction and method every seed */
const RUNS = [...TINY.seeds.map((s) => `full-ft-keep1-seed${s}`), ...TINY.keeps.flatMap((k) => PRUNING_LABELS.flatMap((m) => TINY.seeds.map((s) => `${m}-keep${k}-seed${s}`)))];

interface SavedRuns {
  preset: string;
  rows: { method: string; keep: number; seed: number; main: number }[];
  compaction: { task: string; keep: number; variant: string; parameters: number; sizeRatio: number }[];
  notCompacted: { task: string; keep: number; variant: string; error: string }[];
}

/** attention and FFN linears of the 2-layer fixture: what SMP masks */
const PRUNABLE = /^bert\.encoder\.layer\.\d\.(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)\.weight$/;

describe('smp suite kind: a miniature run (bert-mlm fixture, synthetic glue_sst2)', () => {
  const root = tempRoot('pk-bench-smp-');
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });
  const data = writeTinyDatasets(path.join(root, 'datasets'));
  const model = fixtureModelFolder(root, 'mlm-model', 'bert-mlm');
  const out = path.join(root, 'bench');
  const runsDir = path.join(out, 'smp', 'runs', 'mlm-model', 'glue_sst2');
  const suites = (): SuiteRegistry => new SuiteRegistry().register(makeSmpKind({ presets: { ...SMP_PRESETS, quick: TINY } }));
  const argv = ['run', '--suite', 'smp', '--quick', '--models', model, '--data-root', data, '--out', out];
  const io = memoryIo();
  const first = run(argv, { io, suites: suites() });
  /** the runs a suite run announced (it announces only those it executes) */
  const executed = (stderr: string): string[] => [...stderr.matchAll(/^prunekit-bench smp \[\d+\/(\d+)\] glue_sst2 (\S+) keep (\S+) seed (\d)$/gm)].map((m) => `${m[2]} ${m[3]} seed ${m[4]} of ${m[1]}`);
  const folderOf = (announced: string): string => {
    const [label, keep, , seed] = announced.split(' ');
    return `${label}-keep${Number(keep!.replace('%', '')) / 100}-seed${seed}`;
  };

  it('runs every method at every keep fraction once, in its own folder', async () => {
    expect(await first, io.stderr).toBe(0);
    const announced = executed(io.stderr);
    expect(announced.map(folderOf)).toEqual(RUNS);
    expect(announced.every((a) => a.endsWith(' of 22'))).toBe(true);
    expect(fs.readdirSync(runsDir).sort()).toEqual([...RUNS].sort());
    for (const r of RUNS) {
      // each run folder is one artifact: the HF folder, its manifest (method, options, metrics) and the training report
      const manifest = readManifest(path.join(runsDir, r));
      expect(manifest.method, r).toBe(r.startsWith('full-ft') ? 'full-ft-mlm' : r.replace(/(\+kd)?-keep.*$/, ''));
      expect(manifest.options, r).toMatchObject({ steps: 4, batchSize: 8, maxLength: 24, maxTrain: 32, maxEval: 16, weightLr: 1e-4, head: 'prompt', seed: Number(r.slice(-1)) });
      expect(fs.existsSync(path.join(runsDir, r, 'config.json')), r).toBe(true);
      const metrics = JSON.parse(fs.readFileSync(path.join(runsDir, r, 'prunekit', 'training.json'), 'utf8')) as { method: string; keep: number; final: { main: number }; data: { trainExamples: number; evalExamples: number }; hyperparameters: { steps: number } };
      expect(metrics.hyperparameters.steps, r).toBe(4);
      expect(metrics.data, r).toMatchObject({ trainExamples: 32, evalExamples: 16 });
      expect(metrics.final.main, r).toBeGreaterThanOrEqual(0);
      expect(metrics.final.main, r).toBeLessThanOrEqual(1);
      expect((manifest.metrics as { score: number }).score, r).toBe(metrics.final.main);
    }
    // dense fine-tuning has no masks; its folder is the teacher of smp-s+kd of its seed
    for (const seed of TINY.seeds) {
      expect(fs.existsSync(path.join(runsDir, `full-ft-keep1-seed${seed}`, 'prunekit', 'masks.safetensors'))).toBe(false);
      for (const keep of TINY.keeps) {
        const kdManifest = readManifest(path.join(runsDir, `smp-s+kd-keep${keep}-seed${seed}`));
        expect(kdManifest.data.task, `kd ${keep} ${seed}`).toBeDefined();
        const kd = JSON.parse(fs.readFileSync(path.join(runsDir, `smp-s+kd-keep${keep}-seed${seed}`, 'prunekit', 'training.json'), 'utf8')) as { method: string; hyperparameters: { distillation: unknown } };
        expect(kd.method).toBe('smp-s');
        expect(kd.hyperparameters.distillation).toEqual({ temperature: 2, alpha: 0.5 });
      }
    }
  });

  it('masks keep exactly round(keep × n) weights: per matrix (SMP-L, movement, magnitude), per matrix kind (SMP-S)', async () => {
    await first;
    for (const run of RUNS.filter((r) => !r.startsWith('full-ft'))) {
      const [, label, keepS] = /^(.+)-keep([\d.]+)-seed\d$/.exec(run)!;
      const keep = Number(keepS);
      const { masks } = MaskSet.load(path.join(runsDir, run, 'prunekit', 'masks.safetensors'));
      const manifest = readManifest(path.join(runsDir, run));
      const names = masks.names();
      expect(names.length, run).toBe(12);
      expect(names.every((n) => PRUNABLE.test(n)), names.join()).toBe(true);
      const kept = (n: string): number => masks.masks.get(n)!.data.reduce((a, b) => a + b, 0);
      const size = (n: string): number => masks.masks.get(n)!.data.length;
      if (label!.startsWith('smp-s')) {
        // SMP-S allocates the budget across layers, matrix kind by matrix kind
        const kinds = new Map<string, string[]>();
        for (const n of names) {
          const kind = n.replace(/layer\.\d\./, '');
          kinds.set(kind, [...(kinds.get(kind) ?? []), n]);
        }
        expect(kinds.size).toBe(6);
        for (const [kind, ns] of kinds) expect(ns.reduce((a, n) => a + kept(n), 0), `${run} ${kind}`).toBe(Math.round(keep * ns.reduce((a, n) => a + size(n), 0)));
      } else {
        for (const n of names) expect(kept(n), `${run} ${n}`).toBe(Math.round(keep * size(n)));
      }
      expect(1 - manifest.sparsity!.total, run).toBeCloseTo(keep, 2);
    }
  });

  it('table, runs.json and report list every method and keep fraction; SMP-S is row-compacted where the plan allows it', async () => {
    await first;
    const table = fs.readFileSync(path.join(out, 'smp', 'table.md'), 'utf8');
    expect(table).toMatch(/^# SMP suite \(quick preset\)$/m);
    expect(table).toMatch(/^## glue_sst2 \(accuracy, ×100, mean ± sd over 2 seeds\)$/m);
    expect(table).toMatch(/^Dense fine-tuning: \d+\.\d ± \d+\.\d$/m);
    // 24 dev rows alternating 0/1, subsampled to 16: the majority class is at least half
    expect(table).toMatch(/^References \(first model\): majority class (5\d|6\d)\.\d; the pretrained label-word head .* \d+\.\d\.$/m);
    expect(table).toContain('| method | 50% | 10% |');
    for (const m of PRUNING_LABELS) expect(table).toMatch(new RegExp(`^\\| ${m.replace('+', '\\+')} \\| \\d+\\.\\d ± \\d+\\.\\d \\| \\d+\\.\\d ± \\d+\\.\\d \\|$`, 'm'));
    expect(table).toMatch(/^Setup: 4 steps of batch 8 \(inputs ≤ 24 tokens\), template \[MASK\] label-word head, .*training sets subsampled to 32 and evaluation sets to 16 examples/m);
    // nothing beats the majority class in 4 steps: no verdicts, the task is listed apart
    expect(table).toMatch(/^Not learned in this budget .*: glue_sst2\.$/m);
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'smp', 'runs.json'), 'utf8')) as SavedRuns;
    expect(saved.preset).toBe('quick');
    expect(saved.rows.map((r) => `${r.method}-keep${r.keep}-seed${r.seed}`)).toEqual(RUNS);
    // hidden size 32 at keep 10%: rows keep about 3 weights, so dropping rows with < 10 kept would
    // remove every head of a layer; that plan is reported as impossible and the rest is still measured
    expect(saved.compaction.map((c) => `${c.task} ${c.keep} ${c.variant.split(' ')[0]}`)).toEqual(['- 1 dense', 'glue_sst2 0.1 exact', 'glue_sst2 0.5 exact', 'glue_sst2 0.5 rows/columns']);
    expect(saved.notCompacted).toEqual([{ task: 'glue_sst2', keep: 0.1, variant: 'rows/columns with < 10 kept weights removed', error: expect.stringMatching(/the plan removes every attention head/) as unknown }]);
    expect(table).toMatch(/^Not compacted: glue_sst2 at keep 10%, rows\/columns with < 10 kept weights removed: layer \d: the plan removes every attention head/m);
    const exact10 = saved.compaction.find((c) => c.keep === 0.1)!;
    expect(exact10.sizeRatio).toBeLessThan(1);
    expect(exact10.parameters).toBeLessThan(saved.compaction[0]!.parameters);
    for (const c of saved.compaction.slice(1)) expect(c.sizeRatio, `${c.keep} ${c.variant}`).toBeLessThanOrEqual(1);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const name of ['mlm-model dense', ...TINY.keeps.flatMap((k) => PRUNING_LABELS.map((m) => `mlm-model ${m} ${k * 100}%`))]) expect(md, name).toContain(name);
    expect(md).toMatch(/SMP-S row compaction not possible for glue_sst2 at keep 10% \(rows\/columns with < 10 kept weights removed\)/);
    expect(io.stdout).toMatch(/^11 results, 1 models, wall time/m);
    // one result per method and keep fraction: the mean over both seeds, with each seed's score
    const results = JSON.parse(fs.readFileSync(path.join(out, 'smp', 'runs.json'), 'utf8')) as SavedRuns;
    const perSeed = (m: string, k: number): number[] => results.rows.filter((r) => r.method === m && r.keep === k).map((r) => r.main);
    const dense = perSeed('full-ft', 1);
    expect(dense).toHaveLength(2);
    expect(table).toContain(`Dense fine-tuning: ${(50 * (dense[0]! + dense[1]!)).toFixed(1)} ± ${(100 * Math.abs(dense[0]! - dense[1]!) / Math.SQRT2).toFixed(1)}`);
    const l50 = perSeed('smp-l', 0.5);
    expect(table).toContain(`| smp-l | ${(50 * (l50[0]! + l50[1]!)).toFixed(1)} ± ${(100 * Math.abs(l50[0]! - l50[1]!) / Math.SQRT2).toFixed(1)} |`);
    // the seed-averaged results are stored in MTEB's layout too, so `report` redraws them
    const stored = readResults(path.join(out, 'results'));
    expect(stored).toHaveLength(11);
    const storedDense = stored.find((r) => r.model_name.endsWith('dense'))!;
    expect(mainScore(storedDense)).toBeCloseTo((dense[0]! + dense[1]!) / 2, 10);
    const redraw = memoryIo();
    expect(await run(['report', '--results', path.join(out, 'results'), '--out', path.join(out, 'redrawn.md')], { io: redraw, suites: suites() }), redraw.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, 'redrawn.md'), 'utf8')).toContain(storedDense.model_name);
  });

  it('a second run reuses every finished run folder; a removed one is run again, alone', async () => {
    await first;
    const before = mtimes(runsDir);
    // everything but the compacted models' timings, which are measured again
    const scores = (): string => fs.readFileSync(path.join(out, 'smp', 'table.md'), 'utf8').split('## Row-compacted')[0]!;
    const rows = (): SavedRuns['rows'] => (JSON.parse(fs.readFileSync(path.join(out, 'smp', 'runs.json'), 'utf8')) as SavedRuns).rows;
    const [table, saved] = [scores(), rows()];
    const again = memoryIo();
    expect(await run(argv, { io: again, suites: suites() }), again.stderr).toBe(0);
    expect(executed(again.stderr)).toEqual([]);
    expect(mtimes(runsDir)).toEqual(before);
    expect(scores()).toBe(table);
    expect(rows()).toEqual(saved);

    fs.rmSync(path.join(runsDir, 'movement-keep0.1-seed1'), { recursive: true });
    const third = memoryIo();
    expect(await run(argv, { io: third, suites: suites() }), third.stderr).toBe(0);
    expect(executed(third.stderr)).toEqual(['movement 10% seed 1 of 22']);
    const after = mtimes(runsDir);
    for (const [f, t] of before) if (!f.startsWith('movement-keep0.1-seed1')) expect(after.get(f), f).toBe(t);
    expect(fs.existsSync(path.join(runsDir, 'movement-keep0.1-seed1', 'prunekit', 'manifest.json'))).toBe(true);
    expect(rows()).toHaveLength(22);
  });

  it('registry path gives the masks, weights and scores runSmp gives (SMP-S and SMP-L at keep 50%, seed 1)', async () => {
    await first;
    for (const method of ['smp-s', 'smp-l'] as const) {
      const direct = path.join(root, `direct-${method}`);
      const res = await runSmp({
        model, task: 'glue_sst2', datasets: data, out: direct, method, keep: 0.5, seed: 1,
        steps: TINY.steps, batchSize: TINY.batchSize, maxLength: TINY.maxLength, maxTrain: TINY.maxTrain, maxEval: TINY.maxEval,
        weightLr: TINY.weightLr, head: TINY.head, lambdaR: TINY.lambdaR, lambdaScale: TINY.lambdaScale, checkpointEvery: 25, exportModel: true,
      });
      const suiteRun = path.join(runsDir, `${method}-keep0.5-seed1`);
      const viaRegistry = MaskSet.load(path.join(suiteRun, 'prunekit', 'masks.safetensors')).masks;
      const { masks } = loadBitMasks(direct);
      expect(viaRegistry.names().sort(), method).toEqual(masks.names().sort());
      for (const n of masks.names()) expect(Buffer.from(viaRegistry.masks.get(n)!.data).equals(Buffer.from(masks.masks.get(n)!.data)), `${method} ${n}`).toBe(true);
      const manifest = readManifest(suiteRun);
      expect((manifest.metrics as { score: number; scores: unknown }).score, method).toBe(res.final.main);
      expect((manifest.metrics as { scores: unknown }).scores, method).toEqual(res.final.scores);
      // W ⊙ M as runSmp's model/ export writes it (=== : the artifact stores +0.0 where the export may hold −0.0)
      const a = readSafetensors(path.join(suiteRun, 'model.safetensors')).tensors;
      const b = readSafetensors(path.join(direct, 'model', 'model.safetensors')).tensors;
      expect([...a.keys()].sort(), method).toEqual([...b.keys()].sort());
      for (const [n, t] of b) {
        const x = a.get(n)!.data as Float32Array;
        const y = t.data as Float32Array;
        expect(x.length, n).toBe(y.length);
        let same = true;
        for (let i = 0; i < y.length && same; i++) same = x[i] === y[i];
        expect(same, `${method} ${n}`).toBe(true);
      }
    }
    // the artifact folder loads as a model (the teacher of distillation reads it so)
    const dense = loadModel(path.join(runsDir, 'full-ft-keep1-seed0'));
    expect(dense.config.head).toBe('mlm');
    dense.dispose();
  });

  it('a model without a masked-LM head stops the suite with that reason; the failure is reported (SMP reads labels through the MLM head)', async () => {
    await first;
    const base = fixtureModelFolder(root, 'base-model', 'bert-base');
    const err = memoryIo();
    expect(await run(['run', '--suite', 'smp', '--quick', '--models', base, '--data-root', data, '--out', path.join(root, 'bench-base')], { io: err, suites: suites() })).toBe(1);
    expect(err.stderr.split('\n')[0]).toBe('prunekit-bench: suite smp stopped: the label-word head needs a masked-LM checkpoint (BertForMaskedLM / RobertaForMaskedLM); this model\'s head is "base"');
    expect(err.stderr).toMatch(/1 task runs failed \(\(suite\)\/smp\); see report\.md/);
    expect(fs.existsSync(path.join(root, 'bench-base', 'report.md'))).toBe(true);
  });
});

describe('smpVerdicts: the claims judged on means over seeds', () => {
  const row = (task: string, method: string, keep: number, main: number) => ({ task, method, keep, main });
  it('holds, fails and leaves untested per claim; a task nothing learns gets no verdicts', () => {
    const rows = [
      row('a', 'full-ft', 1, 0.8), row('a', 'full-ft', 1, 0.82),
      row('a', 'smp-l', 0.8, 0.81), row('a', 'smp-l', 0.8, 0.83),
      row('a', 'smp-s', 0.1, 0.7), row('a', 'smp-l', 0.1, 0.72), row('a', 'movement', 0.1, 0.6),
      row('b', 'full-ft', 1, 0.51), row('b', 'smp-l', 0.8, 0.5),
    ];
    const { verdicts, unlearned } = smpVerdicts(rows, new Map([['a', 0.5], ['b', 0.5]]));
    expect(unlearned).toEqual(['b']);
    expect(verdicts.map((v) => [v.task, v.claim, v.held])).toEqual([
      ['a', 'SMP-L at 80% keep ≥ dense fine-tuning', true],
      ['a', 'SMP-S ≥ SMP-L ≥ movement at 10% keep', false],
      ['a', 'SMP-S ≥ SMP-L ≥ movement at 3% keep', null],
    ]);
    expect(verdicts[0]!.detail).toBe('SMP-L 80% 82.0 ± 1.4 (n = 2) ≥ dense 81.0 ± 1.4 (n = 2)');
  });
});
