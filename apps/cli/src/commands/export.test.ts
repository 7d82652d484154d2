// `prunekit export --format onnx` on the bundled demo model, then `prunekit eval` on the exported
// folder (onnxruntime-node) and on the source (tfjs): the same tasks give the same scores.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../run.js';
import { memoryIo } from '@prunekit/cli-support';
import { writeSyntheticTasks } from '../test-support/synthetic.js';

const demoModel = path.resolve(import.meta.dirname, '..', '..', 'demo', 'tiny-encoder');

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
    expect(await run(['export', demoModel, '--format', 'onnx', '--out', out], { io }), io.stderr).toBe(0);
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
    const tfjs = await scores(demoModel);
    expect(onnx.failures).toEqual([]);
    expect(onnx.model.fingerprint).not.toBe(tfjs.model.fingerprint);
    expect(onnx.results.map((r) => r.task_name)).toEqual(tfjs.results.map((r) => r.task_name));
    onnx.results.forEach((r, i) => {
      expect(Math.abs(r.scores.test![0]!.main_score - tfjs.results[i]!.scores.test![0]!.main_score), r.task_name).toBeLessThanOrEqual(1e-4);
    });
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 120_000);

  it('refuses bad flags and foreign output folders with a clear message', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-export-'));
    const io = memoryIo();
    expect(await run(['export', demoModel, '--format', 'tflite', '--out', path.join(tmp, 'x')], { io })).not.toBe(0);
    expect(io.stderr).toContain('--format must be one of onnx (got "tflite")');
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'keep.txt'), 'x');
    const io2 = memoryIo();
    expect(await run(['export', demoModel, '--format', 'onnx', '--out', foreign], { io: io2 })).not.toBe(0);
    expect(io2.stderr).toMatch(/foreign: exists and is not an ONNX export written by prunekit/);
    expect(fs.readdirSync(foreign)).toEqual(['keep.txt']);
    const io3 = memoryIo();
    expect(await run(['export', path.join(tmp, 'nope'), '--format', 'onnx', '--out', path.join(tmp, 'y')], { io: io3 })).not.toBe(0);
    expect(io3.stderr).toContain('no such folder');
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
