// `prunekit export --format onnx` on tiny-encoder (apps/cli/demo), then `prunekit eval` on the exported
// folder (onnxruntime-node) and on the source (tfjs): the same tasks give the same scores, and
// `prunekit embed` gives the same embeddings.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../run.js';
import { memoryIo } from '@prunekit/cli-support';
import { writeSyntheticTasks } from '../test-support/synthetic.js';
import { TINY_ENCODER } from '../test-support/models.js';

interface EvalJson {
  model: { name: string; fingerprint: string };
  results: { task_name: string; scores: Record<string, { main_score: number }[]> }[];
  failures: unknown[];
}

describe('prunekit export --format onnx', () => {
  it('writes a folder that prunekit eval scores like the source model', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-export-'));
    const out = path.join(tmp, 'tiny-onnx');
    const io = memoryIo();
    expect(await run(['export', TINY_ENCODER, '--format', 'onnx', '--out', out], { io }), io.stderr).toBe(0);
    expect(io.stdout).toContain(`exported tiny-encoder to ${out}`);
    expect(io.stdout).toMatch(/heads per layer: 2 2; FFN per layer: 512 512/);
    for (const f of ['onnx/model.onnx', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'prunekit/manifest.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);

    const syn = writeSyntheticTasks();
    const scores = async (model: string): Promise<EvalJson> => {
      const evalIo = memoryIo();
      const code = await run(['eval', '--model', model, '--tasks-dir', syn.tasksDir, '--data-root', syn.dataRoot, '--suite', 'toy', '--out', path.join(tmp, 'results'), '--no-cache', '--json'], { io: evalIo });
      expect(code, evalIo.stderr).toBe(0);
      return JSON.parse(evalIo.stdout) as EvalJson;
    };
    const onnx = await scores(out);
    const tfjs = await scores(TINY_ENCODER);
    expect(onnx.failures).toEqual([]);
    expect(onnx.model.fingerprint).not.toBe(tfjs.model.fingerprint);
    expect(onnx.results.map((r) => r.task_name)).toEqual(tfjs.results.map((r) => r.task_name));
    onnx.results.forEach((r, i) => {
      expect(Math.abs(r.scores.test![0]!.main_score - tfjs.results[i]!.scores.test![0]!.main_score), r.task_name).toBeLessThanOrEqual(1e-4);
    });

    // embed: the ONNX folder on onnxruntime-node against the source folder on tfjs, texts of different lengths
    const texts = path.join(tmp, 'texts.txt');
    fs.writeFileSync(texts, 'net sales rose 4% in 2020\nthe cat sleeps\nthe board declared a quarterly dividend of $0.20 per share, payable in March\n');
    const embed = async (model: string, file: string): Promise<{ stderr: string; rows: number[][] }> => {
      const embedIo = memoryIo();
      expect(await run(['embed', '--model', model, '--input', texts, '--out', file, '--batch-size', '2'], { io: embedIo }), embedIo.stderr).toBe(0);
      const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { embedding: number[] }).embedding);
      return { stderr: embedIo.stderr, rows };
    };
    const viaOrt = await embed(out, path.join(tmp, 'onnx.jsonl'));
    const viaTfjs = await embed(TINY_ENCODER, path.join(tmp, 'tfjs.jsonl'));
    expect(viaOrt.stderr).toContain('(onnxruntime)');
    expect(viaTfjs.stderr).toContain('(tfjs)');
    expect(viaOrt.rows.map((r) => r.length)).toEqual(viaTfjs.rows.map((r) => r.length));
    expect(viaOrt.rows).toHaveLength(3);
    let maxDiff = 0;
    viaOrt.rows.forEach((r, i) => { r.forEach((v, j) => { maxDiff = Math.max(maxDiff, Math.abs(v - viaTfjs.rows[i]![j]!)); }); });
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    // not trivially equal: the texts' embeddings differ from each other
    expect(Math.max(...viaOrt.rows[0]!.map((v, j) => Math.abs(v - viaOrt.rows[1]![j]!)))).toBeGreaterThan(1e-3);
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 120_000);

  it('refuses bad flags and foreign output folders with a clear message', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-export-'));
    const io = memoryIo();
    expect(await run(['export', TINY_ENCODER, '--format', 'tflite', '--out', path.join(tmp, 'x')], { io })).not.toBe(0);
    expect(io.stderr).toContain('--format must be one of onnx (got "tflite")');
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'keep.txt'), 'x');
    const io2 = memoryIo();
    expect(await run(['export', TINY_ENCODER, '--format', 'onnx', '--out', foreign], { io: io2 })).not.toBe(0);
    expect(io2.stderr).toMatch(/foreign: exists and is not an ONNX export written by prunekit/);
    expect(fs.readdirSync(foreign)).toEqual(['keep.txt']);
    const io3 = memoryIo();
    expect(await run(['export', path.join(tmp, 'nope'), '--format', 'onnx', '--out', path.join(tmp, 'y')], { io: io3 })).not.toBe(0);
    expect(io3.stderr).toContain('no such folder');
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
