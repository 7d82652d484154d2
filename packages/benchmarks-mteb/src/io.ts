// File input/output: JSON lines and BEIR qrels with file:line errors, atomic writes.
import fs from 'node:fs';
import path from 'node:path';

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** Reads a .jsonl file: one JSON object per non-blank line. Malformed lines fail with file:line. */
export function readJsonl(file: string): { line: number; row: Record<string, unknown> }[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(`${file}: cannot read (${(e as Error).message})`);
  }
  const out: { line: number; row: Record<string, unknown> }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new DataError(`${file}:${i + 1}: malformed JSON line (${(e as Error).message})`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DataError(`${file}:${i + 1}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : typeof v}`);
    out.push({ line: i + 1, row: v as Record<string, unknown> });
  }
  return out;
}

/** A required string field of a JSON-lines row. */
export function stringField(file: string, line: number, row: Record<string, unknown>, field: string, opts: { allowNumber?: boolean; optional?: boolean } = {}): string {
  const v = row[field];
  if (v === undefined || v === null) {
    if (opts.optional) return '';
    throw new DataError(`${file}:${line}: field "${field}" is missing (expected a string)`);
  }
  if (typeof v === 'string') return v;
  if (opts.allowNumber && (typeof v === 'number' || typeof v === 'boolean')) return String(v);
  throw new DataError(`${file}:${line}: field "${field}" must be a string${opts.allowNumber ? ' or number' : ''}, got ${JSON.stringify(v)}`);
}

export function numberField(file: string, line: number, row: Record<string, unknown>, field: string): number {
  const v = row[field];
  if (v === undefined || v === null) throw new DataError(`${file}:${line}: field "${field}" is missing (expected a number)`);
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new DataError(`${file}:${line}: field "${field}" must be a finite number, got ${JSON.stringify(v)}`);
  return n;
}

export interface QrelsFile {
  /** query id → doc id → grade (insertion order of the file). */
  qrels: Record<string, Record<string, number>>;
  rows: number;
}

export interface QrelsRow {
  query: string;
  doc: string;
  score: number;
  /** 1-based line number in the file */
  line: number;
}

/** BEIR qrels rows in file order: TSV with header `query-id corpus-id score`; errors name file:line. */
export function readQrelsRows(file: string): QrelsRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(`${file}: cannot read (${(e as Error).message})`);
  }
  const lines = text.split('\n');
  const header = (lines[0] ?? '').replace(/\r$/, '').split('\t');
  if (header.length < 3 || header[0] !== 'query-id' || header[1] !== 'corpus-id' || header[2] !== 'score') {
    throw new DataError(`${file}:1: expected the header "query-id\\tcorpus-id\\tscore", got ${JSON.stringify(lines[0] ?? '')}`);
  }
  const rows: QrelsRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const parts = raw.split('\t');
    if (parts.length < 3) throw new DataError(`${file}:${i + 1}: expected 3 tab-separated fields (query-id, corpus-id, score), got ${parts.length}`);
    const score = Number(parts[2]);
    if (!Number.isFinite(score) || parts[2]!.trim() === '') throw new DataError(`${file}:${i + 1}: score must be a number, got ${JSON.stringify(parts[2])}`);
    rows.push({ query: parts[0]!, doc: parts[1]!, score, line: i + 1 });
  }
  return rows;
}

/** Writes BEIR qrels rows (with the header) atomically. */
export function writeQrels(file: string, rows: readonly Pick<QrelsRow, 'query' | 'doc' | 'score'>[]): void {
  writeFileAtomic(file, `query-id\tcorpus-id\tscore\n${rows.map((r) => `${r.query}\t${r.doc}\t${r.score}\n`).join('')}`);
}

/** BEIR qrels as query id → doc id → grade (a later row for the same pair replaces the earlier one). */
export function readQrels(file: string): QrelsFile {
  const qrels: Record<string, Record<string, number>> = Object.create(null) as Record<string, Record<string, number>>;
  const rows = readQrelsRows(file);
  for (const r of rows) (qrels[r.query] ??= Object.create(null) as Record<string, number>)[r.doc] = r.score;
  return { qrels, rows: rows.length };
}

/**
 * Writes a file atomically: a temporary file in the same folder, flushed to disk (fsync), then
 * renamed over the target, so a crash leaves the old file or the new one, never a torn one.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}
