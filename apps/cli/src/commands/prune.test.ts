import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MaskSet, loadModel } from '@prunekit/tensor-core';
import { loadGradStats, readTriplets, runPrune } from '@prunekit/scoring-fisher';
import { run } from '../run.js';
import { FINANCE_TRIPLETS, GENERAL_TRIPLETS, writeTriplets } from '../test-support/triplets.js';
import { memoryIo } from '@prunekit/cli-support';
import { TINY_ENCODER } from '../test-support/models.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cli-prune-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
const domain = writeTriplets(path.join(tmp, 'domain.jsonl'), FINANCE_TRIPLETS);
const general = writeTriplets(path.join(tmp, 'general.jsonl'), GENERAL_TRIPLETS);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('prunekit prune / score / retrain', () => {
  it('prunes with GAPrune to the exact sparsity and prints diagnostics; --json is machine-readable', async () => {
    const out = path.join(tmp, 'gap');
    const r = await cli(['prune', '--model', TINY_ENCODER, '--out', out, '--method', 'gaprune', '--sparsity', '0.5', '--domain', domain, '--general', general, '--batch-size', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.sparsity).toBe(0.5);
    const diagnostics = JSON.parse(fs.readFileSync(path.join(out, 'prunekit', 'diagnostics.json'), 'utf8'));
    expect(diagnostics.layers).toHaveLength(2);
    // the registry path gives the very weights the package's runPrune (the bench's path) gives
    const direct = path.join(tmp, 'gap-direct');
    await runPrune({ model: TINY_ENCODER, out: direct, method: 'gaprune', sparsity: 0.5, domain: await readTriplets(domain), general: await readTriplets(general), batchSize: 2, workDir: path.join(tmp, 'gap-direct.work') });
    const viaCli = loadModel(out);
    const viaPackage = loadModel(direct);
    for (const [name, t] of viaPackage.params) expect(Array.from(viaCli.params.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync(), (x) => x + 0));
    viaCli.dispose();
    viaPackage.dispose();
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
    const r = await cli(['score', '--model', TINY_ENCODER, '--data', domain, '--out', out, '--batch-size', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ matrices: 4, batches: 2 });
    expect(fs.existsSync(out)).toBe(true);
    // micro-batched (one sequence per backward pass): the same statistics
    const outMicro = path.join(tmp, 'stats-micro.safetensors');
    const m = await cli(['score', '--model', TINY_ENCODER, '--data', domain, '--out', outMicro, '--batch-size', '2', '--micro-batch', '1', '--json']);
    expect(m.code, m.stderr).toBe(0);
    const a = loadGradStats(out);
    const b = loadGradStats(outMicro);
    for (const [name, f] of a.fisher) {
      const g = b.fisher.get(name)!;
      const scale = Math.max(...Array.from(f, Math.abs));
      expect(Math.max(...Array.from(f, (x, i) => Math.abs(x - g[i]!))) / scale, name).toBeLessThanOrEqual(1e-5);
    }
    const bad = await cli(['score', '--model', TINY_ENCODER, '--data', domain, '--out', outMicro, '--micro-batch', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--micro-batch');
  });

  it('bad input: clear one-line errors naming the flag, non-zero exit, no output folder', async () => {
    const out = path.join(tmp, 'never');
    const base = ['prune', '--model', TINY_ENCODER, '--out', out];
    const cases: [string[], string][] = [
      [['--method', 'gaprune', '--domain', domain], 'prunekit: --method gaprune needs --general FILE (general triplets)'],
      [['--method', 'magnitude', '--sparsity', '1.2'], 'prunekit: --sparsity must be < 1 (got 1.2)'],
      [['--method', 'magnitude', '--sparsity='], 'prunekit: --sparsity needs a value (got an empty string)'],
      [['--method', 'magnitude', '--seed='], 'prunekit: --seed needs a value (got an empty string)'],
      [['--method', 'magnitude', '--seed', '1.5'], 'prunekit: --seed must be an integer (got 1.5)'],
      [['--method', 'gaprune', '--domain', domain, '--general', general, '--gamma', 'NaN'], 'prunekit: --gamma expects a number (got "NaN")'],
      [['--method', 'smp-l', '--lr', 'abc'], 'prunekit: --lr expects a number (got "abc")'],
      [['--method', 'magnitude', '--targets', 'mlp,bogus'], 'prunekit: --targets unknown prunable target "bogus"'],
      [['--method', 'magnitude', '--lambda-r', '3'], 'prunekit: --lambda-r is not an option of method magnitude'],
      [['--method', 'magnitude', '--allocation', 'nowhere'], 'prunekit: --allocation Invalid option'],
      [['--method', 'pixie-dust'], 'prunekit: --method: unknown method "pixie-dust" (known: gaprune, gaprune-balanced, magnitude'],
      [['--method', 'finegates', '--data-root', tmp], 'prunekit: --method finegates needs --data-root DIR and --task NAME'],
      [['--method', 'taylor'], 'prunekit: --method taylor needs --domain FILE (domain triplets)'],
      [['--method', 'magnitude', '--plugin', path.join(tmp, 'nope.mjs')], `prunekit: plugin ${path.join(tmp, 'nope.mjs')}: cannot load`],
    ];
    for (const [extra, message] of cases) {
      const r = await cli([...base, ...extra]);
      expect(r.code, extra.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1), extra.join(' ')).toContain(message);
    }
    const bad = path.join(tmp, 'bad.jsonl');
    fs.writeFileSync(bad, '{"query": "q", "positive": "p"}\n{"query": 3}\n');
    const badData = await cli([...base, '--method', 'taylor', '--domain', bad]);
    expect(badData.code).toBe(1);
    expect(badData.stderr).toContain(`${bad}:2`);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('--help lists every method with its options; --method X --help shows one', async () => {
    const all = await cli(['prune', '--help']);
    expect(all.code).toBe(0);
    for (const m of ['gaprune', 'magnitude', 'random', 'fisher', 'fisher-general', 'taylor', 'wanda', 'smp-l', 'smp-s', 'movement', 'magnitude-ft', 'finegates', 'lora', 'bitfit', 'full-ft']) {
      expect(all.stdout, m).toMatch(new RegExp(`^  ${m} \\(`, 'm'));
    }
    expect(all.stdout).toContain('--sparsity as the fraction REMOVED (SMP keeps 1 - sparsity');
    const one = await cli(['prune', '--method', 'smp-s', '--help']);
    expect(one.stdout).toContain('Method smp-s:');
    expect(one.stdout).toMatch(/--temperature <number> +SMP-S temperature/);
    expect(one.stdout).not.toMatch(/^ {2}gaprune \(/m);
  });
});
