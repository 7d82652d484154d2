// Batches over jsonl files: one JSON object per line, validated against a field spec; errors name
// file:line and the field. Without shuffling the file is streamed (node:readline) once per epoch;
// with shuffling it is read once (streamed, validated) and each epoch is a permutation drawn from
// rng.fork(`epoch:<e>`), so any epoch's order is reproducible on its own (resuming needs no replay).
import fs from 'node:fs';
import readline from 'node:readline';
import { Rng, type Seed } from './rng.js';

/** The JSON type a field must have. */
export type FieldType = 'string' | 'number' | 'boolean' | 'string[]' | 'number[]' | 'object' | 'any';

type TypeOfField<T extends FieldType> = T extends 'string'
  ? string
  : T extends 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'string[]'
        ? string[]
        : T extends 'number[]'
          ? number[]
          : T extends 'object'
            ? Record<string, unknown>
            : unknown;

/** A spec with no fields (the default for optional fields). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- deliberately no keys
export type NoFields = {};

/** Field name → required type. */
export type FieldSpec = Readonly<Record<string, FieldType>>;

/** The record type a spec describes (required fields, optional fields). */
export type RecordOf<R extends FieldSpec, O extends FieldSpec = NoFields> = { [K in keyof R]: TypeOfField<R[K]> } & {
  [K in keyof O]?: TypeOfField<O[K]>;
};

export interface JsonlReadOptions<R extends FieldSpec, O extends FieldSpec> {
  /** required fields and their types */
  fields: R;
  /** fields that may be absent (or null), checked when present */
  optional?: O;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function matches(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'string':
    case 'number':
    case 'boolean':
      return typeof v === t && (t !== 'number' || Number.isFinite(v));
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'number[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'any':
      return v !== undefined;
  }
}

/** Parses and validates one line; throws with `where` (file:line) and the field in the message. */
export function parseJsonlRecord<R extends FieldSpec, O extends FieldSpec>(
  text: string,
  where: string,
  options: JsonlReadOptions<R, O>,
): RecordOf<R, O> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: invalid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where}: expected a JSON object, got ${typeName(value)}`);
  }
  const obj = value as Record<string, unknown>;
  for (const [field, t] of Object.entries(options.fields)) {
    if (!(field in obj)) throw new Error(`${where}: missing required field "${field}"`);
    if (!matches(obj[field], t)) throw new Error(`${where}: field "${field}" must be ${t}, got ${typeName(obj[field])}`);
  }
  for (const [field, t] of Object.entries(options.optional ?? {})) {
    const v = obj[field];
    if (v !== undefined && v !== null && !matches(v, t)) throw new Error(`${where}: field "${field}" must be ${t} when present, got ${typeName(v)}`);
  }
  return obj as RecordOf<R, O>;
}

/** A validated record with its 1-based line number. */
export interface JsonlLine<T> {
  line: number;
  record: T;
}

/** Streams the records of a jsonl file, validating each line; blank lines are skipped. */
export async function* readJsonl<R extends FieldSpec, O extends FieldSpec = NoFields>(
  file: string,
  options: JsonlReadOptions<R, O>,
): AsyncGenerator<JsonlLine<RecordOf<R, O>>> {
  const stream = fs.createReadStream(file, { encoding: 'utf8' });
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line += 1;
      if (text.trim() === '') continue;
      yield { line, record: parseJsonlRecord(text, `${file}:${line}`, options) };
    }
  } finally {
    rl.close();
    stream.destroy();
  }
}

/** Reads a whole jsonl file (validated) into memory. */
export async function loadJsonl<R extends FieldSpec, O extends FieldSpec = NoFields>(
  file: string,
  options: JsonlReadOptions<R, O>,
): Promise<RecordOf<R, O>[]> {
  const out: RecordOf<R, O>[] = [];
  for await (const { record } of readJsonl(file, options)) out.push(record);
  return out;
}

export interface JsonlBatchOptions<R extends FieldSpec, O extends FieldSpec> extends JsonlReadOptions<R, O> {
  batchSize: number;
  /** shuffle each epoch with this seed or generator (default: file order, streamed) */
  shuffle?: Seed | Rng | false;
  /** epochs to run (default 1) */
  epochs?: number;
  /** drop an incomplete final batch of each epoch (default false: keep it) */
  dropLast?: boolean;
  /** skip the first k batches overall, counted across epochs (to resume after k steps) */
  skipBatches?: number;
}

export interface Batch<T> {
  /** 0-based epoch */
  epoch: number;
  /** 0-based index of the batch within its epoch */
  index: number;
  /** 0-based index of the batch overall (skipped batches included) */
  step: number;
  items: T[];
  /** 1-based source line of each item */
  lines: number[];
}

function checkCount(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min} (got ${v})`);
}

/** Batches of validated records from a jsonl file; see JsonlBatchOptions. */
export async function* jsonlBatches<R extends FieldSpec, O extends FieldSpec = NoFields>(
  file: string,
  options: JsonlBatchOptions<R, O>,
): AsyncGenerator<Batch<RecordOf<R, O>>> {
  const { batchSize, epochs = 1, dropLast = false, skipBatches = 0 } = options;
  checkCount('batchSize', batchSize, 1);
  checkCount('epochs', epochs, 0);
  checkCount('skipBatches', skipBatches, 0);
  const shuffle = options.shuffle ?? false;
  const rng = shuffle === false ? null : shuffle instanceof Rng ? shuffle : new Rng(shuffle);
  let step = 0;

  if (rng === null) {
    for (let epoch = 0; epoch < epochs; epoch++) {
      let items: RecordOf<R, O>[] = [];
      let lines: number[] = [];
      let index = 0;
      for await (const { line, record } of readJsonl(file, options)) {
        items.push(record);
        lines.push(line);
        if (items.length === batchSize) {
          if (step >= skipBatches) yield { epoch, index, step, items, lines };
          step += 1;
          index += 1;
          items = [];
          lines = [];
        }
      }
      if (items.length > 0 && !dropLast) {
        if (step >= skipBatches) yield { epoch, index, step, items, lines };
        step += 1;
      }
    }
    return;
  }

  const all: JsonlLine<RecordOf<R, O>>[] = [];
  for await (const entry of readJsonl(file, options)) all.push(entry);
  const perEpoch = dropLast ? Math.floor(all.length / batchSize) : Math.ceil(all.length / batchSize);
  for (let epoch = 0; epoch < epochs; epoch++) {
    if (step + perEpoch <= skipBatches) {
      step += perEpoch;
      continue;
    }
    const order = rng.fork(`epoch:${epoch}`).permutation(all.length);
    for (let index = 0; index < perEpoch; index++, step++) {
      if (step < skipBatches) continue;
      const picked = Array.from(order.subarray(index * batchSize, Math.min((index + 1) * batchSize, all.length)), (i) => all[i]!);
      yield { epoch, index, step, items: picked.map((e) => e.record), lines: picked.map((e) => e.line) };
    }
  }
}

/** Number of batches per epoch for `n` records. */
export function batchesPerEpoch(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}
