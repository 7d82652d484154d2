// safetensors read/write (https://github.com/huggingface/safetensors format): an 8-byte little-endian
// header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__},
// then the data buffer. Reads go straight from the file into the destination typed array (one copy),
// one tensor at a time, so a 400 MB checkpoint is never held twice. Writes are atomic (temp + rename).
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { PrunekitError } from './errors.js';

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<DType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

export type HostData = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array | BigInt64Array | BigUint64Array;

/** A tensor in host memory, as stored (F16/BF16 are kept as raw Uint16Array bits). */
export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: HostData;
}

export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** absolute byte offset of the tensor's data in the file */
  offset: number;
  byteLength: number;
}

export class SafetensorsError extends PrunekitError {
  constructor(file: string, detail: string) {
    super(file, detail);
    this.name = 'SafetensorsError';
  }
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** An open safetensors file: the header is parsed and validated; tensors are read on demand. */
export class SafetensorsFile {
  readonly entries: Map<string, TensorEntry>;
  readonly metadata: Record<string, string>;
  private fd: number | null;

  private constructor(readonly file: string, fd: number, entries: Map<string, TensorEntry>, metadata: Record<string, string>) {
    this.fd = fd;
    this.entries = entries;
    this.metadata = metadata;
  }

  static open(file: string): SafetensorsFile {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      throw new SafetensorsError(file, `cannot open (${(err as Error).message})`);
    }
    try {
      const { entries, metadata } = parseHeader(file, fd);
      return new SafetensorsFile(file, fd, entries, metadata);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): TensorEntry {
    const e = this.entries.get(name);
    if (!e) throw new SafetensorsError(this.file, `no tensor named "${name}"`);
    return e;
  }

