// Atomic writes: write beside the target, fsync, then rename over it, so an interrupted run never
// leaves a half-written model or results file. The same pattern for whole folders.
import fs from 'node:fs';
import path from 'node:path';
import { mkdirBounded } from './fsutil.js';
import { claimedTempPath } from './output.js';

// Temporary paths live in the target's claimed work area (see claimOutput) when it has one, so a
// killed run leaves nothing beside the output that the next run would not clean up.
function tempName(target: string, suffix = 'tmp'): string {
  return claimedTempPath(target, suffix) ?? path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

const faultHits = new Map<string, number>();

/**
 * Test hook for the kill tests: `PRUNEKIT_KILL_AT=<point>` (or `<point>#<n>`, the n-th time it is
 * reached) makes the process SIGKILL itself there, e.g. between moving the old output aside and
 * renaming the new one into place.
 */
export function faultPoint(point: string): void {
  const at = process.env.PRUNEKIT_KILL_AT;
  if (!at?.startsWith(point)) return;
  const hit = (faultHits.get(point) ?? 0) + 1;
  faultHits.set(point, hit);
  if (at === point || at === `${point}#${hit}`) process.kill(process.pid, 'SIGKILL');
}

/** Writes a file through `write(fd)` (or a string/bytes) atomically. */
export function writeFileAtomic(target: string, content: string | Uint8Array | ((fd: number) => void)): void {
  mkdirBounded(path.dirname(target));
  const tmp = tempName(target);
  const fd = fs.openSync(tmp, 'w');
  try {
    if (typeof content === 'function') content(fd);
    else fs.writeSync(fd, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  faultPoint('file-before-rename');
  fs.renameSync(tmp, target);
}

/** Writes JSON (2-space indented, trailing newline) atomically. */
export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Builds a folder atomically: `build(tmpDir)` fills a temporary sibling folder, which then replaces
 * `target` (an existing target is moved aside first and removed only after the swap succeeded).
 */
export async function writeDirAtomic(target: string, build: (dir: string) => Promise<void> | void): Promise<void> {
  const parent = path.dirname(path.resolve(target));
  mkdirBounded(parent);
  const tmp = tempName(target);
  fs.mkdirSync(tmp);
  try {
    await build(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  faultPoint('dir-built');
  let old: string | null = null;
  if (fs.existsSync(target)) {
    old = claimedTempPath(target, 'old') ?? `${tmp}.old`;
    fs.renameSync(target, old);
  }
  faultPoint('dir-moved-aside');
  fs.renameSync(tmp, target);
  faultPoint('dir-swapped');
  if (old) fs.rmSync(old, { recursive: true, force: true });
}
