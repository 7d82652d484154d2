import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryIo } from '@prunekit/cli-support';
import { run } from '../run.js';
import { BUNDLED_DATA, BUNDLED_MODEL, formatDemoTable, type DemoResult, type DemoRow } from './run.js';
import { demoVerdict } from './verdict.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-demo-test-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** Every file under dir with its size and mtime (to see that a run wrote nothing there). */
function snapshot(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => {
      const f = path.join(e.parentPath, e.name);
      const st = fs.statSync(f);
      return `${path.relative(dir, f)} ${st.size} ${st.mtimeMs}`;
    }).sort();
}

const lines = (file: string): string[] => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');

describe('bundled demo data', () => {
  it('matches its provenance, keeps evaluation and training documents apart and stays small', () => {
    const prov = JSON.parse(fs.readFileSync(path.join(BUNDLED_DATA, 'provenance.json'), 'utf8')) as { counts: Record<string, number> };
    const ids = (rel: string): string[] => lines(path.join(BUNDLED_DATA, rel)).map((l) => (JSON.parse(l) as { _id: string })._id);
    const evalDocs = ids('finance/eval/corpus.jsonl');
    const trainDocs = ids('finance/train/corpus.jsonl');
    expect(evalDocs.length).toBe(prov.counts.evalDocuments);
    expect(trainDocs.length).toBe(prov.counts.trainDocuments);
    expect(evalDocs.filter((d) => trainDocs.includes(d))).toEqual([]);
    const test = lines(path.join(BUNDLED_DATA, 'finance/eval/qrels/test.tsv')).slice(1).map((l) => l.split('\t'));
    const train = lines(path.join(BUNDLED_DATA, 'finance/train/qrels/train.tsv')).slice(1).map((l) => l.split('\t'));
    expect(test.length).toBe(prov.counts.testQueries);
    expect(train.length).toBe(prov.counts.trainQueries);
    // every judged document is in its own folder's corpus, and no question is in both
    expect(test.every((r) => evalDocs.includes(r[1]!))).toBe(true);
    expect(train.every((r) => trainDocs.includes(r[1]!))).toBe(true);
    expect(test.filter((r) => train.some((t) => t[0] === r[0]))).toEqual([]);
    expect(lines(path.join(BUNDLED_DATA, 'general/test.jsonl')).length).toBe(prov.counts.stsTestPairs);
    let bytes = 0;
    for (const e of fs.readdirSync(BUNDLED_DATA, { recursive: true, withFileTypes: true })) if (e.isFile()) bytes += fs.statSync(path.join(e.parentPath, e.name)).size;
    expect(bytes).toBeLessThan(600_000);
    const readme = fs.readFileSync(path.join(BUNDLED_DATA, 'README.md'), 'utf8');
    expect(readme).toContain('CC BY 4.0');
    expect(readme).toContain('CC BY-SA 4.0');
  });
});