  /** Reads a tensor as stored. */
  read(name: string): HostTensor {
    const e = this.entry(name);
    const data = allocate(e.dtype, numel(e.shape));
    this.readInto(e, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return { dtype: e.dtype, shape: [...e.shape], data };
  }

  /** Reads a floating-point tensor converted to float32 (F16 and BF16 are widened exactly). */
  readFloat32(name: string): Float32Array {
    const e = this.entry(name);
    if (e.dtype === 'F32') {
      const out = new Float32Array(numel(e.shape));
      this.readInto(e, new Uint8Array(out.buffer));
      return out;
    }
    return toFloat32(this.read(name), `${this.file}: tensor "${name}"`);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private readInto(e: TensorEntry, dst: Uint8Array): void {
    if (this.fd === null) throw new SafetensorsError(this.file, 'file is closed');
    let done = 0;
    while (done < e.byteLength) {
      const n = fs.readSync(this.fd, dst, done, e.byteLength - done, e.offset + done);
      if (n === 0) throw new SafetensorsError(this.file, `unexpected end of file reading "${e.name}"`);
      done += n;
    }
  }
}

function parseHeader(file: string, fd: number): { entries: Map<string, TensorEntry>; metadata: Record<string, string> } {
  const size = fs.fstatSync(fd).size;
  if (size < 8) throw new SafetensorsError(file, `file is ${size} bytes; a safetensors file starts with an 8-byte header length`);
  const lenBuf = Buffer.alloc(8);
  fs.readSync(fd, lenBuf, 0, 8, 0);
  const headerLen = lenBuf.readBigUInt64LE(0);
  if (headerLen > BigInt(size - 8)) {
    throw new SafetensorsError(file, `header length ${headerLen} runs past the end of the file (${size} bytes): the file is truncated or not safetensors`);
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(file, `header length ${headerLen} exceeds ${MAX_HEADER_BYTES} bytes`);
  const n = Number(headerLen);
  const headerBuf = Buffer.alloc(n);
  fs.readSync(fd, headerBuf, 0, n, 8);
  let header: unknown;
  try {
    header = JSON.parse(headerBuf.toString('utf8'));
  } catch (err) {
    throw new SafetensorsError(file, `header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError(file, 'header must be a JSON object of tensor entries');
  }
  const dataStart = 8 + n;
  const dataLen = size - dataStart;
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Object.values(raw).some((v) => typeof v !== 'string')) {
        throw new SafetensorsError(file, '__metadata__ must be an object of string values');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const where = `tensor "${name}"`;
    if (typeof raw !== 'object' || raw === null) throw new SafetensorsError(file, `${where}: entry must be an object`);
    const { dtype, shape, data_offsets: offsets } = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      throw new SafetensorsError(file, `${where}: field "dtype" is ${JSON.stringify(dtype)}; expected one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw new SafetensorsError(file, `${where}: field "shape" must be an array of non-negative integers (got ${JSON.stringify(shape)})`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw new SafetensorsError(file, `${where}: field "data_offsets" must be [begin, end] (got ${JSON.stringify(offsets)})`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw new SafetensorsError(file, `${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) {
      throw new SafetensorsError(file, `${where}: data_offsets [${begin}, ${end}] run past the data buffer (${dataLen} bytes): file truncated?`);
    }
    const dt = dtype as DType;
    const expected = numel(shape as number[]) * DTYPE_BYTES[dt];
    if (end - begin !== expected) {
      throw new SafetensorsError(file, `${where}: ${end - begin} bytes of data for dtype ${dt} and shape [${(shape as number[]).join(', ')}]; expected ${expected}`);
    }
    spans.push([begin, end, name]);
    entries.set(name, { name, dtype: dt, shape: shape as number[], offset: dataStart + begin, byteLength: end - begin });
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!;
    const cur = spans[i]!;
    if (cur[0] < prev[1]) throw new SafetensorsError(file, `tensors "${prev[2]}" and "${cur[2]}" have overlapping data_offsets`);
  }
  return { entries, metadata };
}

function allocate(dtype: DType, n: number): HostData {
  switch (dtype) {
    case 'F64': return new Float64Array(n);
    case 'F32': return new Float32Array(n);
    case 'F16': case 'BF16': case 'U16': return new Uint16Array(n);
    case 'I64': return new BigInt64Array(n);
    case 'U64': return new BigUint64Array(n);
    case 'I32': return new Int32Array(n);
    case 'U32': return new Uint32Array(n);
    case 'I16': return new Int16Array(n);
    case 'I8': return new Int8Array(n);
    case 'U8': case 'BOOL': return new Uint8Array(n);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Converts a floating-point (or small integer) host tensor to float32. */
export function toFloat32(t: HostTensor, what = 'tensor'): Float32Array {
  const n = t.data.length;
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32': out.set(t.data as Float32Array); break;
    case 'F64': out.set(t.data as Float64Array); break;
    case 'BF16': {
      const src = t.data as Uint16Array;
      for (let i = 0; i < n; i++) {
        u32[0] = src[i]! << 16;
        out[i] = f32[0]!;
      }
      break;
    }
    case 'F16': {
      const src = t.data as Uint16Array;
      for (let i = 0; i < n; i++) out[i] = halfToFloat(src[i]!);
      break;
    }
    case 'I32': case 'I16': case 'I8': case 'U8': case 'BOOL': case 'U16': case 'U32':
      out.set(t.data as ArrayLike<number>);
      break;
    case 'I64': case 'U64':
      for (let i = 0; i < n; i++) out[i] = Number((t.data as BigInt64Array)[i]);
      break;
  }
  if (!Number.isFinite(out.length)) throw new Error(`${what}: cannot convert`);
  return out;
}

/** Converts an integer host tensor to int32, failing on values outside the int32 range. */
export function toInt32(t: HostTensor, what = 'tensor'): Int32Array {
  if (t.dtype === 'I32') return t.data as Int32Array;
  const n = t.data.length;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number((t.data as ArrayLike<number | bigint>)[i]);
    if (!Number.isInteger(v) || v > 2147483647 || v < -2147483648) throw new Error(`${what}: value ${v} at index ${i} is not an int32`);
    out[i] = v;
  }
  return out;
}

/** Reads every tensor of a file. Prefer SafetensorsFile for large files (reads one at a time). */
export function readSafetensors(file: string): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  const f = SafetensorsFile.open(file);
  try {
    const tensors = new Map<string, HostTensor>();
    for (const name of f.names()) tensors.set(name, f.read(name));
    return { tensors, metadata: f.metadata };
  } finally {
    f.close();
  }
}

function bytesOf(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * Writes tensors (sorted by name, as the Python library does) with optional string metadata,
 * atomically: to a temporary file beside the target, then renamed over it.
 */
export function writeSafetensors(file: string, tensors: Map<string, HostTensor> | Record<string, HostTensor>, metadata?: Record<string, string>): void {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const names = [...map.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = map.get(name)!;
    const expected = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new Error(`writeSafetensors(${path.basename(file)}): tensor "${name}" has ${t.data.byteLength} bytes for dtype ${t.dtype} shape [${t.shape.join(', ')}]; expected ${expected}`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data buffer starts 8-byte aligned (as the reference writer does)
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));
  writeFileAtomic(file, (fd) => {
    fs.writeSync(fd, len);
    fs.writeSync(fd, headerBytes);
    for (const name of names) {
      const b = bytesOf(map.get(name)!);
      let done = 0;
      while (done < b.length) done += fs.writeSync(fd, b, done, b.length - done);
    }
  });
}
