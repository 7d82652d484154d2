import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '@prunekit/tensor-core';
import { GateSet } from '@prunekit/gates-finegates';
import { run } from '../run.js';
import { memoryIo } from '../util/io.js';
import { BUNDLED_MODEL } from '../demo/run.js';

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

const base = ['prune-gates', '--task', 'glue_sst2', '--model', BUNDLED_MODEL, '--data-root', root, '--batch-size', '8'];

describe('prunekit prune-gates', () => {
  it('FineGates: progress with loss and expected sparsity; gates, compacted model, head and report written atomically', async () => {
    const out = path.join(tmp, 'fg');
    const r = await cli([...base, '--out', out, '--method', 'finegates', '--sparsity', '0.4', '--steps', '20', '--gate-lr', '0.2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('warning');
    expect(r.stderr).toMatch(/train: done \(loss [\d.]+ \(task [\d.]+, reg [\d.]+\) expected sparsity [\d.]+% closed [\d.]+%\)/);
    const res = JSON.parse(r.stdout) as { metrics: { accuracy: number }; removed: { linearBefore: number; linearAfter: number }; compactMaxDiff: number };
    expect(res.metrics.accuracy).toBeGreaterThanOrEqual(0);
    expect(res.removed.linearAfter).toBeLessThan(res.removed.linearBefore);
    expect(res.compactMaxDiff).toBeLessThanOrEqual(1e-4);
    for (const f of ['model/config.json', 'model/model.safetensors', 'model/tokenizer.json', 'head.safetensors', 'gates/gates.safetensors', 'gates/gates.json', 'report.json', 'report.md']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    expect(fs.existsSync(`${out}.work`)).toBe(false);
    const { gates } = GateSet.load(path.join(out, 'gates'));
    expect(gates.stats().closedWeights).toBeGreaterThan(0);
    gates.dispose();
    const small = loadModel(path.join(out, 'model'));
    expect(small.numParameters()).toBeLessThan(loadModel(BUNDLED_MODEL).numParameters());
    small.dispose();
    expect(fs.readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('## Parameters removed per layer');
  });

  it('baselines report their trainable parameters; a rerun after an interruption resumes', async () => {
    const counts: Record<string, number> = {};
    for (const m of ['lora', 'bitfit', 'full-ft']) {
      const r = await cli([...base, '--out', path.join(tmp, m), '--method', m, '--steps', '4', '--json']);
      expect(r.code, r.stderr).toBe(0);
      counts[m] = (JSON.parse(r.stdout) as { trainable: { total: number } }).trainable.total;
    }
    expect(counts.bitfit).toBeLessThan(counts.lora!);
    expect(counts.lora).toBeLessThan(counts['full-ft']!);
    // a run that fails after training (here: the output cannot be written) keeps its checkpoint; the rerun resumes
    fs.writeFileSync(path.join(tmp, 'afile'), '');
    const work = path.join(tmp, 'work');
    const failed = await cli([...base, '--out', path.join(tmp, 'afile', 'x'), '--method', 'bitfit', '--steps', '4', '--checkpoint-every', '2', '--work-dir', work]);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n').at(-1)).toMatch(/^prunekit: /);
    expect(fs.existsSync(path.join(work, 'checkpoint.json'))).toBe(true);
    const resumed = await cli([...base, '--out', path.join(tmp, 'resumed'), '--method', 'bitfit', '--steps', '4', '--checkpoint-every', '2', '--work-dir', work, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as { resumedFrom: number }).resumedFrom).toBe(4);
    expect(fs.existsSync(work)).toBe(false);
  });

  it('bad input: one-line errors, non-zero exit, no output folder', async () => {
    const out = path.join(tmp, 'never');
    // the paper's gate lr cannot close gates in a short run: said up front
    const short = await cli([...base, '--out', path.join(tmp, 'short'), '--steps', '2']);
    expect(short.code, short.stderr).toBe(0);
    expect(short.stderr).toContain('prunekit: warning: gate parameters can move at most ~0.0020 in 2 steps');
    const badTask = await cli([...base.map((a) => (a === 'glue_sst2' ? 'imdb' : a)), '--out', out]);
    expect(badTask.code).not.toBe(0);
    expect(badTask.stderr).toContain('--task must be one of glue_sst2');
    const badSparsity = await cli([...base, '--out', out, '--sparsity', '1.5']);
    expect(badSparsity.stderr).toContain('--sparsity expects a number in (0, 1) (got "1.5")');
    const badMethod = await cli([...base, '--out', out, '--method', 'magic']);
    expect(badMethod.stderr).toContain('--method must be one of finegates, lora, bitfit, full-ft');
    const noModel = await cli([...base.map((a) => (a === BUNDLED_MODEL ? path.join(tmp, 'nope') : a)), '--out', out]);
    expect(noModel.stderr).toContain('not a folder');
    expect(fs.existsSync(out)).toBe(false);
  });
});
