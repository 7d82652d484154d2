// Bounded filesystem helpers. Node's `mkdirSync(p, { recursive: true })` spins forever where a parent
// exists but refuses children with ENOENT (e.g. /proc/x), so folders are created one level at a time.
import fs from 'node:fs';
import path from 'node:path';
import { OutputError } from './errors.js';

/** Creates `dir` and its missing parents, one level at a time; a clear OutputError when impossible. */
export function mkdirBounded(dir: string, flag = 'path'): void {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(cur);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new OutputError(cur, `${flag}: cannot use this path (${code ?? (err as Error).message})`);
    }
    if (st) {
      if (!st.isDirectory()) throw new OutputError(cur, `${flag}: is a file, so ${abs} cannot be created under it`);
      break;
    }
    missing.push(cur);
    const up = path.dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && fs.statSync(d).isDirectory()) continue;
      throw new OutputError(d, `${flag}: cannot create this folder (${code ?? (err as Error).message})`);
    }
  }
}
