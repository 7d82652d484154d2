import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '@prunekit/tensor-core';
import { readManifest, readSafetensors } from '@prunekit/tensor-core';
import { run } from '../run.js';
import { memoryIo } from '@prunekit/cli-support';
import { TINY_ENCODER } from '../test-support/models.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cli-gates-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
// a tiny sentiment task in the shared datasets' layout (SST-2 uses dev as its test split)
const root = path.join(tmp, 'data');
const task = path.join(root, 'glue_sst2');
fs.mkdirSync(task, { recursive: true });
const pos = ['a wonderful film', 'great acting and a great story', 'I loved it', 'moving and funny', 'a delight'];
const neg = ['a dull mess', 'boring and too long', 'I hated it', 'the plot makes no sense', 'a waste of time'];
const rows = (n: number): string => Array.from({ length: n }, (_, i) => JSON.stringify({ text: i % 2 ? pos[i % 5] : neg[i % 5], label: String(i % 2) })).join('\n') + '\n';
fs.writeFileSync(path.join(task, 'train.jsonl'), rows(40));
fs.writeFileSync(path.join(task, 'dev.jsonl'), rows(10));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const base = ['prune', '--task', 'glue_sst2', '--model', TINY_ENCODER, '--data-root', root, '--batch-size', '8'];

