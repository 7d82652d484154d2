// NumPy .npy (format 1.0) for a float32 matrix: the file `numpy.load` and outside tools read. The
// format is a fixed magic, a Python-literal header padded to 64 bytes, then the little-endian data;
// small enough that a dependency would add more than it saves.
import { writeFileAtomic } from './atomic.js';

/** Writes rows (all the same length) as a C-order little-endian float32 [n, d] array, atomically. */
export function writeNpyF32(file: string, rows: readonly Float32Array[]): void {
  const n = rows.length;
  const d = n ? rows[0]!.length : 0;
  for (const [i, r] of rows.entries()) if (r.length !== d) throw new Error(`${file}: row ${i} has ${r.length} values, row 0 has ${d}`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`;
  // magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = `${header}${' '.repeat(pad % 64)}\n`;
  const buf = Buffer.alloc(10 + header.length + 4 * n * d);
  buf.write('\x93NUMPY', 0, 'latin1');
  buf[6] = 1;
  buf[7] = 0;
  buf.writeUInt16LE(header.length, 8);
  buf.write(header, 10, 'latin1');
  let o = 10 + header.length;
  for (const r of rows) for (const v of r) { buf.writeFloatLE(v, o); o += 4; }
  writeFileAtomic(file, buf);
}
