// One rule for every command that writes an output (a model folder, a statistics file, a results
// folder): it may write into an absent path or an empty folder, or replace an earlier prunekit output
// of the same kind; anything else is refused unless `force`. It never writes to, or replaces, an
// input model, a folder containing one, or a folder inside one. A lock file makes a second writer to
// the same output fail at once, and every temporary folder lives in the output's own hidden work area
// (`<parent>/.<name>.prunekit/`), which the next run cleans up (or resumes from) after a kill.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutputError } from './errors.js';
import { mkdirBounded } from './fsutil.js';
// model folders are recognised by the artifact manifest (format "prunekit-artifact", kind)
import { ARTIFACT_FORMAT, MANIFEST_FILE as ARTIFACT_MANIFEST } from '../artifact/manifest.js';

/** What a command writes; an output may only replace an earlier output of the same kind. */
export type OutputKind = 'model' | 'statistics' | 'eval-results' | 'bench-results' | 'report';

/** Marker written into folder outputs whose own files do not say they are prunekit's. */
export const OUTPUT_MARKER = '.prunekit-output.json';

export interface ClaimOutputOptions {
  /** the output path (a folder, or a file for kind "statistics" / "report") */
  out: string;
  kind: OutputKind;
  /** inputs never to be written or replaced (model folders, data files) */
  inputs?: readonly (string | undefined)[];
  /** replace a path that is not an earlier output of this kind */
  force?: boolean;
  /** the flag named in messages (default "--out") */
  flag?: string;
}

export interface OutputClaim {
  /** absolute output path */
  readonly out: string;
  readonly kind: OutputKind;
  /** the hidden work area beside the output (lock, temporary builds, checkpoints) */
  readonly area: string;
  /** checkpoints and caches that survive a killed or failed run, so a rerun resumes */
  readonly workDir: string;
  /** true when the output existed and is being replaced or extended */
  readonly existed: boolean;
  /** success: writes the marker (folders), removes the work area and the lock */
  finish(): void;
  /** failure: removes temporary builds and the lock; keeps non-empty checkpoints for a rerun */
  abandon(): void;
}

const LOCK = 'lock';
const WORK = 'work';
const claims = new Map<string, OutputClaim>();

/** The hidden work area of an output path. */
export function workAreaOf(out: string): string {
  const abs = path.resolve(out);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.prunekit`);
}

/** A fresh temporary path for building `target` inside its claimed work area, or null when unclaimed. */
export function claimedTempPath(target: string, suffix: string): string | null {
  const claim = claims.get(path.resolve(target));
  if (!claim) return null;
  return path.join(claim.area, `${suffix}-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`);
}

/** Settles every open claim of this process (the CLI calls this once the command has ended). */
export function settleOutputs(ok: boolean): void {
  for (const c of [...claims.values()]) {
    if (ok) c.finish();
    else c.abandon();
  }
}

/**
 * Checks that `out` may be written, takes its lock, cleans what killed runs left and returns the
 * claim. Throws OutputError with a one-line reason otherwise. Nothing is computed before this.
 */
export function claimOutput(options: ClaimOutputOptions): OutputClaim {
  const flag = options.flag ?? '--out';
  const out = path.resolve(options.out);
  if (out === path.parse(out).root) throw new OutputError(out, `${flag}: refusing to write to the filesystem root`);
  checkInputs(out, options.inputs ?? [], flag);
  const parent = path.dirname(out);
  mkdirBounded(parent, flag);
  const area = workAreaOf(out);
  try {
    fs.mkdirSync(area);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw new OutputError(out, `${flag}: cannot write in ${parent} (${code ?? (err as Error).message})`);
    if (!fs.statSync(area).isDirectory()) throw new OutputError(area, `${flag}: expected prunekit's work folder here, found a file; remove it`);
  }
  takeLock(area, out, flag);
  try {
    recoverKilledRun(out, area);
    const existed = fs.existsSync(out);
    if (existed && !options.force) checkReplaceable(out, options.kind, flag);
    adoptLegacyWork(out, area);
    if (INCREMENTAL_KINDS.has(options.kind)) markIncremental(out, options.kind);
    const claim = makeClaim(out, options.kind, area, existed);
    claims.set(out, claim);
    return claim;
  } catch (err) {
    releaseArea(area);
    throw err;
  }
}

