// Cells: the independent units of a suite's grid (one training run, one pruned-and-evaluated model,
// one model on an eval suite). A suite hands each cell to the run's CellRunner, which decides what
// happens to it:
//   local   - run it here unless it is already done (the default, `prunekit-bench run`);
//   plan    - only note which cells are not done (the coordinator's first pass with --queue);
//   worker  - run the one cell a queue job names and skip every other (`prunekit-bench worker`);
//   collect - run nothing; a cell that is not done is a failure (the coordinator's last pass).
// A cell is done when the suite says its outputs exist (where it can tell), else when its completion
// marker does:
// <out>/cells/<hash>.json, created exclusively after the cell's work, so that a cell finished twice
// (a worker that died after its work but before its job was acknowledged) is noticed and logged in
// <out>/cells/completions.log (one line per completion: how exactly-once is checked).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CellSpec {
  /** stable id within the run's output folder (e.g. the run folder relative to <out>) */
  key: string;
  /** one line for people */
  label: string;
}

export type CellMode = 'local' | 'plan' | 'worker' | 'collect';

export interface CellRunner {
  readonly mode: CellMode;
  /**
   * Runs, skips or notes one cell. Returns true when the cell's outputs exist after the call (done
   * before, or run now), false when they are not available in this pass.
   */
  run(cell: CellSpec, execute: () => Promise<void>, isDone?: () => boolean): Promise<boolean>;
}

export function cellsDir(outDir: string): string {
  return path.join(outDir, 'cells');
}

function markerFile(outDir: string, key: string): string {
  return path.join(cellsDir(outDir), `${crypto.createHash('sha256').update(key).digest('hex').slice(0, 24)}.json`);
}

export function isCellMarked(outDir: string, key: string): boolean {
  return fs.existsSync(markerFile(outDir, key));
}

/** Records a finished cell: the marker (exclusive create) and a line in completions.log. */
export function markCellDone(outDir: string, cell: CellSpec): void {
  fs.mkdirSync(cellsDir(outDir), { recursive: true });
  const line = JSON.stringify({ key: cell.key, label: cell.label, pid: process.pid, host: os.hostname(), at: new Date().toISOString() });
  // O_APPEND writes of one short line are atomic on local filesystems: lines never interleave
  fs.appendFileSync(path.join(cellsDir(outDir), 'completions.log'), `${line}\n`);
  const file = markerFile(outDir, cell.key);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${line}\n`);
  try {
    fs.linkSync(tmp, file); // fails if the marker exists: a second completion of the same cell
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Completion lines per cell key (exactly-once checks). */
export function readCompletions(outDir: string): Map<string, number> {
  const f = path.join(cellsDir(outDir), 'completions.log');
  const counts = new Map<string, number>();
  if (!fs.existsSync(f)) return counts;
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const { key } = JSON.parse(line) as { key: string };
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** A cell whose suite can tell (isDone) is done when the suite says so; any other when it is marked. */
function done(outDir: string, cell: CellSpec, isDone?: () => boolean): boolean {
  return isDone ? isDone() : isCellMarked(outDir, cell.key);
}

/** Runs every cell that is not done, here and now. */
export function localCells(outDir: string): CellRunner {
  return {
    mode: 'local',
    async run(cell, execute, isDone) {
      if (done(outDir, cell, isDone)) return true;
      await execute();
      markCellDone(outDir, cell);
      return true;
    },
  };
}

/** Runs nothing; collects the cells that are not done. */
export function planCells(outDir: string): CellRunner & { pending: CellSpec[] } {
  const pending: CellSpec[] = [];
  return {
    mode: 'plan',
    pending,
    run(cell, _execute, isDone) {
      if (done(outDir, cell, isDone)) return Promise.resolve(true);
      if (!pending.some((c) => c.key === cell.key)) pending.push(cell);
      return Promise.resolve(false);
    },
  };
}

/** Runs the one cell `key`; every other cell counts as not available (unless done). */
export function workerCells(outDir: string, key: string): CellRunner & { ran: boolean; error: Error | null } {
  const runner = {
    mode: 'worker' as const,
    ran: false,
    error: null as Error | null,
    async run(cell: CellSpec, execute: () => Promise<void>, isDone?: () => boolean): Promise<boolean> {
      if (cell.key !== key) return done(outDir, cell, isDone);
      runner.ran = true;
      if (done(outDir, cell, isDone)) return true; // finished by an earlier attempt: nothing to redo
      try {
        await execute();
      } catch (e) {
        runner.error = e instanceof Error ? e : new Error(String(e));
        throw e;
      }
      markCellDone(outDir, cell);
      return true;
    },
  };
  return runner;
}

/** Runs nothing; a cell that is not done is listed as missing (with the queue's reason where known). */
export function collectCells(outDir: string, reasons: ReadonlyMap<string, string> = new Map()): CellRunner & { missing: CellSpec[] } {
  const missing: CellSpec[] = [];
  return {
    mode: 'collect',
    missing,
    run(cell, _execute, isDone) {
      if (done(outDir, cell, isDone)) return Promise.resolve(true);
      missing.push(cell);
      const why = reasons.get(cell.key);
      return Promise.reject(new Error(`cell "${cell.label}" did not finish on the queue${why ? `: ${why}` : ''}`));
    },
  };
}
