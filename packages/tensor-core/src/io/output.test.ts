import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeDirAtomic, writeFileAtomic } from './atomic.js';
import { OutputError } from './errors.js';
import { mkdirBounded } from './fsutil.js';
import { claimOutput, outputKindOf, settleOutputs, withOutput, workAreaOf, OUTPUT_MARKER } from './output.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-output-'));
});
afterEach(() => {
  settleOutputs(false);
  fs.rmSync(root, { recursive: true, force: true });
});

const write = (rel: string, text = 'x'): string => {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
};
const model = (): string => {
  write('model/config.json', '{}');
  write('model/model.safetensors', 'weights');
  return path.join(root, 'model');
};
/** A pid that is certainly not running: a child that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('claimOutput: what may be written', () => {
  it('a bench results folder whose run stopped before its end is still ours: the rerun resumes without --force', () => {
    const out = path.join(root, 'stopped-bench');
    const first = claimOutput({ out, kind: 'bench-results' });
    fs.mkdirSync(path.join(out, 'results', 'm'), { recursive: true });
    fs.writeFileSync(path.join(out, 'results', 'm', 'Task.json'), '{}'); // a finished cell, no report yet
    first.abandon(); // the run stops (killed, or failed) before writing its report
    expect(outputKindOf(out)).toBe('bench-results');
    const again = claimOutput({ out, kind: 'bench-results' });
    expect(fs.existsSync(path.join(out, 'results', 'm', 'Task.json'))).toBe(true);
    again.finish();
    // a folder of another kind is still refused
    expect(() => claimOutput({ out, kind: 'eval-results' })).toThrow(/refusing/);
    // a model or evaluation output is not created before it is written
    for (const kind of ['model', 'eval-results'] as const) {
      const other = path.join(root, `stopped-${kind}`);
      claimOutput({ out: other, kind }).abandon();
      expect(fs.existsSync(other)).toBe(false);
    }
  });

  it('accepts an absent path and an empty folder, and writes the marker on success', async () => {
    const out = path.join(root, 'a', 'b', 'out');
    await withOutput({ out, kind: 'model' }, async (c) => {
      await writeDirAtomic(c.out, (dir) => { fs.writeFileSync(path.join(dir, 'w'), '1'); });
    });
    expect(fs.readFileSync(path.join(out, 'w'), 'utf8')).toBe('1');
    expect(JSON.parse(fs.readFileSync(path.join(out, OUTPUT_MARKER), 'utf8'))).toEqual({ format: 'prunekit-artifact', schemaVersion: 1, kind: 'model' });
    expect(fs.readdirSync(path.dirname(out))).toEqual(['out']); // no work area, no temp litter
    fs.mkdirSync(path.join(root, 'empty'));
    claimOutput({ out: path.join(root, 'empty'), kind: 'eval-results' }).finish();
  });

  it('replaces an earlier output of the same kind, refuses another kind and anything else unless --force', async () => {
    const out = path.join(root, 'out');
    await withOutput({ out, kind: 'model' }, (c) => writeDirAtomic(c.out, (dir) => { fs.writeFileSync(path.join(dir, 'v'), '1'); }));
    await withOutput({ out, kind: 'model' }, (c) => writeDirAtomic(c.out, (dir) => { fs.writeFileSync(path.join(dir, 'v'), '2'); }));
    expect(fs.readFileSync(path.join(out, 'v'), 'utf8')).toBe('2');
    expect(() => claimOutput({ out, kind: 'eval-results' })).toThrow(/is a prunekit model output, not eval-results; refusing/);
    const mine = write('mine/notes.txt', 'precious');
    expect(() => claimOutput({ out: path.dirname(mine), kind: 'model' })).toThrow(/non-empty folder prunekit did not write; refusing to replace it .*--force/);
    expect(fs.readFileSync(mine, 'utf8')).toBe('precious');
    const file = write('file.txt', 'precious');
    expect(() => claimOutput({ out: file, kind: 'model' })).toThrow(/is a file; expected a folder/);
    expect(() => claimOutput({ out: file, kind: 'statistics' })).toThrow(/existing file prunekit did not write/);
    expect(() => claimOutput({ out: path.join(root, 'mine'), kind: 'statistics' })).toThrow(/is a folder; expected a file path/);
    // nothing of a refused claim is left behind
    expect(fs.readdirSync(root).sort()).toEqual(['file.txt', 'mine', 'out']);
    claimOutput({ out: path.dirname(mine), kind: 'model', force: true }).abandon();
  });

  it('never writes to the input, a folder containing it or a folder inside it (symlinks resolved)', () => {
    const m = model();
    const err = (out: string): string => {
      try {
        claimOutput({ out, kind: 'model', inputs: [m], force: true });
      } catch (e) {
        expect(e).toBeInstanceOf(OutputError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err(m)).toMatch(/--out is the input .*never writes over its input/);
    expect(err(root)).toMatch(/--out contains the input/);
    expect(err(path.join(m, 'model.safetensors'))).toMatch(/--out is inside the input/);
    expect(err(path.join(m, 'sub', 'new'))).toMatch(/--out is inside the input/);
    fs.symlinkSync(m, path.join(root, 'link'));
    expect(err(path.join(root, 'link'))).toMatch(/--out is the input/);
    expect(fs.readdirSync(m).sort()).toEqual(['config.json', 'model.safetensors']);
  });

  it('recognises earlier outputs of today: masks, SMP and FineGates runs, statistics, results, reports', () => {
    write('p/prunekit/masks.safetensors');
    expect(outputKindOf(path.join(root, 'p'))).toBe('model');
    write('s/metrics.json', JSON.stringify({ packageVersions: { '@prunekit/mask-smp': '0.1.0' } }));
    expect(outputKindOf(path.join(root, 's'))).toBe('model');
    write('g/report.json', JSON.stringify({ method: 'finegates' }));
    write('g/head.safetensors');
    expect(outputKindOf(path.join(root, 'g'))).toBe('model');
    write('m/prunekit/manifest.json', JSON.stringify({ format: 'prunekit-artifact', schemaVersion: 1, kind: 'masked' }));
    expect(outputKindOf(path.join(root, 'm'))).toBe('model');
    write('e/mini/abc123/model_meta.json', '{}');
    write('e/mini/abc123/Task.json', '{}');
    expect(outputKindOf(path.join(root, 'e'))).toBe('eval-results');
    write('b/results/x/y/model_meta.json', '{}');
    write('b/report.md', '# t');
    expect(outputKindOf(path.join(root, 'b'))).toBe('bench-results');
    write('r.md', '# title\n\n| model | fingerprint | tasks | time (s) |\n');
    expect(outputKindOf(path.join(root, 'r.md'))).toBe('report');
    const header = Buffer.from(JSON.stringify({ __metadata__: { format: 'prunekit-gradstats-final' } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    fs.writeFileSync(path.join(root, 'st.safetensors'), Buffer.concat([len, header]));
    expect(outputKindOf(path.join(root, 'st.safetensors'))).toBe('statistics');
    write('w.safetensors', 'not ours');
    expect(outputKindOf(path.join(root, 'w.safetensors'))).toBeNull();
    write('user/a.txt');
    expect(outputKindOf(path.join(root, 'user'))).toBeNull();
  });
});

describe('claimOutput: locks, work area and what killed runs left', () => {
  it('a second writer fails clearly while the first holds the lock; a dead pid\'s lock is taken over', () => {
    const out = path.join(root, 'out');
    const first = claimOutput({ out, kind: 'model' });
    expect(() => claimOutput({ out, kind: 'model' })).toThrow(/another prunekit run \(pid \d+ .*\) is writing this output/);
    first.finish();
    fs.mkdirSync(workAreaOf(out));
    fs.writeFileSync(path.join(workAreaOf(out), 'lock'), JSON.stringify({ pid: deadPid(), host: os.hostname(), started: 'then' }));
    claimOutput({ out, kind: 'model' }).finish();
    expect(fs.existsSync(workAreaOf(out))).toBe(false);
  });

  it('temp builds live in the work area; a failure removes them and keeps non-empty checkpoints for a rerun', async () => {
    const out = path.join(root, 'out');
    const c = claimOutput({ out, kind: 'model' });
    fs.mkdirSync(c.workDir, { recursive: true });
    fs.writeFileSync(path.join(c.workDir, 'ckpt.json'), '{}');
    let seen = '';
    await expect(writeDirAtomic(out, (dir) => { seen = dir; throw new Error('boom'); })).rejects.toThrow('boom');
    expect(path.dirname(seen)).toBe(c.area);
    c.abandon();
    expect(fs.readdirSync(c.area)).toEqual(['work']);
    expect(fs.existsSync(out)).toBe(false);
    const again = claimOutput({ out, kind: 'model' });
    expect(fs.readFileSync(path.join(again.workDir, 'ckpt.json'), 'utf8')).toBe('{}');
    again.finish();
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('restores an output a killed run had moved aside and removes temp builds, including legacy sibling litter', () => {
    const out = path.join(root, 'out');
    const area = workAreaOf(out);
    write('.out.prunekit/old-123-x/v', 'old');
    write(`.out.prunekit/old-123-x/${OUTPUT_MARKER}`, JSON.stringify({ format: 'prunekit-artifact', schemaVersion: 1, kind: 'model' }));
    write('.out.prunekit/tmp-123-x/v', 'half');
    fs.writeFileSync(path.join(area, 'lock'), JSON.stringify({ pid: deadPid(), host: os.hostname() }));
    const c = claimOutput({ out, kind: 'model' });
    expect(fs.readFileSync(path.join(out, 'v'), 'utf8')).toBe('old');
    expect(fs.readdirSync(area)).toEqual(['lock']);
    c.finish();
    // earlier versions: `.out.tmp-<pid>-<t>` beside the output, `.old` the moved-aside output, `<out>.work`
    const legacy = path.join(root, 'legacy');
    const pid = deadPid();
    write(`.legacy.tmp-${pid}-k/v`, 'half');
    write(`.legacy.tmp-${pid}-k.old/v`, 'old');
    write(`.legacy.tmp-${pid}-k.old/prunekit/masks.json`, '{}');
    write('legacy.work/domain.partial', 'ckpt');
    const l = claimOutput({ out: legacy, kind: 'model' });
    expect(fs.readFileSync(path.join(legacy, 'v'), 'utf8')).toBe('old');
    expect(fs.readFileSync(path.join(l.workDir, 'domain.partial'), 'utf8')).toBe('ckpt');
    l.finish();
    expect(fs.readdirSync(root).sort()).toEqual(['legacy', 'out']);
  });

  it('temp files of a claimed file output live in the work area', () => {
    const out = path.join(root, 'stats.safetensors');
    const c = claimOutput({ out, kind: 'statistics' });
    writeFileAtomic(out, 'data');
    expect(fs.readdirSync(root).sort()).toEqual(['.stats.safetensors.prunekit', 'stats.safetensors']);
    c.finish();
    expect(fs.readdirSync(root)).toEqual(['stats.safetensors']);
  });
});

describe('no hang on impossible paths', () => {
  it('mkdirBounded fails clearly under /proc and under a file (Node\'s recursive mkdir spins there)', () => {
    if (fs.existsSync('/proc/self')) expect(() => { mkdirBounded('/proc/prunekit-out/x', '--out'); }).toThrow(/\/proc\/prunekit-out: --out: cannot create this folder \(ENOENT\)/);
    const f = write('f');
    expect(() => { mkdirBounded(path.join(f, 'x', 'y'), '--out'); }).toThrow(/--out: is a file/);
    if (fs.existsSync('/proc/self')) expect(() => claimOutput({ out: '/proc/prunekit-out', kind: 'model' })).toThrow(/cannot write in \/proc/);
  });
});
