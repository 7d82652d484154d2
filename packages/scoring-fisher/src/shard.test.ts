// Sharded statistics: shards computed separately and merged equal a one-process run; merging refuses
// shards that do not belong together, overlap, are missing or unfinished.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentenceEncoder, initBackend } from '@prunekit/tensor-core';
import { sharedPath } from '../../../tools/test-support/shared.js';
import { computeGradStats, computeGradStatsShard } from './gradstats.js';
import { mergeGradStatsShards, parseShard, shardBatchIndices, writeShardFile } from './shard.js';
import type { Triplet } from './triplets.js';

const tiny = sharedPath('models/tiny-encoder');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-shard-'));
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

// authored triplets (not from any dataset)
const triplets: Triplet[] = [
  ['What was the net revenue in 2019?', 'Net revenue for fiscal 2019 was $4.2 billion.', 'The company was founded in Ohio.'],
  ['How much debt matures next year?', 'Debt of $350 million matures in 2021.', 'Employees volunteer in schools.'],
  ['What is the dividend per share?', 'A quarterly dividend of $0.42 per share.', 'The headquarters has twelve floors.'],
  ['Operating margin change', 'Operating margin declined to 14.1%.', 'Three new stores opened in Texas.'],
  ['Goodwill impairment charge', 'A goodwill impairment of $85 million.', 'The CEO studied engineering.'],
  ['Cash from operations', 'Operating cash flow was $1.1 billion.', 'The logo was redesigned.'],
  ['A man is playing a guitar.', 'Someone plays the guitar.', 'A dog runs across the field.'],
  ['The weather is cold today.', 'It is chilly outside today.', 'She bought a new laptop.'],
  ['Children are swimming in a pool.', 'Kids swim in the pool.', 'The train arrived late.'],
  ['He is reading a book.', 'A man reads a novel.', 'The soup is too salty.'],
].map(([query, positive, negative]) => ({ query: query!, positive: positive!, negative: negative! }));

describe('shard arithmetic', () => {
  it('parses 1-based i/n and rejects anything else with the flag name', () => {
    expect(parseShard('2/4')).toEqual({ index: 1, count: 4 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 0, count: 1 });
    for (const bad of ['0/4', '5/4', '1/0', '', 'a/b', '1', '-1/2', '1.5/3']) expect(() => parseShard(bad)).toThrow(/--shard expects i\/n/);
  });
  it('splits batch indices so that every batch is in exactly one shard', () => {
    for (const total of [1, 7, 12]) {
      for (const count of [1, 2, 3, 5]) {
        const all = Array.from({ length: count }, (_, index) => shardBatchIndices(total, { index, count })).flat().sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: total }, (_, i) => i));
      }
    }
    expect(shardBatchIndices(7, { index: 1, count: 3 })).toEqual([1, 4]);
  });
});

let encoder: SentenceEncoder;
beforeAll(async () => {
  await initBackend();
  if (tiny) encoder = await SentenceEncoder.load(tiny);
});

describe.skipIf(!tiny)('sharded gradient statistics on tiny-encoder', () => {
  const params = ['encoder.layer.0.intermediate.dense.weight', 'encoder.layer.1.output.dense.weight'];
  const opts = { params, batchSize: 2, seed: 5 };
  const files: string[] = [];

  it('three shards merged equal the one-process statistics to 1e-6 relative', async () => {
    const whole = await computeGradStats(encoder, triplets, opts);
    for (let index = 0; index < 3; index++) {
      const sums = await computeGradStatsShard(encoder, triplets, { ...opts, shard: { index, count: 3 } });
      const f = path.join(tmp, `s${index}.safetensors`);
      writeShardFile(f, sums);
      files.push(f);
    }
    // the order shard files are given in does not matter
    const merged = mergeGradStatsShards([files[2]!, files[0]!, files[1]!]);
    expect(merged.numBatches).toBe(whole.numBatches);
    expect(merged.meta.numExamples).toBe(String(triplets.length));
    for (const n of params) {
      for (const [a, b] of [[merged.fisher.get(n)!, whole.fisher.get(n)!], [merged.meanGrad.get(n)!, whole.meanGrad.get(n)!]] as const) {
        let scale = 0;
        for (const x of b) scale = Math.max(scale, Math.abs(x));
        expect(scale).toBeGreaterThan(0);
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        expect(worst / scale).toBeLessThan(1e-6);
      }
    }
  });

  it('refuses overlapping, missing, unfinished and foreign shards, naming the file', async () => {
    expect(() => mergeGradStatsShards([files[0]!, files[0]!, files[1]!])).toThrow(/overlaps/);
    expect(() => mergeGradStatsShards([files[0]!, files[2]!])).toThrow(/shards 2\/3 are missing/);
    // a shard of another seed (another batch order) does not belong to this run
    const other = await computeGradStatsShard(encoder, triplets, { ...opts, seed: 6, shard: { index: 1, count: 3 } });
    const of = path.join(tmp, 'other-seed.safetensors');
    writeShardFile(of, other);
    expect(() => mergeGradStatsShards([files[0]!, of, files[2]!])).toThrow(new RegExp(`${of.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: shard has seed 6`));
    // a shard over other matrices
    const otherParams = await computeGradStatsShard(encoder, triplets, { ...opts, params: [params[0]!], shard: { index: 1, count: 3 } });
    const pf = path.join(tmp, 'other-params.safetensors');
    writeShardFile(pf, otherParams);
    expect(() => mergeGradStatsShards([files[0]!, pf, files[2]!])).toThrow(/agree on params/);
    // an unfinished shard (its batch count says so)
    const sums = await computeGradStatsShard(encoder, triplets, { ...opts, shard: { index: 1, count: 3 } });
    const uf = path.join(tmp, 'unfinished.safetensors');
    writeShardFile(uf, { ...sums, meta: { ...sums.meta, batchesDone: '1' } });
    expect(() => mergeGradStatsShards([files[0]!, uf, files[2]!])).toThrow(/holds 1 of its 2 batches/);
    // not a shard at all
    const junk = path.join(tmp, 'junk.safetensors');
    fs.writeFileSync(junk, 'not safetensors');
    expect(() => mergeGradStatsShards([junk])).toThrow(/junk\.safetensors/);
    expect(() => mergeGradStatsShards([tmp])).toThrow(/is a folder/);
    expect(() => mergeGradStatsShards([])).toThrow(/no shard files/);
  });
});
