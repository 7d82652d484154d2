import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryIo } from '@prunekit/cli-support';
import { runGates } from '@prunekit/gates-finegates';
import { layerLinearParameters, loadModel, readManifest, readSafetensors } from '@prunekit/tensor-core';
import { FIXTURE_MODELS, fixtureModelFolder, mtimes, tempRoot, writeTinyDatasets } from '../test-support/tiny-classification.js';
import { run } from '../run.js';
import { SuiteRegistry } from './registry.js';
import { FINEGATES_PRESETS, makeFineGatesKind, type FineGatesPreset } from './finegates.js';

const TINY: FineGatesPreset = {
  tasks: ['glue_sst2', 'financial_phrasebank'], sparsities: [0.2, 0.4], baselines: ['full-ft', 'lora', 'bitfit'], seeds: [0, 1],
  steps: 6, batchSize: 8, maxLength: 24, maxTrain: 32, maxTest: 16, gateTravel: 5, sparsityStartStep: 2,
  speedBatches: { one: 1, many: 1, repeats: 1 }, speedAllSeeds: false,
};
const LABELS = ['full-ft', 'lora', 'bitfit', 'finegates-0.2', 'finegates-0.4'];
const CLASSES: Record<string, number> = { glue_sst2: 2, financial_phrasebank: 3 };
/** the two model folders: a masked-LM model and a bare encoder (BertModel with a pooler, no MLM head) */
const MODELS = { 'mlm-model': 'bert-mlm', 'base-model': 'bert-base' } as const;

// the fixtures: hidden 32, FFN 64, 2 layers, LoRA rank 4 on query and value
const H = 32;
const I = 64;
const L = 2;
const head = (classes: number): number => H * H + H + classes * H + classes;

