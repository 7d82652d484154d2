// Regression tests of issue 14: every command that writes follows one output rule (absent or empty
// path, or an earlier prunekit output of the same kind; otherwise refused unless --force; never the
// input), impossible paths fail at once, and input problems are named (file, field, line).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, workAreaOf, writeSafetensors } from '@prunekit/tensor-core';
import { run } from '../run.js';
import { memoryIo } from '@prunekit/cli-support';
import { TINY_ENCODER } from '../test-support/models.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cli-safety-'));
afterAll(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}
const digest = (dir: string): string => {
  const h = createHash('sha256');
  for (const f of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = path.join(dir, f);
    h.update(f);
    if (fs.statSync(p).isFile()) h.update(fs.readFileSync(p));
  }
  return h.digest('hex');
};
/** A private copy of tiny-encoder (so a bug here could never damage the real one). */
const modelCopy = (name: string): string => {
  const dst = path.join(tmp, name);
  fs.cpSync(TINY_ENCODER, dst, { recursive: true });
  return dst;
};
const userFolder = (name: string): string => {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'thesis.tex'), 'my own work');
  return d;
};
const magnitude = (model: string, out: string, ...more: string[]): string[] => ['prune', '--model', model, '--out', out, '--method', 'magnitude', '--sparsity', '0.5', ...more];
const triplets = path.join(tmp, 'd.jsonl');
fs.writeFileSync(triplets, '{"query":"net sales","positive":"revenue was $3bn","negative":"it snowed"}\n{"query":"dividend","positive":"a dividend of $0.20","negative":"he sings"}\n');

describe('one output rule for every command that writes (issue 14 cases)', () => {
  const model = modelCopy('model');
  const before = digest(model);

  it.each([
    ['prune --out a folder of the user\'s own files', () => magnitude(model, userFolder('mine')), /mine: --out is a non-empty folder prunekit did not write; refusing to replace it \(choose an empty or new path, or add --force\)/],
    ['prune --model X --out X', () => magnitude(model, model), /--out is the input .*; prunekit never writes over its input/],
    ['prune --out the parent of the model', () => magnitude(model, tmp), /--out contains the input/],
    ['prune --out a file', () => { fs.writeFileSync(path.join(tmp, 'notes.txt'), 'x'); return magnitude(model, path.join(tmp, 'notes.txt')); }, /notes\.txt: --out is a file; expected a folder/],
    ['score --out the model\'s weights', () => ['score', '--model', model, '--data', triplets, '--out', path.join(model, 'model.safetensors')], /--out is inside the input/],
    ['score --out an existing folder', () => ['score', '--model', model, '--data', triplets, '--out', userFolder('stats-dir')], /stats-dir: --out is a folder; expected a file path/],
    ['retrain --out its --model', () => ['retrain', '--model', model, '--domain', triplets, '--out', model], /--out is the input/],
    ['eval --out a user folder', () => ['eval', '--model', model, '--tasks', 'STSBenchmark', '--data-root', tmp, '--out', userFolder('mine-eval')], /--out is a non-empty folder prunekit did not write/],
    ['prune --method finegates --out a user folder', () => {
      fs.mkdirSync(path.join(tmp, 'data', 'glue_sst2'), { recursive: true });
      return ['prune', '--task', 'glue_sst2', '--model', model, '--data-root', path.join(tmp, 'data'), '--out', userFolder('mine-gates'), '--method', 'finegates', '--steps', '1', '--gate-lr', '2'];
    }, /--out is a non-empty folder prunekit did not write/],
    ['prune --out under /proc (used to spin in mkdir forever)', () => magnitude(model, '/proc/prunekit-out'), /cannot write in \/proc/],
  ])('%s: one-line error, exit 1, nothing written or lost', async (_name, args, message) => {
    const r = await cli(args());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(digest(model)).toBe(before);
    for (const d of ['mine', 'stats-dir', 'mine-eval', 'mine-gates']) if (fs.existsSync(path.join(tmp, d))) expect(fs.readdirSync(path.join(tmp, d))).toEqual(['thesis.tex']);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('.') || n.endsWith('.work'))).toEqual([]);
  });

  it('replaces its own earlier output, refuses another kind, --force replaces anything but the input; no litter', async () => {
    const out = path.join(tmp, 'pruned');
    expect((await cli(magnitude(model, out))).code).toBe(0);
    expect(fs.existsSync(path.join(out, 'prunekit', 'masks.safetensors'))).toBe(true);
    expect((await cli(magnitude(model, out, '--sparsity', '0.25'))).code).toBe(0);
    expect((JSON.parse(fs.readFileSync(path.join(out, 'prunekit', 'manifest.json'), 'utf8')) as { options: { sparsity: number } }).options.sparsity).toBe(0.25);
    const stats = await cli(['score', '--model', model, '--data', triplets, '--out', out]);
    expect(stats.stderr).toMatch(/--out is a folder; expected a file path/);
    const mine = userFolder('forced');
    expect((await cli(magnitude(model, mine, '--force'))).code).toBe(0);
    expect(fs.existsSync(path.join(mine, 'thesis.tex'))).toBe(false);
    expect((await cli(magnitude(model, model, '--force'))).code).toBe(1);
    expect(digest(model)).toBe(before);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('.') || n.endsWith('.work'))).toEqual([]);
  });

  it('a second writer to the same --out fails clearly while the first runs', async () => {
    const out = path.join(tmp, 'busy');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      fs.mkdirSync(workAreaOf(out));
      fs.writeFileSync(path.join(workAreaOf(out), 'lock'), JSON.stringify({ pid: holder.pid, host: os.hostname(), started: 'now' }));
      const r = await cli(magnitude(model, out));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`busy: --out: another prunekit run \\(pid ${holder.pid} .*\\) is writing this output`));
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((resolve) => holder.once('exit', resolve));
    // the holder is gone: its lock is stale and taken over
    expect((await cli(magnitude(model, out))).code).toBe(0);
    expect(fs.existsSync(workAreaOf(out))).toBe(false);
  });

  it('a rerun removes what killed runs of earlier versions left beside --out', async () => {
    const out = path.join(tmp, 'legacy');
    const dead = 2 ** 22 + 12345; // above Linux's default pid_max: never a live process
    fs.mkdirSync(path.join(tmp, `.legacy.tmp-${dead}-abc`, 'prunekit'), { recursive: true });
    fs.mkdirSync(path.join(tmp, `.legacy.tmp-${dead}-abc.old`, 'prunekit'), { recursive: true });
    fs.writeFileSync(path.join(tmp, `.legacy.tmp-${dead}-abc.old`, 'prunekit', 'masks.json'), '{}'); // the moved-aside earlier output
    fs.mkdirSync(path.join(tmp, 'legacy.work'));
    fs.writeFileSync(path.join(tmp, 'legacy.work', 'domain.partial'), 'x');
    const r = await cli(magnitude(model, out));
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(tmp).filter((n) => n.includes('legacy'))).toEqual(['legacy']);
  });
});

