// Property-based fuzzing (fast-check, fixed seeds) of every reader of user files in tensor-core: each
// malformed input must end either in a valid result or in prunekit's own error (PrunekitError) whose
// message starts with the file it is about (then the field or line) — never another exception.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fixturesDir } from '../test-support/reference.js';
import { readConfig } from '../model/config.js';
import { readMaskManifest, MaskSet } from '../prune/maskset.js';
import { loadJsonl } from '../train/jsonl.js';
import { PrunekitError } from './errors.js';
import { SafetensorsFile } from './safetensors.js';

const RUNS = 1000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-fuzz-'));
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

/** Runs `read`; returns true when it succeeded, false for a PrunekitError naming `file`; rethrows anything else. */
function outcome(read: () => void, file: string): boolean {
  try {
    read();
    return true;
  } catch (e) {
    if (!(e instanceof PrunekitError) || !e.message.startsWith(file)) throw e;
    return false;
  }
}

const counts = (): { ok: number; refused: number } => ({ ok: 0, refused: 0 });

// a small valid safetensors file to mutate: two tensors and metadata
function validSafetensors(): Buffer {
  const header = { __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] }, b: { dtype: 'I64', shape: [3], data_offsets: [16, 40] } };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, Buffer.alloc(40, 7)]);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(buf: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(buf);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    if (m.kind === 'flip' && at < b.length) b[at] = m.byte;
    else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
  }
  return b;
}

const readAll = (file: string) => (): void => {
  const st = SafetensorsFile.open(file);
  try {
    for (const n of st.names()) st.read(n);
  } finally {
    st.close();
  }
};

describe('fuzz: safetensors header and body', () => {
  it(`${RUNS} byte-level mutations of a valid file`, () => {
    const base = validSafetensors();
    const file = path.join(tmp, 'mut.safetensors');
    const c = counts();
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
      fs.writeFileSync(file, mutate(base, ms));
      c[outcome(readAll(file), file) ? 'ok' : 'refused']++;
    }), { numRuns: RUNS, seed: 1401 });
    expect(c.refused).toBeGreaterThan(RUNS / 2);
  });

  it(`${RUNS} generated headers (wrong types, dtypes, shapes, offsets, metadata) over a random body`, () => {
    const dim = fc.oneof(fc.nat({ max: 6 }), fc.constantFrom(-1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER), fc.string({ maxLength: 2 }) as fc.Arbitrary<unknown>);
    const entry = fc.record({
      dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I32', 'I64', 'U8', 'BOOL', 'F64', 'f32', 'Q4', ''), fc.jsonValue()),
      shape: fc.oneof(fc.array(dim, { maxLength: 3 }), fc.jsonValue()),
      data_offsets: fc.oneof(fc.tuple(fc.nat({ max: 80 }), fc.nat({ max: 80 })), fc.array(fc.integer({ min: -5, max: 100 }), { maxLength: 3 }), fc.jsonValue()),
    }, { requiredKeys: [] });
    const header = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(entry, fc.jsonValue()), { maxKeys: 4 }).map((d) => d as unknown),
      fc.record({ __metadata__: fc.oneof(fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue(), { maxKeys: 2 }), fc.jsonValue()), t: entry }).map((d) => d as unknown),
      fc.jsonValue(),
    );
    const file = path.join(tmp, 'gen.safetensors');
    const c = counts();
    fc.assert(fc.property(header, fc.nat({ max: 96 }), fc.boolean(), (h, bodyLen, lie) => {
      const json = Buffer.from(JSON.stringify(h));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(lie ? json.length + bodyLen + 1 : json.length));
      fs.writeFileSync(file, Buffer.concat([len, json, Buffer.alloc(bodyLen, 1)]));
      c[outcome(readAll(file), file) ? 'ok' : 'refused']++;
    }), { numRuns: RUNS, seed: 1402 });
    expect(c.refused).toBeGreaterThan(RUNS / 2);
  });
});

