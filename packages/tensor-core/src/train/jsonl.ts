// Batches over jsonl files: one JSON object per line, validated against a field spec; errors name
// file:line and the field. Without shuffling the file is streamed (in raw byte chunks, each line decoded as strict UTF-8) once per epoch;
// with shuffling it is read once (streamed, validated) and each epoch is a permutation drawn from
// rng.fork(`epoch:<e>`), so any epoch's order is reproducible on its own (resuming needs no replay).
import fs from 'node:fs';
import { PrunekitError } from '../io/errors.js';
import { decodeUtf8 } from '../io/text.js';
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
    throw new PrunekitError(where, `invalid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PrunekitError(where, `expected a JSON object, got ${typeName(value)}`);
  }
  const obj = value as Record<string, unknown>;
  for (const [field, t] of Object.entries(options.fields)) {
    if (!(field in obj)) throw new PrunekitError(where, `missing required field "${field}"`);
    if (!matches(obj[field], t)) throw new PrunekitError(where, `field "${field}" must be ${t}, got ${typeName(obj[field])}`);
  }
  for (const [field, t] of Object.entries(options.optional ?? {})) {
    const v = obj[field];
    if (v !== undefined && v !== null && !matches(v, t)) throw new PrunekitError(where, `field "${field}" must be ${t} when present, got ${typeName(v)}`);
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
  let line = 0;
  for await (const bytes of rawLines(file)) {
    line += 1;
    // strict UTF-8 per line (so the error names the line); a BOM on the first line is dropped
    const text = decodeUtf8(bytes, file, line);
    if (text.trim() === '') continue;
    yield { line, record: parseJsonlRecord(text, `${file}:${line}`, options) };
  }
}

/** The raw bytes of each line of a file (without the newline), streamed. */
async function* rawLines(file: string): AsyncGenerator<Uint8Array> {
  let stream: fs.ReadStream;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw new PrunekitError(file, 'is a folder; expected a .jsonl file');
    stream = fs.createReadStream(file);
  } catch (err) {
    if (err instanceof PrunekitError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new PrunekitError(file, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (err as Error).message})`);
  }
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
      let nl = pending.indexOf(0x0a);
      while (nl >= 0) {
        const end = nl > 0 && pending[nl - 1] === 0x0d ? nl - 1 : nl;
        yield pending.subarray(0, end);
        pending = pending.subarray(nl + 1);
        nl = pending.indexOf(0x0a);
      }
    }
  } catch (err) {
    if (err instanceof PrunekitError) throw err;
    throw new PrunekitError(file, `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  } finally {
    stream.destroy();
  }
  if (pending.length > 0) yield pending.subarray(0, pending[pending.length - 1] === 0x0d ? pending.length - 1 : pending.length);
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
