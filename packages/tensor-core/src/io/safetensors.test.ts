import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SafetensorsFile, readSafetensors, toFloat32, writeSafetensors } from './safetensors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-st-'));
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** Builds a safetensors file by hand (independently of writeSafetensors). */
function handMade(header: unknown, data: Uint8Array, headerLenOverride?: bigint): string {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLenOverride ?? BigInt(json.length));
  const file = path.join(dir, `case-${Math.random().toString(36).slice(2)}.safetensors`);
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
  return file;
}

describe('safetensors', () => {
  it('reads a hand-made file with F32, F16, BF16, I64 and BOOL tensors', () => {
    const f32 = new Float32Array([1.5, -2, 3.25]);
    // F16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, smallest subnormal 2^-24 = 0x0001
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]);
    // BF16: top 16 bits of float32 1.0 (0x3f80) and -0.5 (0xbf00)
    const bf16 = new Uint16Array([0x3f80, 0xbf00]);
    const i64 = new BigInt64Array([5n, -7n]);
    const bool = new Uint8Array([1, 0, 1]);
    const parts = [f32, f16, bf16, i64, bool].map((a) => new Uint8Array(a.buffer));
    const offsets: [number, number][] = [];
    let o = 0;
    for (const p of parts) {
      offsets.push([o, o + p.length]);
      o += p.length;
    }
    const file = handMade(
      {
        __metadata__: { format: 'pt' },
        a: { dtype: 'F32', shape: [3], data_offsets: offsets[0] },
        b: { dtype: 'F16', shape: [2, 2], data_offsets: offsets[1] },
        c: { dtype: 'BF16', shape: [2], data_offsets: offsets[2] },
        d: { dtype: 'I64', shape: [2], data_offsets: offsets[3] },
        e: { dtype: 'BOOL', shape: [3], data_offsets: offsets[4] },
      },
      Buffer.concat(parts),
    );
    const st = SafetensorsFile.open(file);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(Array.from(st.readFloat32('a'))).toEqual([1.5, -2, 3.25]);
    expect(Array.from(st.readFloat32('b'))).toEqual([1, -2, 65504, 2 ** -24]);
    expect(Array.from(st.readFloat32('c'))).toEqual([1, -0.5]);
    expect(Array.from(st.read('d').data as BigInt64Array)).toEqual([5n, -7n]);
    expect(st.read('e')).toEqual({ dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) });
    st.close();
  });

  it('round-trips what it writes, byte-aligned, with metadata', () => {
    const file = path.join(dir, 'rt.safetensors');
    writeSafetensors(file, {
      'x.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
      mask: { dtype: 'BOOL', shape: [2], data: new Uint8Array([0, 1]) },
      ids: { dtype: 'I32', shape: [1], data: new Int32Array([-9]) },
    }, { note: 'hi' });
    const raw = fs.readFileSync(file);
    expect(Number(raw.readBigUInt64LE(0)) % 8).toBe(0);
    const { tensors, metadata } = readSafetensors(file);
    expect(metadata).toEqual({ note: 'hi' });
    expect(Array.from(tensors.get('x.weight')!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensors.get('mask')!.dtype).toBe('BOOL');
    expect(Array.from(tensors.get('ids')!.data as Int32Array)).toEqual([-9]);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('widens F16 infinities and NaN', () => {
    expect(Array.from(toFloat32({ dtype: 'F16', shape: [3], data: new Uint16Array([0x7c00, 0xfc00, 0x7e00]) }))).toEqual([Infinity, -Infinity, NaN]);
  });

  describe('bad files give errors naming the file and the problem', () => {
    const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const eight = new Uint8Array(8);
    const cases: [string, () => string, RegExp][] = [
      ['a file shorter than the length prefix', () => { const f = path.join(dir, 'short.safetensors'); fs.writeFileSync(f, Buffer.from([1, 2])); return f; }, /starts with an 8-byte header length/],
      ['a header length past the end of the file', () => handMade(good, eight, 10_000n), /header length 10000 runs past the end of the file/],
      ['invalid JSON', () => { const f = handMade(good, eight); const b = fs.readFileSync(f); b[9] = 0x7b; b[10] = 0x7b; fs.writeFileSync(f, b); return f; }, /header is not valid JSON/],
      ['an unknown dtype', () => handMade({ a: { dtype: 'F8', shape: [2], data_offsets: [0, 8] } }, eight), /tensor "a": field "dtype" is "F8"; expected one of/],
      ['offsets out of range', () => handMade({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, eight), /data_offsets \[0, 16\] run past the data buffer \(8 bytes\)/],
      ['bytes not matching the shape', () => handMade({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eight), /8 bytes of data for dtype F32 and shape \[3\]; expected 12/],
      ['overlapping tensors', () => handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight), /tensors "a" and "b" have overlapping data_offsets/],
      ['a bad shape', () => handMade({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, eight), /field "shape" must be an array of non-negative integers/],
    ];
    for (const [what, make, message] of cases) {
      it(what, () => {
        const file = make();
        expect(() => SafetensorsFile.open(file)).toThrow(message);
        expect(() => SafetensorsFile.open(file)).toThrow(file);
      });
    }
  });
});