// Outputs that grow over hours and are resumed by rerunning the same command (benchmark results):
// they are marked as ours when claimed, not only when the run ends, so that a run killed before its
// end is recognised as ours and resumes without --force. (An evaluation that fails leaves no file.)
const INCREMENTAL_KINDS: ReadonlySet<OutputKind> = new Set(['bench-results']);

function markIncremental(out: string, kind: OutputKind): void {
  fs.mkdirSync(out, { recursive: true });
  const marker = path.join(out, OUTPUT_MARKER);
  if (outputKindOf(out) === kind && fs.existsSync(marker)) return;
  fs.writeFileSync(marker, `${JSON.stringify({ format: ARTIFACT_FORMAT, schemaVersion: 1, kind })}\n`);
}

/** Runs `body` with a claimed output, finishing it on success and abandoning it on failure. */
export async function withOutput<T>(options: ClaimOutputOptions, body: (claim: OutputClaim) => Promise<T> | T): Promise<T> {
  const claim = claimOutput(options);
  try {
    const r = await body(claim);
    claim.finish();
    return r;
  } catch (err) {
    claim.abandon();
    throw err;
  }
}

/** Real path of `p`, or of its nearest existing ancestor joined with the rest. */
function realish(p: string): string {
  const rest: string[] = [];
  let cur = path.resolve(p);
  for (let i = 0; i < 4096; i++) {
    try {
      return path.join(fs.realpathSync(cur), ...rest.reverse());
    } catch {
      const up = path.dirname(cur);
      if (up === cur) return path.join(cur, ...rest.reverse());
      rest.push(path.basename(cur));
      cur = up;
    }
  }
  return path.resolve(p);
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function checkInputs(out: string, inputs: readonly (string | undefined)[], flag: string): void {
  const o = realish(out);
  for (const input of inputs) {
    if (input === undefined) continue;
    const i = realish(input);
    if (o === i) throw new OutputError(out, `${flag} is the input ${input}; prunekit never writes over its input (choose another --out)`);
    if (inside(i, o)) throw new OutputError(out, `${flag} contains the input ${input}; writing there would replace it (choose another --out)`);
    if (inside(o, i)) throw new OutputError(out, `${flag} is inside the input ${input}; prunekit never writes into its input (choose another --out)`);
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockInfo>;
    return { pid: Number(v.pid), host: v.host ?? '', started: v.started ?? '' };
  } catch {
    return null;
  }
}

function takeLock(area: string, out: string, flag: string): void {
  const file = path.join(area, LOCK);
  const body = `${JSON.stringify({ pid: process.pid, host: os.hostname(), started: new Date().toISOString() })}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, body, { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new OutputError(out, `${flag}: cannot create the lock ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const held = readLock(file);
    const sameHost = held !== null && held.host === os.hostname();
    if (held && (held.pid === process.pid && sameHost || (!sameHost && held.host !== '') || pidAlive(held.pid))) {
      throw new OutputError(out, `${flag}: another prunekit run (pid ${held.pid} on ${held.host}, since ${held.started}) is writing this output; wait for it, or remove ${file} if that run is gone`);
    }
    // a dead run's lock (or a half-written one): take it over
    fs.rmSync(file, { force: true });
  }
  throw new OutputError(out, `${flag}: could not take the lock ${file}; another run keeps taking it`);
}

function releaseArea(area: string): void {
  fs.rmSync(path.join(area, LOCK), { force: true });
  try {
    fs.rmdirSync(area);
  } catch {
    // not empty: checkpoints kept for a rerun
  }
}

