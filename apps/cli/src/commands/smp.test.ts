import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '@prunekit/tensor-core';
import { MaskSet, readManifest } from '@prunekit/tensor-core';
import { run } from '../run.js';
import { memoryIo } from '@prunekit/cli-support';

// The random 2-layer BertForMaskedLM fixture (vocab 128) with a WordPiece vocabulary written here,
// and a synthetic 2-label sentiment task in the shared datasets' layout (SST-2 evaluates on dev).
const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'tools', 'fixtures', 'data', 'models', 'bert-mlm');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cli-smp-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
const model = path.join(tmp, 'model');
fs.mkdirSync(model);
for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(fixture, f), path.join(model, f));
const POS = ['good', 'great', 'fine', 'nice'];
const NEG = ['bad', 'awful', 'poor', 'dull'];
const FILLER = ['the', 'a', 'movie', 'film', 'was', 'is', 'it', 'this', 'very', 'and', 'plot', 'story'];
const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.', ',', '?', ...POS, ...NEG, ...FILLER];
for (let i = 0; vocab.length < 128; i++) vocab.push(`##x${i}`);
fs.writeFileSync(path.join(model, 'vocab.txt'), `${vocab.join('\n')}\n`);
fs.writeFileSync(path.join(model, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 64 }));
const root = path.join(tmp, 'data');
fs.mkdirSync(path.join(root, 'glue_sst2'), { recursive: true });
const rows = (n: number): string => Array.from({ length: n }, (_, i) => {
  const label = i % 2;
  const words = [FILLER[i % FILLER.length]!, FILLER[(3 * i + 1) % FILLER.length]!, (label ? POS : NEG)[i % 4]!, FILLER[(7 * i + 2) % FILLER.length]!];
  return JSON.stringify({ text: words.join(' '), label: String(label) });
}).join('\n') + '\n';
fs.writeFileSync(path.join(root, 'glue_sst2', 'train.jsonl'), rows(48));
fs.writeFileSync(path.join(root, 'glue_sst2', 'dev.jsonl'), rows(20));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const base = ['prune', '--task', 'glue_sst2', '--model', model, '--data-root', root, '--batch-size', '8', '--max-length', '24', '--steps', '6'];

interface Summary {
  out: string; method: string; kind: string; sparsity: number | null;
  metrics: { task: string; metric: string; score: number; scores: { accuracy: number }; steps: number; stepsRun: number; trainExamples: number; evalExamples: number };
}