describe('prunekit prune --method finegates / lora / bitfit / full-ft', () => {
  it('FineGates: progress with loss and expected sparsity; the compacted model, gates, head and manifest written atomically', async () => {
    const out = path.join(tmp, 'fg');
    const r = await cli([...base, '--out', out, '--method', 'finegates', '--sparsity', '0.4', '--steps', '20', '--gate-lr', '0.2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('warning');
    expect(r.stderr).toMatch(/train: done \(loss [\d.]+ \(task [\d.]+, reg [\d.]+\) expected sparsity [\d.]+% closed [\d.]+%\)/);
    const res = JSON.parse(r.stdout) as { kind: string; sparsity: number; metrics: { accuracy: number; compactMaxDiff: number }; parameters: { stored: number; source: number } };
    expect(res.kind).toBe('compacted-model');
    expect(res.metrics.accuracy).toBeGreaterThanOrEqual(0);
    expect(res.sparsity).toBeGreaterThan(0);
    expect(res.parameters.stored).toBeLessThan(res.parameters.source);
    expect(res.metrics.compactMaxDiff).toBeLessThanOrEqual(1e-4);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'prunekit/head.safetensors', 'prunekit/gates.safetensors', 'prunekit/manifest.json', 'prunekit/training.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    expect(fs.existsSync(`${out}.work`)).toBe(false);
    const gates = readSafetensors(path.join(out, 'prunekit', 'gates.safetensors'));
    const closed = [...gates.tensors].filter(([n]) => n.endsWith('.eval_rows') || n.endsWith('.eval_cols')).reduce((a, [, t]) => a + Array.from(t.data as Float32Array).filter((x) => x === 0).length, 0);
    expect(closed).toBeGreaterThan(0);
    const small = loadModel(out);
    const dense = loadModel(TINY_ENCODER);
    expect(small.numParameters()).toBe(res.parameters.stored);
    expect(small.numParameters()).toBeLessThan(dense.numParameters());
    small.dispose();
    dense.dispose();
    expect(readManifest(out).files).toMatchObject({ gates: 'prunekit/gates.safetensors', head: 'prunekit/head.safetensors' });
  });

  it('FineGates --remove-fraction: closes more gates after training until compaction removes that fraction; the manifest says how', async () => {
    const out = path.join(tmp, 'fg-matched');
    const r = await cli([...base, '--out', out, '--method', 'finegates', '--steps', '3', '--remove-fraction', '0.3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { sparsity: number; metrics: { compactMaxDiff: number; finalisation: { target: number; removedByGates: number; removed: number; extraClosed: number } } };
    const fin = res.metrics.finalisation;
    // 3 steps close no gate by themselves: the finalisation does all of it, and the manifest's sparsity is the compacted model's
    expect(fin.removedByGates).toBe(0);
    expect(fin.extraClosed).toBeGreaterThan(0);
    expect(fin.removed).toBeGreaterThanOrEqual(0.3);
    expect(res.sparsity).toBe(fin.removed);
    expect(res.metrics.compactMaxDiff).toBeLessThanOrEqual(1e-4);
    const training = JSON.parse(fs.readFileSync(path.join(out, 'prunekit', 'training.json'), 'utf8')) as { finalisation: unknown };
    expect(training.finalisation).toEqual(fin);
    const bad = await cli([...base, '--out', path.join(tmp, 'fg-bad'), '--method', 'lora', '--steps', '1', '--remove-fraction', '0.3']);
    expect(bad.code).not.toBe(0);
  });

  it('baselines report their trainable parameters; a rerun after an interruption resumes', async () => {
    const counts: Record<string, number> = {};
    for (const m of ['lora', 'bitfit', 'full-ft']) {
      const r = await cli([...base, '--out', path.join(tmp, m), '--method', m, '--steps', '4', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout) as { kind: string; metrics: { trainable: { total: number } } };
      expect(res.kind).toBe('fine-tuned-model');
      counts[m] = res.metrics.trainable.total;
    }
    expect(counts.bitfit).toBeLessThan(counts.lora!);
    expect(counts.lora).toBeLessThan(counts['full-ft']!);
    // a given --work-dir keeps the run's checkpoint (written after the last step too): a rerun with it resumes there
    const work = path.join(tmp, 'work');
    const firstRun = await cli([...base, '--out', path.join(tmp, 'first'), '--method', 'bitfit', '--steps', '4', '--checkpoint-every', '2', '--work-dir', work]);
    expect(firstRun.code, firstRun.stderr).toBe(0);
    expect(fs.readdirSync(work, { recursive: true }).map(String).some((f) => f.endsWith('checkpoint.safetensors'))).toBe(true);
    const resumed = await cli([...base, '--out', path.join(tmp, 'resumed'), '--method', 'bitfit', '--steps', '4', '--checkpoint-every', '2', '--work-dir', work, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const training = JSON.parse(fs.readFileSync(path.join(tmp, 'resumed', 'prunekit', 'training.json'), 'utf8')) as { resumedFrom: number };
    expect(training.resumedFrom).toBe(4);
  });

  it('bad input: one-line errors, non-zero exit, no output folder', async () => {
    const out = path.join(tmp, 'never');
    // the paper's gate lr cannot close gates in a short run: said up front
    const short = await cli([...base, '--method', 'finegates', '--out', path.join(tmp, 'short'), '--steps', '2']);
    expect(short.code, short.stderr).toBe(0);
    expect(short.stderr).toContain('prunekit: warning: gate parameters can move at most ~0.0020 in 2 gate steps');
    const badTask = await cli([...base.map((a) => (a === 'glue_sst2' ? 'imdb' : a)), '--method', 'finegates', '--out', out]);
    expect(badTask.code).not.toBe(0);
    expect(badTask.stderr).toContain('--task must be one of glue_sst2');
    const badSparsity = await cli([...base, '--method', 'finegates', '--out', out, '--sparsity', '1.5']);
    expect(badSparsity.stderr).toContain('--sparsity must be < 1 (got 1.5)');
    const notAnOption = await cli([...base, '--method', 'bitfit', '--out', out, '--lora-rank', '2']);
    expect(notAnOption.stderr).toContain('--lora-rank is not an option of method bitfit');
    const noModel = await cli([...base.map((a) => (a === TINY_ENCODER ? path.join(tmp, 'nope') : a)), '--method', 'lora', '--out', out]);
    expect(noModel.stderr).toContain('not a folder');
    expect(fs.existsSync(out)).toBe(false);
  });
});
