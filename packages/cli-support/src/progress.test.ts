import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { memoryIo } from './io.js';
import { suiteProgress } from './progress.js';

/** A writable that claims to be a terminal and keeps what was drawn. */
function fakeTty(): Writable & { isTTY: boolean; columns: number; text: string } {
  const s = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        s.text += chunk.toString();
        cb();
      },
    }),
    { isTTY: true, columns: 120, text: '' },
  );
  return s;
}

describe('suiteProgress', () => {
  it('on a terminal: one bar per task with texts encoded, then the time it took', () => {
    const io = memoryIo();
    const tty = fakeTty();
    const p = suiteProgress(io, { tasks: ['A', 'B'], tty });
    p.onProgress({ task: 'A', split: 'test', stage: 'load' });
    p.onProgress({ task: 'A', split: 'test', stage: 'encode', done: 0, total: 500 });
    p.onProgress({ task: 'A', split: 'test', stage: 'encode', done: 256, total: 500 });
    p.onProgress({ task: 'A', split: 'test', stage: 'encode', done: 500, total: 500 });
    p.log('prunekit: warning: something odd');
    p.onProgress({ task: 'A', stage: 'done' });
    p.onProgress({ task: 'B', stage: 'skipped' });
    p.stop();
    // (the bar redraws at most every 100 ms; the first and the final state are always drawn)
    expect(tty.text).toContain('[1/2] A');
    expect(tty.text).toMatch(/500\/500 texts \| done in \d+\.\d s/);
    expect(io.stderr).toBe('prunekit: warning: something odd\n[2/2] B: results already present, skipped\n');
  });

  it('without a terminal: a start and a done line per task, encoding lines at most every interval', () => {
    const io = memoryIo();
    const p = suiteProgress(io, { tasks: ['A'], label: 'm1', plainInterval: 0 });
    p.onProgress({ task: 'A', split: 'dev', stage: 'load' });
    p.onProgress({ task: 'A', split: 'dev', stage: 'encode', done: 256, total: 300 });
    p.onProgress({ task: 'A', split: 'dev', stage: 'metrics' });
    p.onProgress({ task: 'A', stage: 'done' });
    expect(io.stderr.split('\n')).toEqual(['m1 [1/1] A: started', 'm1 [1/1] A: encoding (dev) 256/300', expect.stringMatching(/^m1 \[1\/1\] A: done in \d+\.\d s$/), '']);
    const quiet = memoryIo();
    const q = suiteProgress(quiet, { tasks: ['A'] });
    q.onProgress({ task: 'A', stage: 'encode', done: 256, total: 300 });
    expect(quiet.stderr).toBe('[1/1] A: started\n');
  });
});