/** Restores an output a killed run had moved aside, and removes its temporary builds. */
function recoverKilledRun(out: string, area: string): void {
  const olds: string[] = [];
  for (const name of fs.readdirSync(area)) {
    const p = path.join(area, name);
    if (name.startsWith('old-')) olds.push(p);
    else if (name.startsWith('tmp-')) fs.rmSync(p, { recursive: true, force: true });
  }
  // legacy litter of earlier versions: `.<name>.tmp-<pid>-<t>` and `.<name>.tmp-<pid>-<t>.old` beside the output
  const parent = path.dirname(out);
  const prefix = `.${path.basename(out)}.tmp-`;
  let siblings: string[] = [];
  try {
    siblings = fs.readdirSync(parent).filter((n) => n.startsWith(prefix));
  } catch {
    siblings = [];
  }
  for (const name of siblings) {
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (pidAlive(pid) && pid !== process.pid) continue;
    const p = path.join(parent, name);
    if (name.endsWith('.old')) olds.push(p);
    else fs.rmSync(p, { recursive: true, force: true });
  }
  olds.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (!fs.existsSync(out) && olds.length > 0) fs.renameSync(olds.shift()!, out);
  for (const p of olds) fs.rmSync(p, { recursive: true, force: true });
}

/** Checkpoints of earlier versions lived in `<out>.work`: move them into the work area so a rerun resumes. */
function adoptLegacyWork(out: string, area: string): void {
  const legacy = `${out}.work`;
  const work = path.join(area, WORK);
  if (fs.existsSync(work) || !fs.existsSync(legacy)) return;
  if (!fs.statSync(legacy).isDirectory()) return;
  const ours = (dir: string, depth: number): boolean =>
    fs.readdirSync(dir, { withFileTypes: true }).every((e) =>
      e.isDirectory() ? depth < 3 && ours(path.join(dir, e.name), depth + 1) : /\.(json|safetensors|partial|bin)$|\.tmp-/.test(e.name));
  if (ours(legacy, 0)) fs.renameSync(legacy, work);
}

function isPrunekitManifest(file: string): { kind: string } | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: unknown; kind?: unknown };
    if (v.format === ARTIFACT_FORMAT && typeof v.kind === 'string') return { kind: v.kind };
  } catch {
    return null;
  }
  return null;
}

function hasFile(dir: string, ...parts: string[]): boolean {
  try {
    return fs.statSync(path.join(dir, ...parts)).isFile();
  } catch {
    return false;
  }
}

function readJsonObject(file: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The kind of an earlier prunekit output at `p`, or null when `p` is not one. */
export function outputKindOf(p: string): OutputKind | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return null;
  }
  if (st.isFile()) {
    if (p.endsWith('.safetensors')) {
      const meta = safetensorsMetadata(p);
      if (typeof meta?.format === 'string' && meta.format.startsWith('prunekit-gradstats')) return 'statistics'; // final, checkpoint or shard
      return null;
    }
    if (/\.(md|html?)$/i.test(p)) {
      // bench reports: the Markdown model table, or the HTML page's "prunekit <version>" model line
      const head = readHead(p, 65536);
      return /\| model \| fingerprint \| tasks \||, prunekit \d|prunekit benchmark report/.test(head) ? 'report' : null;
    }
    return null;
  }
  if (!st.isDirectory()) return null;
  const marker = readJsonObject(path.join(p, OUTPUT_MARKER));
  if (marker?.format === ARTIFACT_FORMAT && typeof marker.kind === 'string') return marker.kind as OutputKind;
  if (isPrunekitManifest(path.join(p, ARTIFACT_MANIFEST))) return 'model';
  // outputs of versions before the artifact manifest
  if (hasFile(p, 'prunekit', 'masks.safetensors') || hasFile(p, 'prunekit', 'masks.json')) return 'model';
  const metrics = readJsonObject(path.join(p, 'metrics.json'));
  if (metrics && typeof metrics.packageVersions === 'object' && metrics.packageVersions !== null && '@prunekit/mask-smp' in metrics.packageVersions) return 'model';
  const report = readJsonObject(path.join(p, 'report.json'));
  if (report && typeof report.method === 'string' && hasFile(p, 'head.safetensors')) return 'model';
  if (fs.existsSync(path.join(p, 'results')) && (hasFile(p, 'report.md') || hasFile(p, 'report.html'))) return 'bench-results';
  if (looksLikeEvalResults(p)) return 'eval-results';
  return null;
}

