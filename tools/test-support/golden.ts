// Golden-output tests: seeded training runs are deterministic, so their per-step losses and a hash
// of their final tensors, recorded once from a known-good version of the code, must be reproduced
// bit for bit by later versions. PRUNEKIT_RECORD_GOLDEN=1 (re)records the file instead of comparing.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { expect } from 'vitest';

/** sha256 (hex, 16 chars) over name, shape and float32 bytes of each tensor, in name order. */
export function hashTensors(tensors: Iterable<[string, { shape: readonly number[]; data: ArrayLike<number> }]>): string {
  const h = createHash('sha256');
  for (const [name, t] of [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    h.update(`${name}[${t.shape.join(',')}]`);
    h.update(Buffer.from(Float32Array.from(t.data).buffer));
  }
  return h.digest('hex').slice(0, 16);
}

/** Compares `value` with the recorded file (exact JSON equality), or records it. */
export function expectGolden(file: string, value: unknown): void {
  const json = JSON.parse(JSON.stringify(value)) as unknown;
  if (process.env.PRUNEKIT_RECORD_GOLDEN === '1') {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
    return;
  }
  if (!fs.existsSync(file)) throw new Error(`${file} is absent: record it with PRUNEKIT_RECORD_GOLDEN=1 from a known-good version`);
  expect(json).toEqual(JSON.parse(fs.readFileSync(file, 'utf8')));
}
