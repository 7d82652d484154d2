import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomic } from './io.js';

describe('writeFileAtomic', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  it('flushes the temporary file to disk before renaming it over the target', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-atomic-'));
    const file = path.join(dir, 'sub', 'r.json');
    const order: string[] = [];
    const fsync = vi.spyOn(fs, 'fsyncSync').mockImplementation((fd) => { order.push(`fsync:${fs.fstatSync(fd).size}`); });
    const rename = vi.spyOn(fs, 'renameSync');
    rename.mockImplementation((from, to) => { order.push('rename'); rename.mockRestore(); fs.renameSync(from, to); });
    writeFileAtomic(file, 'new contents');
    expect(fsync).toHaveBeenCalledTimes(1);
    expect(order).toEqual(['fsync:12', 'rename']);
    expect(fs.readFileSync(file, 'utf8')).toBe('new contents');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['r.json']);
  });
  it('a failed write leaves the old file and no temporary file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-atomic-'));
    const file = path.join(dir, 'r.json');
    fs.writeFileSync(file, 'old');
    vi.spyOn(fs, 'fsyncSync').mockImplementation(() => { throw new Error('disk full'); });
    expect(() => { writeFileAtomic(file, 'new'); }).toThrow(/disk full/);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['r.json']);
  });
});