describe('fuzz: config.json', () => {
  const valid = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'models', 'bert-base', 'config.json'), 'utf8')) as Record<string, unknown>;
  const keys = Object.keys(valid);

  it(`${RUNS} configs with fields removed or replaced by arbitrary JSON, and raw byte damage`, () => {
    const dir = path.join(tmp, 'cfg');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'config.json');
    const edit = fc.record({ key: fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 6 })), value: fc.option(fc.oneof(fc.jsonValue(), fc.integer({ min: -3, max: 5000 }), fc.constantFrom('bert', 'roberta', 'gpt2', 'gelu', 'swish'))) });
    const c = counts();
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), fc.array(mutation, { maxLength: 2 }), (edits, ms) => {
      const cfg: Record<string, unknown> = { ...valid };
      for (const e of edits) {
        if (e.value === null) Reflect.deleteProperty(cfg, e.key);
        else cfg[e.key] = e.value;
      }
      fs.writeFileSync(file, mutate(Buffer.from(JSON.stringify(cfg)), ms));
      c[outcome(() => { readConfig(dir); }, file) ? 'ok' : 'refused']++;
    }), { numRuns: RUNS, seed: 1403 });
    expect(c.refused).toBeGreaterThan(RUNS / 4);
  });
});

describe('fuzz: JSONL (triplets)', () => {
  it(`${RUNS} files of valid, malformed, mistyped, empty and non-UTF-8 lines`, async () => {
    const file = path.join(tmp, 'triplets.jsonl');
    const line = fc.oneof(
      fc.record({ query: fc.string(), positive: fc.string(), negative: fc.option(fc.string()) }).map((r) => JSON.stringify(r)),
      fc.dictionary(fc.constantFrom('query', 'positive', 'negative', 'x'), fc.jsonValue(), { maxKeys: 4 }).map((r) => JSON.stringify(r)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 20 }),
      fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const c = counts();
    await fc.assert(fc.asyncProperty(fc.array(line, { maxLength: 6 }), fc.array(mutation, { maxLength: 2 }), fc.boolean(), async (lines, ms, crlf) => {
      fs.writeFileSync(file, mutate(Buffer.from(lines.join(crlf ? '\r\n' : '\n'), 'latin1'), ms));
      try {
        await loadJsonl(file, { fields: { query: 'string', positive: 'string' }, optional: { negative: 'string' } });
        c.ok++;
      } catch (e) {
        if (!(e instanceof PrunekitError) || !e.message.startsWith(`${file}:`)) throw e;
        c.refused++;
      }
    }), { numRuns: RUNS, seed: 1404 });
    expect(c.refused).toBeGreaterThan(RUNS / 4);
  });
});

describe('fuzz: masks manifest and mask file', () => {
  it(`${RUNS} masks.json documents and damaged mask files`, () => {
    const dir = path.join(tmp, 'masks');
    fs.mkdirSync(dir);
    const tensors = path.join(dir, 'masks.safetensors');
    const manifest = path.join(dir, 'masks.json');
    const masks = new MaskSet();
    masks.set('w', [2, 3], Uint8Array.from([1, 0, 1, 1, 0, 0]));
    masks.save(tensors, { method: 'magnitude' });
    const goodTensors = fs.readFileSync(tensors);
    const goodManifest = fs.readFileSync(manifest);
    const doc = fc.oneof(
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
      fc.record({ format: fc.oneof(fc.constant('prunekit-masks'), fc.jsonValue()), method: fc.oneof(fc.string(), fc.jsonValue()) }, { requiredKeys: [] }).map((v) => Buffer.from(JSON.stringify(v))),
      fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => mutate(goodManifest, ms)),
    );
    const c = counts();
    fc.assert(fc.property(doc, fc.array(mutation, { maxLength: 2 }), (m, ms) => {
      fs.writeFileSync(manifest, m);
      fs.writeFileSync(tensors, mutate(goodTensors, ms));
      let ok = true;
      try {
        readMaskManifest(manifest);
        MaskSet.load(tensors);
      } catch (e) {
        if (!(e instanceof PrunekitError) || !(e.message.startsWith(manifest) || e.message.startsWith(tensors))) throw e;
        ok = false;
      }
      c[ok ? 'ok' : 'refused']++;
    }), { numRuns: RUNS, seed: 1405 });
    expect(c.refused).toBeGreaterThan(RUNS / 2);
  });
});