describe('messages that name the real problem', () => {
  it('an empty model folder: config.json is reported first', async () => {
    const empty = path.join(tmp, 'empty-model');
    fs.mkdirSync(empty);
    const r = await cli(['score', '--model', empty, '--data', triplets, '--out', path.join(tmp, 's.safetensors')]);
    expect(r.stderr).toBe(`prunekit: ${path.join(empty, 'config.json')}: missing: a Hugging Face model folder needs config.json\n`);
  });

  it('a folder where a data file is expected, and non-UTF-8 data, name the path (and line)', async () => {
    const folder = path.join(tmp, 'a-folder');
    fs.mkdirSync(folder);
    const r = await cli(magnitude(modelCopy('m2'), path.join(tmp, 'o2'), '--method', 'gaprune', '--domain', folder, '--general', triplets));
    expect(r.stderr).toBe(`prunekit: --domain ${folder}: is a folder; expected a .jsonl file\n`);
    const bad = path.join(tmp, 'latin1.jsonl');
    fs.writeFileSync(bad, Buffer.concat([Buffer.from('{"query":"a","positive":"b"}\n{"query":"caf'), Buffer.from([0xe9]), Buffer.from('","positive":"b"}\n')]));
    const r2 = await cli(['score', '--model', model(), '--data', bad, '--out', path.join(tmp, 's2.safetensors')]);
    expect(r2.stderr).toBe(`prunekit: ${bad}:2: not valid UTF-8 text (save the file as UTF-8)\n`);
    function model(): string {
      return path.join(tmp, 'm2');
    }
  });

  it('an I32 weight is named with its dtype, not reported missing', async () => {
    const m = modelCopy('m-i32');
    const file = path.join(m, 'model.safetensors');
    const { tensors, metadata } = readSafetensors(file);
    const name = [...tensors.keys()].find((n) => n.endsWith('embeddings.LayerNorm.weight'))!;
    const t = tensors.get(name)!;
    tensors.set(name, { dtype: 'I32', shape: t.shape, data: Int32Array.from(t.data as Float32Array) });
    writeSafetensors(file, tensors, metadata);
    const r = await cli(['score', '--model', m, '--data', triplets, '--out', path.join(tmp, 's3.safetensors')]);
    expect(r.stderr).toMatch(new RegExp(`tensor "${name.replace(/\./g, '\\.')}" has unsupported dtype I32 in .*model\\.safetensors; prunekit reads weights stored as F32, F16, BF16 or F64`));
  });

  it('a tokenizer larger than the word embeddings is reported at load time', async () => {
    const m = modelCopy('m-vocab');
    const file = path.join(m, 'model.safetensors');
    const { tensors, metadata } = readSafetensors(file);
    const name = [...tensors.keys()].find((n) => n.endsWith('embeddings.word_embeddings.weight'))!;
    const t = tensors.get(name)!;
    const rows = 1000;
    tensors.set(name, { dtype: t.dtype, shape: [rows, t.shape[1]!], data: (t.data as Float32Array).slice(0, rows * t.shape[1]!) });
    writeSafetensors(file, tensors, metadata);
    const cfg = JSON.parse(fs.readFileSync(path.join(m, 'config.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(m, 'config.json'), JSON.stringify({ ...cfg, vocab_size: rows }));
    const r = await cli(['score', '--model', m, '--data', triplets, '--out', path.join(tmp, 's4.safetensors')]);
    expect(r.stderr).toMatch(/the tokenizer has \d+ tokens but the word embeddings have 1000 rows \(config\.json vocab_size\)/);
  });

  it('a UTF-8 BOM in config.json is dropped', async () => {
    const m = modelCopy('m-bom');
    const cfg = fs.readFileSync(path.join(m, 'config.json'));
    fs.writeFileSync(path.join(m, 'config.json'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), cfg]));
    const out = path.join(tmp, 'bom-out');
    const r = await cli(magnitude(m, out));
    expect(r.code, r.stderr).toBe(0);
  });
});