describe('prunekit demo (shortened)', () => {
  it('prunes to smaller models, exports them, checks the exports and prints the table; writes only into its work folder', async () => {
    const before = [...snapshot(BUNDLED_MODEL), ...snapshot(BUNDLED_DATA)];
    const work = path.join(tmp, 'run');
    const r = await cli(['demo', '--work-dir', work, '--limit', '20', '--methods', 'gaprune,random', '--seeds', '1', '--recovery-steps', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as DemoResult & { verdict: { exportOk: boolean; maxAbsDiff: number } };
    // dense, the dense model given the same retraining (the reference of the recovered rows), then the pruned models
    expect(res.rows.map((x) => x.model)).toEqual(['dense', 'dense', 'gaprune', 'random-s0']);
    expect(res.data.financeQueries).toBe(20);
    expect(res.data.stsPairs).toBe(20);
    const dense = res.rows[0]!;
    // the bundled demo-encoder: 4 layers of 4 heads and 512 FFN neurons (its MODEL_CARD.md)
    expect(dense.parameters).toBe(1_891_456);
    expect(dense.heads).toEqual([4, 4, 4, 4]);
    expect(dense.ffn).toEqual([512, 512, 512, 512]);
    expect(res.rows[1]!.parameters).toBe(dense.parameters);
    for (const row of res.rows.slice(2)) {
      // half of the encoder-layer parameters gone, physically: fewer parameters and a smaller file
      expect(row.removed).toBeGreaterThan(0.49);
      expect(row.removed).toBeLessThanOrEqual(0.5);
      expect(row.parameters).toBeLessThan(dense.parameters);
      expect(row.onnxBytes).toBeLessThan(dense.onnxBytes);
      expect(row.ffn.reduce((s, x) => s + x, 0)).toBeLessThan(2048);
      expect(row.heads.reduce((s, x) => s + x, 0)).toBeLessThan(16);
      expect(fs.existsSync(path.join(work, 'onnx', row.model, 'onnx', 'model.onnx'))).toBe(true);
      expect(fs.existsSync(path.join(work, 'models', row.model, 'prunekit', 'manifest.json'))).toBe(true);
    }
    for (const row of res.rows) {
      expect(row.maxAbsDiff).toBeLessThan(1e-4);
      expect(row.finance).toBeGreaterThan(0);
      expect(row.finance).toBeLessThan(1);
      expect(row.ms).toBeGreaterThan(0);
    }
    // recovered rows carry their before-recovery scores (the retrained dense: the dense scores); the one-shot baselines do not
    expect(res.rows.filter((x) => x.financeBeforeRecovery !== null).map((x) => x.model)).toEqual(['dense', 'gaprune']);
    expect(res.rows[1]!.financeBeforeRecovery).toBe(dense.finance);
    expect(res.settings.recovery).toBe('retrain');
    expect(res.verdict.exportOk).toBe(true);
    expect([...snapshot(BUNDLED_MODEL), ...snapshot(BUNDLED_DATA)]).toEqual(before);
    // a used work folder is refused rather than mixed into
    const again = await cli(['demo', '--work-dir', work, '--limit', '5']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('not empty');
  }, 600_000);
});

const row = (model: string, method: DemoRow['method'], finance: number, general: number, extra: Partial<DemoRow> = {}): DemoRow => ({
  model, method, seed: null, removed: method === 'dense' ? 0 : 0.5, heads: [2, 2], ffn: [512, 512], finance, financeBeforeRecovery: null, general, generalBeforeRecovery: null,
  parameters: 100, onnxBytes: 400, maxAbsDiff: 1e-7, ms: 10, ...extra,
});
const result = (rows: DemoRow[]): DemoResult => ({
  rows, data: { financeDocuments: 1, financeQueries: 1, stsPairs: 1, domainTriplets: 1, generalTriplets: 1 }, seconds: {},
  settings: { sparsity: 0.5, structure: 'heads,neurons', methods: ['gaprune', 'magnitude', 'random'], randomSeeds: [0, 1], recoverySteps: 0, recovery: 'retrain', recoveryLr: 1e-4, distill: 'cosine', timingRepeats: 1, timingBatch: 32 },
});

describe('demo verdict and table', () => {
  it('says when random pruning matches dense, when a metric saturates and when the export check fails', () => {
    const ok = demoVerdict(result([row('dense', 'dense', 0.3, 0.7), row('gaprune', 'gaprune', 0.25, 0.6), row('random-s0', 'random', 0.2, 0.6), row('random-s1', 'random', 0.1, 0.5)]));
    expect(ok.denseBeatsRandom).toBe(true);
    expect(ok.saturated).toBe(false);
    expect(ok.exportOk).toBe(true);
    expect(ok.lines.join('\n')).toContain('dense beats random pruning on finance (0.300 vs 0.100–0.200 over 2 seeds)');
    const bad = demoVerdict(result([row('dense', 'dense', 0.3, 1), row('random-s0', 'random', 0.2, 1), row('random-s1', 'random', 0.31, 1, { maxAbsDiff: 2e-4 })]));
    expect(bad.denseBeatsRandom).toBe(false);
    expect(bad.saturated).toBe(true);
    expect(bad.exportOk).toBe(false);
    expect(bad.lines.join('\n')).toMatch(/NOTE: random pruning matches or beats dense[\s\S]*FAILS|FAILS[\s\S]*NOTE: random pruning matches or beats dense/);
  });

  it('prints percentages of dense, speed-ups and the random seeds\' mean and range', () => {
    const table = formatDemoTable(result([
      row('dense', 'dense', 0.2, 0.8, { parameters: 1000, ms: 20 }),
      row('random-s0', 'random', 0.1, 0.4, { parameters: 800, ms: 10 }),
      row('random-s1', 'random', 0.15, 0.6, { parameters: 800, ms: 16 }),
    ]));
    expect(table).toContain('| random-s0 | 0.100 (50%) | 0.400 (50%) | 800 (80%) | 0.00 MB | 10.0 (2.00×) |');
    expect(table).toContain('| random, 2 seeds: mean (min–max) | 0.125 (0.100–0.150) | 0.500 (0.400–0.600) |');
  });
});