/** MTEB layout: <model>/<revision>/<Task>.json with model_meta.json, plus our hidden cache. */
function looksLikeEvalResults(dir: string): boolean {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  if (entries.length === 0) return false;
  return entries.every((m) => {
    if (!m.isDirectory()) return false;
    const revs = fs.readdirSync(path.join(dir, m.name), { withFileTypes: true });
    return revs.length > 0 && revs.every((r) => r.isDirectory() && hasFile(dir, m.name, r.name, 'model_meta.json'));
  });
}

function readHead(file: string, n: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = fs.readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function safetensorsMetadata(file: string): Record<string, unknown> | null {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const len = Buffer.alloc(8);
      if (fs.readSync(fd, len, 0, 8, 0) !== 8) return null;
      const n = len.readBigUInt64LE(0);
      if (n > 100_000_000n) return null;
      const buf = Buffer.alloc(Number(n));
      fs.readSync(fd, buf, 0, buf.length, 8);
      const header = JSON.parse(buf.toString('utf8')) as { __metadata__?: Record<string, unknown> };
      return header.__metadata__ ?? null;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}

const FILE_KINDS: ReadonlySet<OutputKind> = new Set(['statistics', 'report']);

function checkReplaceable(out: string, kind: OutputKind, flag: string): void {
  const st = fs.statSync(out);
  const wantsFile = FILE_KINDS.has(kind);
  if (wantsFile && st.isDirectory()) throw new OutputError(out, `${flag} is a folder; expected a file path (e.g. ${path.join(out, kind === 'statistics' ? 'stats.safetensors' : 'report.md')})`);
  if (!wantsFile && !st.isDirectory()) throw new OutputError(out, `${flag} is a file; expected a folder (add --force to replace it)`);
  if (!wantsFile && fs.readdirSync(out).length === 0) return;
  const found = outputKindOf(out);
  if (found === kind) return;
  const what = found ? `a prunekit ${found} output, not ${kind}` : wantsFile ? 'an existing file prunekit did not write' : 'a non-empty folder prunekit did not write';
  throw new OutputError(out, `${flag} is ${what}; refusing to replace it (choose an empty or new path, or add --force)`);
}

function makeClaim(out: string, kind: OutputKind, area: string, existed: boolean): OutputClaim {
  const workDir = path.join(area, WORK);
  let settled = false;
  const settle = (): boolean => {
    if (settled) return false;
    settled = true;
    claims.delete(out);
    return true;
  };
  return {
    out, kind, area, workDir, existed,
    finish() {
      if (!settle()) return;
      try {
        if (!FILE_KINDS.has(kind) && fs.existsSync(out) && fs.statSync(out).isDirectory() && !fs.existsSync(path.join(out, ARTIFACT_MANIFEST))) {
          fs.writeFileSync(path.join(out, OUTPUT_MARKER), `${JSON.stringify({ format: ARTIFACT_FORMAT, schemaVersion: 1, kind })}\n`);
        }
      } finally {
        for (const name of fs.existsSync(area) ? fs.readdirSync(area) : []) {
          if (name !== LOCK) fs.rmSync(path.join(area, name), { recursive: true, force: true });
        }
        releaseArea(area);
      }
    },
    abandon() {
      if (!settle()) return;
      if (!fs.existsSync(area)) return;
      recoverKilledRun(out, area);
      if (fs.existsSync(workDir) && fs.readdirSync(workDir).length === 0) fs.rmdirSync(workDir);
      releaseArea(area);
    },
  };
}
