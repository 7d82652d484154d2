// Property-based fuzzing (fast-check, fixed seeds) of the task JSON and task data (JSONL) readers:
// each malformed input ends in a valid result or in this package's own error (DataError for data,
// TaskDefinitionError for task files) whose message starts with the file, then the line or field.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLabelledTexts, loadPairs, loadReranking, loadSts } from './data.js';
import { DataError } from './io.js';
import { TaskDefinitionError, builtinTasksDir, loadTaskFile, validateTask, type TaskDefinition } from './tasks.js';

const RUNS = 1000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-fuzz-'));
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 6 }) }),
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

function expectOwnError(e: unknown, type: typeof DataError | typeof TaskDefinitionError, file: string): void {
  if (!(e instanceof type) || !e.message.startsWith(file)) throw e;
}

describe('fuzz: task JSON files', () => {
  const sources = fs.readdirSync(builtinTasksDir).filter((f) => f.endsWith('.json')).map((f) => fs.readFileSync(path.join(builtinTasksDir, f)));

  it(`${RUNS} damaged and rewritten task definitions`, () => {
    const file = path.join(tmp, 'Task.json');
    const field = fc.constantFrom('name', 'type', 'domain', 'data', 'splits', 'options', 'mainMetric', 'description', 'x');
    const rewrite = fc.record({ source: fc.nat(), edits: fc.array(fc.record({ key: field, value: fc.option(fc.jsonValue()) }), { maxLength: 3 }), ms: fc.array(mutation, { maxLength: 2 }) });
    let refused = 0;
    fc.assert(fc.property(rewrite, ({ source, edits, ms }) => {
      const def = JSON.parse(sources[source % sources.length]!.toString('utf8')) as Record<string, unknown>;
      for (const e of edits) {
        if (e.value === null) Reflect.deleteProperty(def, e.key);
        else def[e.key] = e.value;
      }
      fs.writeFileSync(file, mutate(Buffer.from(JSON.stringify(def)), ms));
      try {
        loadTaskFile(file);
      } catch (e) {
        expectOwnError(e, TaskDefinitionError, file);
        refused++;
      }
    }), { numRuns: RUNS, seed: 2401 });
    expect(refused).toBeGreaterThan(RUNS / 2);
  });
});

// the readers take their own task type; the fuzz drives each with a task of that type
type AnyLoader = (task: TaskDefinition, root: string, split: string) => unknown;
const rowOf = (fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> => fc.record(fields);

describe('fuzz: task data JSONL', () => {
  const dataDir = path.join(tmp, 'd');
  fs.mkdirSync(dataDir);
  const file = path.join(dataDir, 'test.jsonl');
  const tasks = [
    { load: loadSts as AnyLoader, def: validateTask({ name: 'S', type: 'sts', domain: 'g', data: dataDir, splits: ['test'] }), row: rowOf({ sentence1: fc.string(), sentence2: fc.string(), score: fc.double() }) },
    { load: loadLabelledTexts as AnyLoader, def: validateTask({ name: 'C', type: 'clustering', domain: 'g', data: dataDir, splits: ['test'] }), row: rowOf({ text: fc.string(), label: fc.oneof(fc.string(), fc.integer()) }) },
    { load: loadPairs as AnyLoader, def: validateTask({ name: 'P', type: 'pair-classification', domain: 'g', data: dataDir, splits: ['test'] }), row: rowOf({ sentence1: fc.string(), sentence2: fc.string(), label: fc.constantFrom(0, 1, 2, '1', null) }) },
    { load: loadReranking as AnyLoader, def: validateTask({ name: 'R', type: 'reranking', domain: 'g', data: dataDir, splits: ['test'] }), row: rowOf({ query: fc.string(), positive: fc.array(fc.string(), { maxLength: 2 }), negative: fc.array(fc.string(), { maxLength: 2 }) }) },
  ];

  it(`${RUNS} files of valid, mistyped, malformed and non-UTF-8 rows across the readers (STS, labelled texts, pairs, reranking)`, () => {
    let refused = 0;
    const input = fc.record({
      task: fc.nat({ max: tasks.length - 1 }),
      rows: fc.array(fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('sentence1', 'sentence2', 'score', 'label', 'text', 'query', 'positive', 'negative'), fc.jsonValue(), { maxKeys: 4 })), { maxLength: 4 }),
      ms: fc.array(mutation, { maxLength: 2 }),
    }).chain(({ task, rows, ms }) => fc.record({ task: fc.constant(task), rows: fc.constant(rows), ms: fc.constant(ms), valid: fc.array(tasks[task]!.row, { maxLength: 3 }) }));
    fc.assert(fc.property(input, ({ task, rows, ms, valid }) => {
      const lines = [...valid, ...rows].map((r) => JSON.stringify(r));
      fs.writeFileSync(file, mutate(Buffer.from(lines.join('\n')), ms));
      const t = tasks[task]!;
      try {
        t.load(t.def, tmp, 'test');
      } catch (e) {
        expectOwnError(e, DataError, file);
        refused++;
      }
    }), { numRuns: RUNS, seed: 2402 });
    expect(refused).toBeGreaterThan(RUNS / 2);
  });
});
