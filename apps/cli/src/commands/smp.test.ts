import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '@prunekit/tensor-core';
import { loadBitMasks } from '@prunekit/mask-smp';
import { run } from '../run.js';
import { memoryIo } from '../util/io.js';

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

const base = ['prune-smp', '--task', 'glue_sst2', '--model', model, '--data-root', root, '--batch-size', '8', '--max-length', '24', '--steps', '6'];

interface Summary {
  out: string; method: string; task: string; keep: number; labelWords: string[]; metric: string; score: number;
  scores: { accuracy: number }; maskBytes: number | null; modelBytes: number; trainExamples: number; evalExamples: number; steps: number; stepsRun: number;
}

describe('prunekit prune-smp', () => {
  it('SMP-S: masks.bin + masks.json + metrics.json with the exact keep budget, a JSON summary and progress lines', async () => {
    const out = path.join(tmp, 'smp-s');
    const r = await cli([...base, '--out', out, '--method', 'smp-s', '--keep', '0.25', '--head', 'prompt', '--eval-every', '3', '--log-every', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s).toMatchObject({ method: 'smp-s', task: 'glue_sst2', keep: 0.25, metric: 'accuracy', trainExamples: 48, evalExamples: 20, steps: 6, stepsRun: 6 });
    // the fixture vocabulary has no "terrible": the task's substitute is used and recorded
    expect(s.labelWords).toEqual(['bad', 'great']);
    expect(s.score).toBe(s.scores.accuracy);
    expect(s.score).toBeGreaterThanOrEqual(0);
    expect(s.score).toBeLessThanOrEqual(1);
    expect(r.stderr).toMatch(/smp-s keep 0\.25 step 2\/6: loss [\d.]+ keep [\d.]+/);
    expect(r.stderr).toMatch(/eval at step 3 \(keep [\d.]+\): accuracy [\d.]+/);
    for (const f of ['masks.bin', 'masks.json', 'metrics.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    expect(fs.existsSync(path.join(out, 'model'))).toBe(false);
    expect(fs.existsSync(`${out}.work`)).toBe(false);
    // one bit per prunable weight, and exactly round(0.25 · n) kept over the prunable set
    const { masks } = loadBitMasks(out);
    const stats = masks.stats();
    expect(stats.perMatrix).toHaveLength(12);
    // SMP-S: round(0.25 · n) per matrix type (6 types), so at most 6 halves of rounding overall
    expect(Math.abs(stats.kept - 0.25 * stats.numel)).toBeLessThanOrEqual(3);
    expect(s.maskBytes).toBe(fs.statSync(path.join(out, 'masks.bin')).size);
    expect(s.maskBytes).toBeLessThan(s.modelBytes / 20);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')) as { method: string; head: { variant: string; labelWords: string[] }; history: { step: number }[]; evals: { step: number }[] };
    expect(metrics.method).toBe('smp-s');
    expect(metrics.head).toMatchObject({ variant: 'prompt', labelWords: ['bad', 'great'] });
    expect(metrics.history.map((h) => h.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(metrics.evals.map((e) => e.step)).toEqual([3, 6]);
  });

  it('full-ft writes a loadable model folder; human-readable output names the mask size for a pruning method', async () => {
    const dense = path.join(tmp, 'dense');
    const r = await cli([...base, '--out', dense, '--method', 'full-ft', '--steps', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^full-ft on glue_sst2: accuracy [\d.]+ \(accuracy [\d.]+\) after 3 steps \(3 run now\)/);
    expect(r.stdout).toContain(`model written to ${path.join(dense, 'model')}`);
    const m = loadModel(path.join(dense, 'model'));
    expect(m.config.head).toBe('mlm');
    m.dispose();
    const mag = await cli([...base, '--out', path.join(tmp, 'mag'), '--method', 'magnitude-ft', '--keep', '0.5', '--label-words', 'poor,good', '--steps', '3']);
    expect(mag.code, mag.stderr).toBe(0);
    expect(mag.stdout).toMatch(/^magnitude-ft keep 0\.5 on glue_sst2: accuracy [\d.]+/);
    expect(mag.stdout).toMatch(/masks: \d+ bytes \([\d.]+% of the \d+-byte fp32 model\)/);
    expect((JSON.parse(fs.readFileSync(path.join(tmp, 'mag', 'metrics.json'), 'utf8')) as { head: { labelWords: string[] } }).head.labelWords).toEqual(['poor', 'good']);
  });

  it('bad input: one-line errors, exit code 1, no output folder', async () => {
    const out = path.join(tmp, 'never');
    const lastLine = (s: string): string => s.trim().split('\n').at(-1) ?? '';
    const cases: [string[], string][] = [
      [['--method', 'smp-l', '--task', 'glue_stsb'], 'glue_stsb is a regression task'],
      [['--method', 'smp-l', '--task', 'imdb'], 'unknown task "imdb"'],
      [['--method', 'magic'], '--method must be one of smp-l, smp-s, movement, magnitude-ft, full-ft (got "magic")'],
      [['--method', 'smp-l', '--keep', '0'], '--keep expects a number in (0, 1] (got "0")'],
      [['--method', 'smp-l', '--head', 'last'], '--head must be one of first, prompt'],
      // a label word the vocabulary splits is an error naming its word pieces
      [['--method', 'smp-l', '--label-words', 'bad,wonderful'], 'none of "wonderful" is a single token'],
      [['--method', 'smp-l', '--label-words', 'bad'], 'but 1 label words were given'],
      [['--method', 'smp-l', '--template', '{text} it was .'], 'must contain exactly one [MASK]'],
      [['--method', 'smp-l', '--model', path.join(tmp, 'nope')], 'not a folder'],
    ];
    for (const [extra, message] of cases) {
      const args = [...base, '--out', out, ...extra];
      // a later --model / --task overrides the base one (commander keeps the last value)
      const r = await cli(args);
      expect(r.code, `${extra.join(' ')}: ${r.stderr}`).toBe(1);
      expect(lastLine(r.stderr), extra.join(' ')).toContain(message);
      expect(lastLine(r.stderr)).toMatch(/^prunekit: /);
    }
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.existsSync(`${out}.work`)).toBe(false);
  });
});