describe('prunekit prune --method smp-*', () => {
  it('SMP-S: --sparsity 0.75 keeps 0.25; the artifact holds masks, manifest and the training report', async () => {
    const out = path.join(tmp, 'smp-s');
    const r = await cli([...base, '--out', out, '--method', 'smp-s', '--sparsity', '0.75', '--head', 'prompt', '--eval-every', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s).toMatchObject({ method: 'smp-s', kind: 'pruned-model', metrics: { task: 'glue_sst2', metric: 'accuracy', trainExamples: 48, evalExamples: 20, steps: 6, stepsRun: 6 } });
    expect(s.metrics.score).toBe(s.metrics.scores.accuracy);
    expect(r.stderr).toMatch(/eval at step 3 \(keep [\d.]+\): accuracy [\d.]+/);
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'prunekit/manifest.json', 'prunekit/masks.safetensors', 'prunekit/training.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    expect(fs.existsSync(`${out}.work`)).toBe(false);
    const { masks } = MaskSet.load(path.join(out, 'prunekit', 'masks.safetensors'));
    const stats = masks.stats();
    expect(stats.perMatrix).toHaveLength(12);
    // SMP-S: round(0.25 · n) per matrix type (6 types), so at most 6 halves of rounding overall
    expect(Math.abs(stats.kept - 0.25 * stats.numel)).toBeLessThanOrEqual(3);
    const manifest = readManifest(out);
    expect(manifest.options).toMatchObject({ sparsity: 0.75, head: 'prompt' });
    expect(manifest.sparsity!.total).toBeCloseTo(stats.sparsity, 12);
    const training = JSON.parse(fs.readFileSync(path.join(out, 'prunekit', 'training.json'), 'utf8')) as { keep: number; head: { variant: string; labelWords: string[] }; history: { step: number }[]; evals: { step: number }[] };
    // --sparsity 0.75 trains with keep exactly 0.25 (no 1 − 0.75 rounding residue)
    expect(training.keep).toBe(0.25);
    // the fixture vocabulary has no "terrible": the task's substitute is used and recorded
    expect(training.head).toMatchObject({ variant: 'prompt', labelWords: ['bad', 'great'] });
    expect(training.history.map((h) => h.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(training.evals.map((e) => e.step)).toEqual([3, 6]);
    // the masked weights are stored as zeros in the HF folder
    const m = loadModel(out);
    const [name] = masks.names();
    const w = m.params.get(name!)!.dataSync();
    expect(masks.masks.get(name!)!.data.every((keep, i) => keep === 1 || w[i] === 0)).toBe(true);
    m.dispose();
  });

  it('full-ft-mlm writes a loadable fine-tuned MLM folder; magnitude-ft takes label words', async () => {
    const dense = path.join(tmp, 'dense');
    const r = await cli([...base, '--out', dense, '--method', 'full-ft-mlm', '--steps', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^full-ft-mlm on glue_sst2: accuracy [\d.]+ after 3 steps/);
    expect(readManifest(dense).kind).toBe('fine-tuned-model');
    const m = loadModel(dense);
    expect(m.config.head).toBe('mlm');
    m.dispose();
    const mag = await cli([...base, '--out', path.join(tmp, 'mag'), '--method', 'magnitude-ft', '--sparsity', '0.5', '--label-words', 'poor,good', '--steps', '3', '--teacher', dense]);
    expect(mag.code, mag.stderr).toBe(0);
    expect((JSON.parse(fs.readFileSync(path.join(tmp, 'mag', 'prunekit', 'training.json'), 'utf8')) as { head: { labelWords: string[] } }).head.labelWords).toEqual(['poor', 'good']);
  });

  it('bad input: one-line errors, exit code 1, no output folder', async () => {
    const out = path.join(tmp, 'never');
    const lastLine = (s: string): string => s.trim().split('\n').at(-1) ?? '';
    const cases: [string[], string][] = [
      [['--method', 'smp-l', '--task', 'glue_stsb'], 'glue_stsb is a regression task'],
      [['--method', 'smp-l', '--task', 'imdb'], 'unknown task "imdb"'],
      [['--method', 'smp-l', '--sparsity', '0'], '--sparsity must be > 0 (got 0)'],
      [['--method', 'smp-l', '--head', 'last'], '--head Invalid option: expected one of "first"|"prompt"'],
      [['--method', 'smp-l', '--keep', '0.1'], '--keep is gone: --sparsity is the fraction removed for every method (--keep 0.1 is --sparsity 0.9)'],
      // a label word the vocabulary splits is an error naming its word pieces
      [['--method', 'smp-l', '--label-words', 'bad,wonderful'], 'none of "wonderful" is a single token'],
      [['--method', 'smp-l', '--label-words', 'bad'], 'but 1 label words were given'],
      [['--method', 'smp-l', '--template', '{text} it was .'], 'must contain exactly one [MASK]'],
      [['--method', 'smp-l', '--model', path.join(tmp, 'nope')], 'not a folder'],
    ];
    for (const [extra, message] of cases) {
      // a later --model / --task overrides the base one (commander keeps the last value)
      const r = await cli([...base, '--out', out, ...extra]);
      expect(r.code, `${extra.join(' ')}: ${r.stderr}`).toBe(1);
      expect(lastLine(r.stderr), extra.join(' ')).toContain(message);
    }
    expect(fs.existsSync(out)).toBe(false);
  });
});
