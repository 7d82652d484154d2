// `prunekit score --shard i/n` + `prunekit score merge`: shards merged equal the one-process
// statistics, and `prunekit prune` from merged statistics writes the identical mask.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MaskSet } from '@prunekit/tensor-core';
import { loadGradStats } from '@prunekit/scoring-fisher';
import { run } from '../run.js';
import { writeTriplets } from '../test-support/triplets.js';
import { memoryIo } from '@prunekit/cli-support';
import { TINY_ENCODER } from '../test-support/models.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cli-score-'));
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });
// authored triplets
const domain = writeTriplets(path.join(tmp, 'domain.jsonl'), [
  ['net sales in 2020', 'Revenue for 2020 was $3.1 billion.', 'The museum reopened in May.'],
  ['quarterly dividend', 'The board declared a dividend of $0.20 per share.', 'Snow fell overnight.'],
  ['long-term borrowings', 'Long-term debt totalled $900 million.', 'He plays the violin.'],
  ['operating margin', 'Operating margin was 14.1% for the year.', 'The river froze in January.'],
  ['share buyback', 'We repurchased 2 million shares in Q4.', 'She painted the fence green.'],
  ['cash position', 'Cash and equivalents were $450 million.', 'The choir sang at noon.'],
]);
const general = writeTriplets(path.join(tmp, 'general.jsonl'), [
  ['a cat sleeps', 'the cat is asleep', 'sales rose 3%'],
  ['it is raining', 'rain is falling', 'the bond matured'],
  ['a child laughs', 'the kid is laughing', 'margins fell'],
  ['birds fly south', 'the birds migrate south', 'debt was refinanced'],
]);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const maxRel = (a: Float32Array, b: Float32Array): number => {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  return worst / scale;
};

describe('prunekit score --shard / score merge', () => {
  it('two shards merged equal one process; prune from merged statistics gives the identical mask', async () => {
    const stats: Record<string, string> = {};
    for (const [label, data] of [['domain', domain], ['general', general]] as const) {
      const whole = path.join(tmp, `${label}.safetensors`);
      expect((await cli(['score', '--model', TINY_ENCODER, '--data', data, '--out', whole, '--batch-size', '2'])).code).toBe(0);
      const shards = [1, 2].map((i) => path.join(tmp, `${label}-${i}.safetensors`));
      for (const [i, f] of shards.entries()) {
        const r = await cli(['score', '--model', TINY_ENCODER, '--data', data, '--out', f, '--batch-size', '2', '--shard', `${i + 1}/2`, '--json']);
        expect(r.code, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ shard: `${i + 1}/2` });
      }
      const merged = path.join(tmp, `${label}-merged.safetensors`);
      const m = await cli(['score', 'merge', shards[1]!, shards[0]!, '--out', merged]);
      expect(m.code, m.stderr).toBe(0);
      expect(m.stdout).toMatch(/merged 2 shards/);
      const a = loadGradStats(merged);
      const b = loadGradStats(whole);
      expect(a.numBatches).toBe(b.numBatches);
      for (const [n, f] of b.fisher) {
        expect(maxRel(a.fisher.get(n)!, f)).toBeLessThan(1e-6);
        expect(maxRel(a.meanGrad.get(n)!, b.meanGrad.get(n)!)).toBeLessThan(1e-6);
      }
      stats[label] = merged;
    }
    const direct = path.join(tmp, 'pruned-direct');
    const fromStats = path.join(tmp, 'pruned-merged');
    expect((await cli(['prune', '--model', TINY_ENCODER, '--out', direct, '--method', 'gaprune', '--sparsity', '0.5', '--domain', domain, '--general', general, '--batch-size', '2'])).code).toBe(0);
    const r = await cli(['prune', '--model', TINY_ENCODER, '--out', fromStats, '--method', 'gaprune', '--sparsity', '0.5', '--domain-stats', stats.domain!, '--general-stats', stats.general!]);
    expect(r.code, r.stderr).toBe(0);
    const x = MaskSet.load(path.join(direct, 'prunekit', 'masks.safetensors')).masks;
    const y = MaskSet.load(path.join(fromStats, 'prunekit', 'masks.safetensors')).masks;
    expect([...y.names()]).toEqual([...x.names()]);
    for (const n of x.names()) expect(Buffer.from(y.masks.get(n)!.data).equals(Buffer.from(x.masks.get(n)!.data))).toBe(true);
  });

  it('refuses a missing or overlapping shard and bad --shard values with one line', async () => {
    const f = path.join(tmp, 'one.safetensors');
    expect((await cli(['score', '--model', TINY_ENCODER, '--data', domain, '--out', f, '--batch-size', '2', '--shard', '1/3'])).code).toBe(0);
    const missing = await cli(['score', 'merge', f, '--out', path.join(tmp, 'x.safetensors')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/shards 2\/3, 3\/3 are missing/);
    const twice = await cli(['score', 'merge', f, f, '--out', path.join(tmp, 'x.safetensors')]);
    expect(twice.stderr).toMatch(/overlaps/);
    for (const bad of ['0/2', '3/2', 'x', '']) {
      const r = await cli(['score', '--model', TINY_ENCODER, '--data', domain, '--out', f, '--shard', bad]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/--shard expects i\/n/);
    }
    const q = await cli(['score', '--model', TINY_ENCODER, '--data', domain, '--out', f, '--queue', 'redis://127.0.0.1:1']);
    expect(q.stderr).toMatch(/--queue needs --shards N/);
  });
});
