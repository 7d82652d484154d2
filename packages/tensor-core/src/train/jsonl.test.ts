import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonlBatches, loadJsonl, readJsonl, batchesPerEpoch } from './jsonl.js';
import { Rng } from './rng.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-jsonl-'));
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const triples = write(
  'triples.jsonl',
  Array.from({ length: 10 }, (_, i) => JSON.stringify({ query: `q${i}`, pos: `p${i}`, neg: i % 2 === 0 ? `n${i}` : null, id: i })),
);
const spec = { fields: { query: 'string', pos: 'string', id: 'number' }, optional: { neg: 'string' } } as const;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('jsonl reading and validation', () => {
  it('streams typed, validated records with their line numbers; blank lines are skipped', async () => {
    const file = write('blank.jsonl', ['{"a":"x","n":[1,2]}', '', '   ', '{"a":"y","n":[]}']);
    const rows = await collect(readJsonl(file, { fields: { a: 'string', n: 'number[]' } }));
    expect(rows.map((r) => r.line)).toEqual([1, 4]);
    const a: string = rows[1]!.record.a;
    expect(a).toBe('y');
    const all = await loadJsonl(triples, spec);
    expect(all).toHaveLength(10);
    expect(all[3]).toEqual({ query: 'q3', pos: 'p3', neg: null, id: 3 });
  });

  it('errors name file:line and the field', async () => {
    const cases: [string[], RegExp][] = [
      [['{"query":"a","pos":"b","id":1}', '{"query":"a","id":2}'], /bad\.jsonl:2: missing required field "pos"/],
      [['{"query":"a","pos":7,"id":1}'], /bad\.jsonl:1: field "pos" must be string, got number/],
      [['{"query":"a","pos":"b","id":1}', '', '{"query":"a",'], /bad\.jsonl:3: invalid JSON/],
      [['["query"]'], /bad\.jsonl:1: expected a JSON object, got array/],
      [['{"query":"a","pos":"b","id":1,"neg":3}'], /bad\.jsonl:1: field "neg" must be string when present, got number/],
      [['{"query":"a","pos":"b","id":"1"}'], /bad\.jsonl:1: field "id" must be number, got string/],
    ];
    for (const [lines, pattern] of cases) {
      const file = write('bad.jsonl', lines);
      await expect(loadJsonl(file, spec)).rejects.toThrow(pattern);
    }
    await expect(loadJsonl(path.join(dir, 'absent.jsonl'), spec)).rejects.toThrow(/absent\.jsonl: no such file/);
  });
});

describe('jsonlBatches', () => {
  it('in file order: keeps or drops the last partial batch, runs epochs, skips batches', async () => {
    const keep = await collect(jsonlBatches(triples, { ...spec, batchSize: 4 }));
    expect(keep.map((b) => b.items.map((r) => r.id))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(keep.map((b) => b.lines[0])).toEqual([1, 5, 9]);
    const drop = await collect(jsonlBatches(triples, { ...spec, batchSize: 4, dropLast: true, epochs: 2 }));
    expect(drop.map((b) => [b.epoch, b.index, b.step, b.items[0]!.id])).toEqual([
      [0, 0, 0, 0],
      [0, 1, 1, 4],
      [1, 0, 2, 0],
      [1, 1, 3, 4],
    ]);
    const skipped = await collect(jsonlBatches(triples, { ...spec, batchSize: 4, epochs: 2, skipBatches: 4 }));
    expect(skipped.map((b) => [b.epoch, b.index, b.step])).toEqual([
      [1, 1, 4],
      [1, 2, 5],
    ]);
    expect(batchesPerEpoch(10, 4)).toBe(3);
    expect(batchesPerEpoch(10, 4, true)).toBe(2);
  });

  it('shuffled: same seed → same order, each epoch a different permutation, all records once per epoch', async () => {
    const run = (seed: number, extra = {}) => collect(jsonlBatches(triples, { ...spec, batchSize: 3, shuffle: seed, epochs: 3, ...extra }));
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    const ids = (bs: typeof a, e: number) => bs.filter((x) => x.epoch === e).flatMap((x) => x.items.map((r) => r.id));
    expect(a.map((x) => x.items)).toEqual(b.map((x) => x.items));
    expect(ids(a, 0)).not.toEqual(ids(c, 0));
    expect(ids(a, 0)).not.toEqual(ids(a, 1));
    expect(ids(a, 0)).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let e = 0; e < 3; e++) expect([...ids(a, e)].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a).toHaveLength(12);
    // lines follow the records
    for (const batch of a) batch.items.forEach((r, i) => { expect(batch.lines[i]).toBe(r.id + 1); });
    // an Rng works as well as a seed
    const viaRng = await collect(jsonlBatches(triples, { ...spec, batchSize: 3, shuffle: new Rng(11), epochs: 3 }));
    expect(viaRng.map((x) => x.items)).toEqual(a.map((x) => x.items));
  });

  it('resuming with skipBatches yields exactly the remaining batches of an uninterrupted run', async () => {
    const opts = { ...spec, batchSize: 4, shuffle: 5, epochs: 3, dropLast: true };
    const full = await collect(jsonlBatches(triples, opts));
    expect(full).toHaveLength(6);
    for (const k of [0, 1, 2, 5, 6]) {
      const resumed = await collect(jsonlBatches(triples, { ...opts, skipBatches: k }));
      expect(resumed).toEqual(full.slice(k));
    }
  });

  it('validates its options', async () => {
    await expect(collect(jsonlBatches(triples, { ...spec, batchSize: 0 }))).rejects.toThrow(/batchSize/);
    await expect(collect(jsonlBatches(triples, { ...spec, batchSize: 2, skipBatches: -1 }))).rejects.toThrow(/skipBatches/);
  });
});
