import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MaskSet, loadModel } from '@prunekit/tensor-core';
import { loadGradStats } from '@prunekit/scoring-fisher';
import { run } from '../run.js';
import { memoryIo } from '../util/io.js';
import { BUNDLED_MODEL } from '../demo/run.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cli-prune-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
const triplets = (file: string, rows: [string, string, string][]): string => {
  fs.writeFileSync(file, rows.map(([query, positive, negative]) => JSON.stringify({ query, positive, negative })).join('\n') + '\n');
  return file;
};
const domain = triplets(path.join(tmp, 'domain.jsonl'), [
  ['net sales in 2020', 'Revenue for 2020 was $3.1 billion.', 'The museum reopened in May.'],
  ['quarterly dividend', 'The board declared a dividend of $0.20 per share.', 'Snow fell overnight.'],
  ['long-term borrowings', 'Long-term debt totalled $900 million.', 'He plays the violin.'],
]);
const general = triplets(path.join(tmp, 'general.jsonl'), [
  ['a cat sleeps', 'the cat is asleep', 'sales rose 3%'],
  ['it is raining', 'rain is falling', 'the bond matured'],
]);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('prunekit prune / score / retrain', () => {
  it('prunes with GAPrune to the exact sparsity and prints diagnostics; --json is machine-readable', async () => {
    const out = path.join(tmp, 'gap');
    const r = await cli(['prune', '--model', BUNDLED_MODEL, '--out', out, '--method', 'gaprune', '--sparsity', '0.5', '--domain', domain, '--general', general, '--batch-size', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.sparsity).toBe(0.5);
    expect(res.diagnostics.layers).toHaveLength(2);
    const { masks } = MaskSet.load(path.join(out, 'prunekit', 'masks.safetensors'));
    expect(masks.stats().sparsity).toBe(0.5);
    const model = loadModel(out);
    const [name] = masks.names();
    const w = model.params.get(name!)!.dataSync();
    expect(masks.masks.get(name!)!.data.every((keep, i) => keep === 1 || w[i] === 0)).toBe(true);
    model.dispose();

    // retrain that folder two steps: masks carried over, pruned weights still zero
    const re = await cli(['retrain', '--model', out, '--domain', domain, '--out', path.join(tmp, 'gap-re'), '--steps', '2', '--batch-size', '2', '--json']);
    expect(re.code, re.stderr).toBe(0);
    expect(JSON.parse(re.stdout).losses).toHaveLength(2);
    const m2 = loadModel(path.join(tmp, 'gap-re'));
    const w2 = m2.params.get(name!)!.dataSync();
    expect(masks.masks.get(name!)!.data.every((keep, i) => keep === 1 || w2[i] === 0)).toBe(true);
    m2.dispose();
  });

  it('stores gradient statistics with `score`', async () => {
    const out = path.join(tmp, 'stats.safetensors');
    const r = await cli(['score', '--model', BUNDLED_MODEL, '--data', domain, '--out', out, '--batch-size', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ matrices: 4, batches: 2 });
    expect(fs.existsSync(out)).toBe(true);
    // micro-batched (one sequence per backward pass): the same statistics
    const outMicro = path.join(tmp, 'stats-micro.safetensors');
    const m = await cli(['score', '--model', BUNDLED_MODEL, '--data', domain, '--out', outMicro, '--batch-size', '2', '--micro-batch', '1', '--json']);
    expect(m.code, m.stderr).toBe(0);
    const a = loadGradStats(out);
    const b = loadGradStats(outMicro);
    for (const [name, f] of a.fisher) {
      const g = b.fisher.get(name)!;
      const scale = Math.max(...Array.from(f, Math.abs));
      expect(Math.max(...Array.from(f, (x, i) => Math.abs(x - g[i]!))) / scale, name).toBeLessThanOrEqual(1e-5);
    }
    const bad = await cli(['score', '--model', BUNDLED_MODEL, '--data', domain, '--out', outMicro, '--micro-batch', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--micro-batch');
  });

  it('bad input: clear one-line errors, non-zero exit, no output folder', async () => {
    const out = path.join(tmp, 'never');
    const noGeneral = await cli(['prune', '--model', BUNDLED_MODEL, '--out', out, '--method', 'gaprune', '--domain', domain]);
    expect(noGeneral.code).toBe(1);
    expect(noGeneral.stderr).toContain('prunekit: method "gaprune" needs general triplets (--general FILE)');
    const badSparsity = await cli(['prune', '--model', BUNDLED_MODEL, '--out', out, '--method', 'magnitude', '--sparsity', '1.2']);
    expect(badSparsity.code).not.toBe(0);
    expect(badSparsity.stderr).toContain('--sparsity expects a number in [0, 1) (got "1.2")');
    const badMethod = await cli(['prune', '--model', BUNDLED_MODEL, '--out', out, '--method', 'pixie-dust']);
    expect(badMethod.code).not.toBe(0);
    expect(badMethod.stderr).toContain('--method must be one of gaprune, gaprune-balanced, magnitude, random, fisher, fisher-general, taylor, wanda');
    const bad = path.join(tmp, 'bad.jsonl');
    fs.writeFileSync(bad, '{"query": "q", "positive": "p"}\n{"query": 3}\n');
    const badData = await cli(['prune', '--model', BUNDLED_MODEL, '--out', out, '--method', 'taylor', '--domain', bad]);
    expect(badData.code).toBe(1);
    expect(badData.stderr).toContain(`${bad}:2`);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('prunekit demo', () => {
  it('runs the main job on the bundled model and reports dense, GAPrune, magnitude and random', async () => {
    const r = await cli(['demo', '--work-dir', path.join(tmp, 'demo'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { rows } = JSON.parse(r.stdout) as { rows: { method: string; finance: number }[] };
    expect(rows.map((x) => x.method)).toEqual(['dense', 'gaprune', 'magnitude', 'random']);
    for (const row of rows) {
      expect(row.finance).toBeGreaterThan(0);
      expect(row.finance).toBeLessThanOrEqual(1);
    }
    expect(r.stderr).toContain('DAI diagnostics: Spearman(DAI, |W|)');
  });
});