/** Sizes of the fixture's encoder tensors (embeddings and layers; no pooler or MLM head) whose name passes `keep`. */
function encoderSize(fixture: string, keep: (name: string) => boolean): number {
  let n = 0;
  for (const [name, t] of readSafetensors(path.join(FIXTURE_MODELS, fixture, 'model.safetensors')).tensors) {
    const bare = name.replace(/^bert\./, '');
    if (/^(embeddings|encoder)\./.test(bare) && keep(bare)) n += t.shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

interface Report {
  method: string;
  settings: { sparsity: number | null; steps: number; gateLr: number | null };
  data: { train: number; test: number; labels: string[] };
  trainable: { adapter: number; head: number; total: number };
  removal: { linearBefore: number; linearAfter: number; linearRemovedFraction: number } | null;
  compactMaxDiff: number | null;
}

describe('finegates suite kind: a miniature run (bert-mlm and bert-base fixtures, synthetic glue_sst2 and financial_phrasebank)', () => {
  const root = tempRoot('pk-bench-finegates-');
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });
  const data = writeTinyDatasets(path.join(root, 'datasets'));
  const models = Object.entries(MODELS).map(([name, fixture]) => fixtureModelFolder(root, name, fixture));
  const out = path.join(root, 'bench');
  const runsDir = path.join(out, 'finegates', 'runs');
  const speedDir = path.join(out, 'finegates', 'speed');
  const speedFile = (r: string): string => path.join(speedDir, `${r}.json`);
  const suites = (): SuiteRegistry => new SuiteRegistry().register(makeFineGatesKind({ presets: { ...FINEGATES_PRESETS, quick: TINY } }));
  const argv = ['run', '--suite', 'finegates', '--quick', '--models', models.join(','), '--data-root', data, '--out', out];
  const io = memoryIo();
  const first = run(argv, { io, suites: suites() });
  /** run folders, relative to runsDir, in the order the suite runs them */
  const RUNS = Object.keys(MODELS).flatMap((m) => TINY.tasks.flatMap((t) => TINY.seeds.flatMap((s) => LABELS.map((l) => `${m}/${t}/${l}-seed${s}`))));
  const announced = (stderr: string): string[] => [...stderr.matchAll(/^prunekit-bench finegates \[\d+\/20\] (\S+) (\S+) (\S+) seed (\d)$/gm)].map((m) => `${m[1]}/${m[2]}/${m[3]}-seed${m[4]}`);
  const report = (r: string): Report => JSON.parse(fs.readFileSync(path.join(runsDir, r, 'prunekit', 'training.json'), 'utf8')) as Report;

  it('runs every method, task and seed once per model, the bare encoder (no MLM head) included', async () => {
    expect(await first, io.stderr).toBe(0);
    expect(announced(io.stderr)).toEqual(RUNS);
    for (const m of Object.keys(MODELS)) for (const t of TINY.tasks) expect(fs.readdirSync(path.join(runsDir, m, t)).sort(), `${m}/${t}`).toEqual(LABELS.flatMap((l) => TINY.seeds.map((s) => `${l}-seed${s}`)).sort());
    for (const r of RUNS) {
      const rep = report(r);
      expect(rep.settings.steps, r).toBe(6);
      expect(rep.data, r).toMatchObject({ train: 32, test: 16, labels: r.includes('glue_sst2') ? ['0', '1'] : ['negative', 'neutral', 'positive'] });
      // each run folder is one artifact: the HF folder, its manifest (method, options, metrics), the head and the training report
      const manifest = readManifest(path.join(runsDir, r));
      const method = r.split('/')[2]!.replace(/-[\d.]+-seed\d$|-seed\d$/, '');
      expect(manifest.method, r).toBe(method);
      expect(manifest.kind, r).toBe(method === 'finegates' ? 'compacted-model' : 'fine-tuned-model');
      expect(manifest.options, r).toMatchObject({ steps: 6, batchSize: 8, maxLength: 24, maxTrain: 32, maxTest: 16, seed: Number(r.slice(-1)), ...(method === 'finegates' ? { sparsityStartStep: 2 } : {}) });
      expect(manifest.metrics, r).toMatchObject({ accuracy: expect.any(Number) as unknown, mcc: expect.any(Number) as unknown });
      expect(fs.existsSync(path.join(runsDir, r, 'prunekit', 'head.safetensors')), r).toBe(true);
      expect(fs.existsSync(path.join(runsDir, r, 'prunekit', 'gates.safetensors')), r).toBe(method === 'finegates');
      expect(fs.existsSync(path.join(runsDir, r, 'config.json')), r).toBe(true);
    }
  });

  it('trainable parameters follow the method: all encoder weights, LoRA A/B, biases only, gates + gated biases; plus the head', async () => {
    await first;
    for (const r of RUNS) {
      const [model, task, run] = r.split('/') as [keyof typeof MODELS, string, string];
      const fixture = MODELS[model];
      const method = run.replace(/-seed\d$/, '');
      const h = head(CLASSES[task]!);
      const expected = {
        'full-ft': encoderSize(fixture, () => true),
        lora: L * 2 * 4 * (H + H),
        bitfit: encoderSize(fixture, (n) => n.endsWith('.bias')),
        // row and column gates of Q, K, V, O, FFN up and down, and those linears' biases
        'finegates-0.2': L * (4 * (H + H) + 2 * (I + H) + 4 * H + I + H),
      } as Record<string, number>;
      expected['finegates-0.4'] = expected['finegates-0.2']!;
      expect(report(r).trainable, r).toEqual({ adapter: expected[method], head: h, total: expected[method]! + h });
    }
    // biases are a small part of the encoder; the MLM head and pooler are not trained
    expect(encoderSize('bert-mlm', (n) => n.endsWith('.bias'))).toBe(L * (4 * H + I + H + 2 * H) + H);
  });

  it('FineGates removes whole rows and columns: the saved compacted model has the reported attention+FFN size', async () => {
    await first;
    const linearBefore = L * (4 * (H * H + H) + (I * H + I) + (H * I + H));
    let removedAny = false;
    for (const r of RUNS.filter((x) => x.includes('finegates'))) {
      const rep = report(r);
      expect(rep.settings.sparsity, r).toBe(r.includes('finegates-0.2') ? 0.2 : 0.4);
      expect(rep.settings.gateLr, r).toBeCloseTo(5 / 6, 10);
      expect(rep.removal!.linearBefore, r).toBe(linearBefore);
      const compacted = loadModel(path.join(runsDir, r));
      try {
        expect(layerLinearParameters(compacted), r).toBe(rep.removal!.linearAfter);
      } finally {
        compacted.dispose();
      }
      expect(rep.removal!.linearRemovedFraction, r).toBeCloseTo((linearBefore - rep.removal!.linearAfter) / linearBefore, 12);
      expect(rep.compactMaxDiff!, r).toBeLessThan(1e-3);
      if (rep.removal!.linearAfter < linearBefore) removedAny = true;
      // speed is measured for the first seed only (speedAllSeeds false)
      expect(fs.existsSync(speedFile(r)), r).toBe(r.endsWith('seed0'));
    }
    expect(removedAny).toBe(true);
    for (const r of RUNS.filter((x) => !x.includes('finegates'))) {
      expect(report(r).removal, r).toBeNull();
      expect(fs.existsSync(speedFile(r)), r).toBe(false);
    }
  });

  it('the table has one row per method and model with scores, trainable and removed parameters; results carry them', async () => {
    await first;
    const table = fs.readFileSync(path.join(out, 'finegates', 'table.md'), 'utf8');
    expect(table).toMatch(/^# FineGates suite \(quick preset\)$/m);
    expect(table).toMatch(/^Setup: 6 steps of batch 8 \(inputs ≤ 24 tokens\) for every method, seeds 0, 1;/m);
    const rows = (JSON.parse(fs.readFileSync(path.join(out, 'finegates', 'runs.json'), 'utf8')) as { rows: { label: string; task: string; seed: number; removedLinear: number | null; removedTotal: number | null }[] }).rows;
    expect(rows.map((x) => `${x.task}/${x.label}-seed${x.seed}`)).toEqual(RUNS.map((r) => r.split('/').slice(1).join('/')));
    for (const model of Object.keys(MODELS)) {
      const section = table.split(`## ${model}\n`)[1]!.split(/\n## /)[0]!;
      expect(section).toContain('| method | glue_sst2 | financial_phrasebank | mean | trainable params | attn+FFN params removed | whole model removed |');
      for (const label of LABELS) {
        const trainable = [2, 3].map((c) => report(`${model}/glue_sst2/${label}-seed0`).trainable.adapter + head(c));
        const cells = new RegExp(`^\\| ${label} \\| \\d+\\.\\d ± \\d+\\.\\d \\| \\d+\\.\\d ± \\d+\\.\\d \\| \\d+\\.\\d \\| ${trainable[0]}–${trainable[1]} \\| (.+?) \\| (.+?) \\|`, 'm').exec(section);
        expect(cells, `${model} ${label}\n${section}`).not.toBeNull();
        if (label.startsWith('finegates')) {
          const removed = rows.filter((x, i) => x.label === label && RUNS[i]!.startsWith(`${model}/`)).map((x) => x.removedLinear!);
          expect(removed).toHaveLength(4);
          const mean = removed.reduce((a, b) => a + b, 0) / 4;
          expect(cells![1]).toMatch(new RegExp(`^${(100 * mean).toFixed(1)} ± \\d+\\.\\d%$`));
        } else {
          expect(cells![1]).toBe('0');
        }
      }
    }
    for (const sp of TINY.sparsities) {
      const whole = rows.filter((x) => x.label === `finegates-${sp}`).map((x) => x.removedTotal!);
      const wm = whole.reduce((a, b) => a + b, 0) / whole.length;
      expect(table).toMatch(new RegExp(`^- target ${sp}: ${(100 * wm).toFixed(1)} ± \\d+\\.\\d% of the whole model removed \\(\\d+\\.\\d ± \\d+\\.\\d% of attention\\+FFN\\); score -?\\d+\\.\\d ± \\d+\\.\\d points below full fine-tuning .*; gates closed \\d+\\.\\d ± \\d+\\.\\d%, half-open \\d+\\.\\d ± \\d+\\.\\d%`, 'm'));
    }
    expect(table).toMatch(/^- Claim "FineGates removes 20-40% of the whole model within a few points \(here ≤ 3\) of full fine-tuning with a measured CPU speedup": (HELD|NOT HELD) /m);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    for (const model of Object.keys(MODELS)) for (const label of LABELS) expect(md, `${model} ${label}`).toContain(`${model} ${label}`);
    expect(io.stdout).toMatch(/^20 results, 2 models, wall time/m);
  });

  it('a second run reuses every finished run folder; a FineGates run without its timing is run again', async () => {
    await first;
    const before = mtimes(runsDir);
    const again = memoryIo();
    expect(await run(argv, { io: again, suites: suites() }), again.stderr).toBe(0);
    expect(announced(again.stderr)).toEqual([]);
    expect(mtimes(runsDir)).toEqual(before);

    const timed = 'base-model/financial_phrasebank/finegates-0.4-seed0';
    fs.rmSync(speedFile(timed));
    const third = memoryIo();
    expect(await run(argv, { io: third, suites: suites() }), third.stderr).toBe(0);
    expect(announced(third.stderr)).toEqual([timed]);
    expect(fs.existsSync(speedFile(timed))).toBe(true);
    const after = mtimes(runsDir);
    for (const [f, t] of before) if (!f.startsWith(`${timed}/`)) expect(after.get(f), f).toBe(t);
  });

  it('registry path gives the gates, head, model and scores runGates gives (FineGates 0.4 and LoRA, seed 1)', async () => {
    await first;
    const model = models[0]!;
    for (const [method, label] of [['finegates', 'finegates-0.4'], ['lora', 'lora']] as const) {
      const direct = path.join(root, `direct-${label}`);
      const res = await runGates({
        model, task: 'glue_sst2', dataRoot: data, out: direct, method, seed: 1,
        steps: TINY.steps, batchSize: TINY.batchSize, maxLength: TINY.maxLength, maxTrain: TINY.maxTrain, maxTest: TINY.maxTest, checkpointEvery: 25,
        ...(method === 'finegates' ? { sparsity: 0.4, gateLr: 5 / TINY.steps, sparsityStartStep: TINY.sparsityStartStep } : {}),
      });
      const suiteRun = path.join(runsDir, 'mlm-model', 'glue_sst2', `${label}-seed1`);
      const manifest = readManifest(suiteRun);
      expect(manifest.metrics, label).toMatchObject({ accuracy: res.metrics.accuracy, mcc: res.metrics.mcc, macroF1: res.metrics.macroF1 });
      expect(report(`mlm-model/glue_sst2/${label}-seed1`).removal, label).toEqual(res.removal ?? null);
      const same = (a: string, b: string, what: string): void => {
        const x = readSafetensors(a).tensors;
        const y = readSafetensors(b).tensors;
        expect([...x.keys()].sort(), what).toEqual([...y.keys()].sort());
        for (const [n, t] of y) {
          const u = x.get(n)!.data as Float32Array;
          const v = t.data as Float32Array;
          expect(u.length, `${what} ${n}`).toBe(v.length);
          let eq = true;
          for (let i = 0; i < v.length && eq; i++) eq = u[i] === v[i];
          expect(eq, `${what} ${n}`).toBe(true);
        }
      };
      same(path.join(suiteRun, 'prunekit', 'head.safetensors'), path.join(direct, 'head.safetensors'), `${label} head`);
      if (method === 'finegates') same(path.join(suiteRun, 'prunekit', 'gates.safetensors'), path.join(direct, 'gates', 'gates.safetensors'), `${label} gates`);
      // the weights: runGates' model/ (compacted, or the merged LoRA weights) against the artifact's, loaded alike
      const a = loadModel(suiteRun);
      const b = loadModel(path.join(direct, 'model'));
      try {
        expect([...a.params.keys()].sort(), label).toEqual([...b.params.keys()].sort());
        for (const [n, t] of b.params) {
          const u = a.params.get(n)!.dataSync();
          const v = t.dataSync();
          let eq = u.length === v.length;
          for (let i = 0; i < v.length && eq; i++) eq = u[i] === v[i];
          expect(eq, `${label} ${n}`).toBe(true);
        }
      } finally {
        a.dispose();
        b.dispose();
      }
    }
  });
});
