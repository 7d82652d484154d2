// Masks as bits: ceil(numel/8) bytes per matrix (LSB first, row-major), concatenated in masks.bin,
// with a JSON manifest naming each matrix, its shape, byte range and kept count, plus whatever the
// producing run records (method, task, head, hyper-parameters, metrics). Reading them back gives a
// MaskSet that applies to the unchanged base model.
import fs from 'node:fs';
import path from 'node:path';
import { MaskSet, writeFileAtomic, writeJsonAtomic } from '@prunekit/tensor-core';

export const BITMASK_FILE = 'masks.bin';
export const MANIFEST_FILE = 'masks.json';

export interface BitMaskEntry {
  name: string;
  shape: number[];
  /** byte offset in masks.bin */
  offset: number;
  bytes: number;
  kept: number;
}

export interface BitMaskManifest {
  format: 'prunekit-bitmasks';
  version: 1;
  /** bit i of a matrix's mask is bit (i mod 8) of its byte ⌊i/8⌋ (numpy.packbits(bitorder='little')) */
  bitOrder: 'little';
  matrices: BitMaskEntry[];
  /** bytes of masks.bin */
  maskBytes: number;
  /** kept / masked weights */
  keptFraction: number;
  [key: string]: unknown;
}

/** Writes masks.bin and masks.json into `dir` (each file atomically). Returns the manifest. */
export function saveBitMasks(dir: string, masks: MaskSet, extra: Record<string, unknown> = {}): BitMaskManifest {
  const parts: Uint8Array[] = [];
  const matrices: BitMaskEntry[] = [];
  let offset = 0;
  let kept = 0;
  let total = 0;
  for (const [name, { shape, data }] of masks.masks) {
    const bytes = packBits(data);
    let k = 0;
    for (let i = 0; i < data.length; i++) k += data[i]!;
    matrices.push({ name, shape: [...shape], offset, bytes: bytes.length, kept: k });
    parts.push(bytes);
    offset += bytes.length;
    kept += k;
    total += data.length;
  }
  const all = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const manifest: BitMaskManifest = { ...extra, format: 'prunekit-bitmasks', version: 1, bitOrder: 'little', matrices, maskBytes: offset, keptFraction: total ? kept / total : 1 };
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, BITMASK_FILE), all);
  writeJsonAtomic(path.join(dir, MANIFEST_FILE), manifest);
  return manifest;
}

/** Reads masks.bin + masks.json from `dir`. */
export function loadBitMasks(dir: string): { masks: MaskSet; manifest: BitMaskManifest } {
  const mf = path.join(dir, MANIFEST_FILE);
  const bf = path.join(dir, BITMASK_FILE);
  for (const f of [mf, bf]) if (!fs.existsSync(f)) throw new Error(`${f} is missing (a mask folder holds ${MANIFEST_FILE} and ${BITMASK_FILE})`);
  const manifest = JSON.parse(fs.readFileSync(mf, 'utf8')) as BitMaskManifest;
  if ((manifest.format as string) !== 'prunekit-bitmasks') throw new Error(`${mf}: not a prunekit bit-mask manifest (format ${manifest.format})`);
  const bytes = new Uint8Array(fs.readFileSync(bf));
  if (bytes.length !== manifest.maskBytes) throw new Error(`${bf} has ${bytes.length} bytes; its manifest says ${manifest.maskBytes}`);
  const masks = new MaskSet();
  for (const m of manifest.matrices) {
    const n = m.shape.reduce((a, b) => a * b, 1);
    const data = unpackBits(bytes.subarray(m.offset, m.offset + m.bytes), n);
    let k = 0;
    for (let i = 0; i < n; i++) k += data[i]!;
    if (k !== m.kept) throw new Error(`${bf}: mask "${m.name}" keeps ${k} weights; its manifest says ${m.kept}`);
    masks.set(m.name, m.shape, data);
  }
  return { masks, manifest };
}

/** Packs a 0/1 mask into ceil(n/8) bytes, bit i of the mask = bit (i mod 8) of byte ⌊i/8⌋ (LSB first; numpy.packbits(..., bitorder='little')). */
export function packBits(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i]) out[i >>> 3] = out[i >>> 3]! | (1 << (i & 7));
  return out;
}

/** Inverse of packBits for `n` entries. */
export function unpackBits(bytes: Uint8Array, n: number): Uint8Array {
  if (bytes.length !== Math.ceil(n / 8)) throw new Error(`${bytes.length} bytes cannot hold exactly ${n} mask bits (expected ${Math.ceil(n / 8)})`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >>> 3]! >>> (i & 7)) & 1;
  return out;
}
