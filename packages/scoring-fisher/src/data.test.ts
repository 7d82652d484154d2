import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Bm25Index } from './bm25.js';
import { readBeir, readTriplets, tripletsFromPairs, tripletsFromRetrieval } from './triplets.js';
import { spearman, ranks } from './diagnostics.js';
import { perWeightAlignment } from './alignment.js';
import { daiScores, rescale } from './scorers.js';
import type { GradStats } from './gradstats.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-sfd-'));
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

describe('triplet data', () => {
  it('reads jsonl triplets and names file:line and field on bad lines', async () => {
    const f = path.join(tmp, 't.jsonl');
    fs.writeFileSync(f, '{"query":"q1","positive":"p1","negative":"n1"}\n{"query":"q2","positive":"p2"}\n');
    expect(await readTriplets(f)).toEqual([{ query: 'q1', positive: 'p1', negative: 'n1' }, { query: 'q2', positive: 'p2' }]);
    fs.writeFileSync(f, '{"query":"q1","positive":"p1"}\n{"query":"q2","positive":7}\n');
    await expect(readTriplets(f)).rejects.toThrow(`${f}:2`);
    await expect(readTriplets(f)).rejects.toThrow('positive');
  });

  it('refuses empty texts, non-UTF-8 bytes (file:line) and folders; drops a UTF-8 BOM', async () => {
    const f = path.join(tmp, 'e.jsonl');
    fs.writeFileSync(f, '{"query":"q1","positive":"p1"}\n{"query":"  ","positive":"p2"}\n');
    await expect(readTriplets(f)).rejects.toThrow(`${f}:2: field "query" is empty`);
    fs.writeFileSync(f, '{"query":"q1","positive":"p1","negative":""}\n');
    await expect(readTriplets(f)).rejects.toThrow(`${f}:1: field "negative" is empty`);
    fs.writeFileSync(f, Buffer.concat([Buffer.from('{"query":"q1","positive":"p1"}\n{"query":"caf'), Buffer.from([0xe9]), Buffer.from('","positive":"p"}\n')]));
    await expect(readTriplets(f)).rejects.toThrow(`${f}:2: not valid UTF-8`);
    fs.writeFileSync(f, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"query":"q1","positive":"p1"}\r\n')]));
    expect(await readTriplets(f)).toEqual([{ query: 'q1', positive: 'p1' }]);
    fs.writeFileSync(f, '\n\n');
    await expect(readTriplets(f)).rejects.toThrow(`${f}: no triplets`);
    await expect(readTriplets(tmp)).rejects.toThrow(`${tmp}: is a folder; expected a .jsonl file`);
  });

  it('BM25 ranks by term overlap with idf (hand-checked)', () => {
    const idx = new Bm25Index(['the cat sat', 'the dog barked loudly', 'a cat and a dog']);
    // "cat": docs 0 and 2 contain it; doc 0 is shorter, so it ranks first; doc 1 scores 0
    expect(idx.topK('cat', 3)).toEqual([0, 2, 1]);
    const s = idx.scores('cat');
    const n = 3, df = 2, avg = (3 + 4 + 5) / 3;
    const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    expect(s[0]).toBeCloseTo((idf * 1 * 2.2) / (1 + 1.2 * (1 - 0.75 + (0.75 * 3) / avg)), 12);
    expect(s[1]).toBe(0);
  });

  it('builds retrieval triplets with the best non-relevant BM25 document as negative', async () => {
    const dir = path.join(tmp, 'beir');
    fs.mkdirSync(path.join(dir, 'qrels'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'corpus.jsonl'), [
      { _id: 'd1', title: 'Revenue', text: 'revenue grew in 2019' },
      { _id: 'd2', text: 'revenue fell in 2018 for the segment' },
      { _id: 'd3', text: 'the office moved to a new city' },
    ].map((r) => JSON.stringify(r)).join('\n'));
    fs.writeFileSync(path.join(dir, 'queries.jsonl'), JSON.stringify({ _id: 'q1', text: 'how did revenue change in 2019' }));
    fs.writeFileSync(path.join(dir, 'qrels', 'dev.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\n');
    const data = await readBeir(dir, 'dev');
    expect(data.corpus.get('d1')).toBe('Revenue revenue grew in 2019');
    const [t] = await tripletsFromRetrieval(data, { negatives: 'bm25' });
    expect(t).toEqual({ query: 'how did revenue change in 2019', positive: 'Revenue revenue grew in 2019', negative: 'revenue fell in 2018 for the segment' });
    await expect(readBeir(dir, 'test')).rejects.toThrow(/qrels\/test\.tsv: missing/);
  });

  it('builds pair triplets whose negative is another pair\'s text', () => {
    const pairs = [{ a: 'a cat sat', b: 'the cat was sitting' }, { a: 'dogs bark', b: 'a dog barks' }, { a: 'rain falls', b: 'it is raining' }];
    const t = tripletsFromPairs(pairs, { negatives: 'bm25', seed: 1 });
    t.forEach((x, i) => {
      expect(x.query).toBe(pairs[i]!.a);
      expect(x.positive).toBe(pairs[i]!.b);
      expect(x.negative).not.toBe(pairs[i]!.b);
      expect(pairs.map((p) => p.b)).toContain(x.negative);
    });
  });
});

describe('statistics helpers', () => {
  it('Spearman with ties uses average ranks (as scipy)', () => {
    expect(Array.from(ranks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks a = [1,2,3,4], b = [1.5,1.5,3,4]: Pearson of the ranks = 0.9486832980505138
    expect(spearman([1, 2, 3, 4], [7, 7, 8, 9])).toBeCloseTo(0.9486832980505138, 12);
  });

  it('per-weight alignment smooths with a zero-padded 3×3 mean (divisor 9 at borders too)', () => {
    // 3×3 of ones: unit entries 1/3, product 1/9; a corner window holds 4 products, an edge 6, the centre 9
    const ones = new Float32Array(9).fill(1);
    const a = Array.from(perWeightAlignment(ones, ones, [3, 3]));
    const expected = [4, 6, 4, 6, 9, 6, 4, 6, 4].map((c) => c / 81);
    a.forEach((v, i) => { expect(v).toBeCloseTo(expected[i]!, 7); });
    // thinner than 3: the plain product
    expect(Array.from(perWeightAlignment(Float32Array.from([1, 1]), Float32Array.from([1, 1]), [1, 2])).map((v) => v.toFixed(6))).toEqual(['0.500000', '0.500000']);
  });

  it('rank and min-max rescaling', () => {
    expect(Array.from(rescale(Float32Array.from([3, 1, 2]), 'rank'))).toEqual([1, 1 / 3, 2 / 3].map(Math.fround));
    const mm = rescale(Float32Array.from([2, 4, 6]), 'minmax');
    expect(mm[0]).toBe(0);
    expect(mm[2]).toBeCloseTo(1, 6);
  });

  it('DAI keeps Fisher terms of 1e-8 apart (stored as DAI − ln 2; float32 softplus would tie them at ln 2)', () => {
    // γ = 0, |W| = 1: DAI = softplus(F_D − F_G) with F_D − F_G = 1e-8, 2e-8, 3e-8, −1e-8
    const w = new Map([['m', { shape: [1, 4], data: Float32Array.from([1, 1, 1, -1]) }]]);
    const stats = (f: number[]): GradStats => ({ fisher: new Map([['m', Float32Array.from(f)]]), meanGrad: new Map([['m', Float32Array.from([1, 1, 1, 1])]]), shapes: new Map([['m', [1, 4]]]), numBatches: 1, meta: {} });
    const s = daiScores(w, stats([2e-8, 3e-8, 4e-8, 0]), stats([1e-8, 1e-8, 1e-8, 1e-8]), { gamma: 0, beta: 1 }).get('m')!.scores;
    // alignment of identical mean gradients is 1: factor clip(1.2) = 1.2
    const expected = [1e-8, 2e-8, 3e-8, -1e-8].map((x) => Math.log1p(Math.expm1(1.2 * x) / 2));
    for (let i = 0; i < 4; i++) expect(s[i]! / expected[i]!).toBeCloseTo(1, 5);
    expect(s[3]! < s[0]! && s[0]! < s[1]! && s[1]! < s[2]!).toBe(true);
    // what float32 softplus would store: all four the same value
    expect(new Set(expected.map((x) => Math.fround(x + Math.LN2))).size).toBe(1);
  });
});
