// The artifact layout and the generic commands, checked against independent readers: Python's
// safetensors for `inspect --json` and sentence-transformers for `embed`; plus a third-party method
// loaded as a plugin, compacted exactly.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referencePython, workspaceRoot } from '../../../../tools/test-support/shared.js';
import { run } from '../run.js';
import { memoryIo } from '@prunekit/cli-support';
import { TINY_ENCODER } from '../test-support/models.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cli-artifact-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
const python = referencePython();
const PLUGIN = path.join(workspaceRoot, 'packages', 'tensor-core', 'examples', 'drop-neurons-plugin.mjs');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function readNpy(file: string): { shape: number[]; data: Float32Array } {
  const buf = fs.readFileSync(file);
  expect(buf.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  const len = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + len).toString('latin1');
  expect(header).toContain("'descr': '<f4'");
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header)!.slice(1).map(Number);
  const body = buf.subarray(10 + len);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) };
}

const TEXTS = ['net sales rose in 2020', 'the board declared a dividend', 'a cat sleeps on the mat', 'long-term debt totalled $900 million'];
const textsFile = path.join(tmp, 'texts.txt');
fs.writeFileSync(textsFile, `${TEXTS.join('\n')}\n`);

describe('artifact layout, inspect and embed', () => {
  const pruned = path.join(tmp, 'magnitude');

  it('prune writes the HF folder + manifest + masks; inspect --json matches Python safetensors; +0.0 zeros, a rewritten card, normal permissions', async () => {
    const r = await cli(['prune', '--model', TINY_ENCODER, '--out', pruned, '--method', 'magnitude', '--sparsity', '0.5', '--targets', 'attention+mlp', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ method: 'magnitude', kind: 'pruned-model', sparsity: 0.5 });
    const card = fs.readFileSync(path.join(pruned, 'README.md'), 'utf8');
    expect(card).toContain('made with prunekit (magnitude)');
    expect(card).toContain('**Sparsity achieved:** 50.00%');
    expect(card).toContain(`**Source model:** ${TINY_ENCODER}`);
    for (const f of ['README.md', 'model.safetensors', 'tokenizer.json', 'prunekit/manifest.json', 'prunekit/masks.safetensors']) {
      expect(fs.statSync(path.join(pruned, f)).mode & 0o777, f).toBe(0o644);
    }
    const ins = await cli(['inspect', pruned, '--json']);
    expect(ins.code, ins.stderr).toBe(0);
    const mine = JSON.parse(ins.stdout) as { format: string; schemaVersion: number; kind: string; masks: { total: number; numel: number; kept: number; perMatrix: { name: string; numel: number; kept: number; sparsity: number }[] }; parameters: { stored: number }; structure: { parametersAfter: number; parametersBefore: number } };
    expect(mine).toMatchObject({ format: 'prunekit-artifact', schemaVersion: 1, kind: 'pruned-model' });
    expect(mine.structure.parametersAfter).toBeLessThanOrEqual(mine.structure.parametersBefore);
    if (!python) return;
    const py = spawnSync(python, [path.join(workspaceRoot, 'tools/fixtures/artifact_reference.py'), 'inspect', pruned], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const ref = JSON.parse(py.stdout) as { perMatrix: { name: string; numel: number; kept: number; sparsity: number }[]; numel: number; kept: number; total: number; maskDtypes: string[]; prunedNonzero: number; prunedNegativeZero: number; parameters: number; required: Record<string, unknown> };
    expect(ref.required).toEqual({ format: 'prunekit-artifact', schemaVersion: 1, kind: 'pruned-model' });
    expect(ref.maskDtypes).toEqual(['bool']);
    expect(ref.prunedNonzero).toBe(0);
    expect(ref.prunedNegativeZero).toBe(0);
    expect(mine.parameters.stored).toBe(ref.parameters);
    expect({ numel: mine.masks.numel, kept: mine.masks.kept }).toEqual({ numel: ref.numel, kept: ref.kept });
    expect(mine.masks.total).toBeCloseTo(ref.total, 12);
    const byName = new Map(ref.perMatrix.map((m) => [m.name, m]));
    expect(mine.masks.perMatrix).toHaveLength(ref.perMatrix.length);
    for (const m of mine.masks.perMatrix) {
      const p = byName.get(m.name)!;
      expect({ numel: m.numel, kept: m.kept }, m.name).toEqual({ numel: p.numel, kept: p.kept });
      expect(m.sparsity).toBeCloseTo(p.sparsity, 12);
    }
  });

  it.skipIf(!python)('embed on the pruned folder equals sentence-transformers on it (≤ 1e-5), as .npy and .jsonl', async () => {
    const npy = path.join(tmp, 'emb.npy');
    const r = await cli(['embed', '--model', pruned, '--input', textsFile, '--out', npy]);
    expect(r.code, r.stderr).toBe(0);
    const refFile = path.join(tmp, 'ref.npy');
    const py = spawnSync(python!, [path.join(workspaceRoot, 'tools/fixtures/artifact_reference.py'), 'embed', pruned, textsFile, refFile], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const mine = readNpy(npy);
    const ref = readNpy(refFile);
    expect(mine.shape).toEqual(ref.shape);
    expect(mine.shape[0]).toBe(TEXTS.length);
    let max = 0;
    for (let i = 0; i < ref.data.length; i++) max = Math.max(max, Math.abs(mine.data[i]! - ref.data[i]!));
    expect(max).toBeLessThanOrEqual(1e-5);
    const jsonl = path.join(tmp, 'emb.jsonl');
    expect((await cli(['embed', '--model', pruned, '--input', textsFile, '--out', jsonl])).code).toBe(0);
    const rows = fs.readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; embedding: number[] });
    expect(rows.map((x) => x.text)).toEqual(TEXTS);
    expect(Float32Array.from(rows[1]!.embedding)).toEqual(mine.data.subarray(mine.shape[1]!, 2 * mine.shape[1]!));
  });

  it('a plugin method (--plugin or PRUNEKIT_PLUGINS) is listed in --help, runs through prune, and compact removes its neurons exactly', async () => {
    const help = await cli(['prune', '--plugin', PLUGIN, '--help']);
    expect(help.stdout).toContain('drop-neurons (structured): example plugin');
    const plain = await cli(['prune', '--help']);
    expect(plain.stdout).not.toContain('drop-neurons');
    const out = path.join(tmp, 'dropped');
    process.env.PRUNEKIT_PLUGINS = PLUGIN;
    let r;
    try {
      r = await cli(['prune', '--method', 'drop-neurons', '--model', TINY_ENCODER, '--out', out, '--sparsity', '0.25', '--json']);
    } finally {
      delete process.env.PRUNEKIT_PLUGINS;
    }
    expect(r.code, r.stderr).toBe(0);
    const ins = JSON.parse((await cli(['inspect', out, '--json'])).stdout) as { structure: { neuronsRemoved: number; parametersBefore: number; parametersAfter: number }; masks: { total: number } };
    // tiny-encoder: 2 layers × 512 FFN neurons, a quarter dropped in each
    expect(ins.structure.neuronsRemoved).toBe(2 * 128);
    expect(ins.masks.total).toBe(0.25);
    const small = path.join(tmp, 'dropped-compact');
    const c = await cli(['compact', out, '--out', small, '--json']);
    expect(c.code, c.stderr).toBe(0);
    const m = JSON.parse(c.stdout) as { kind: string; parameters: { stored: number }; lineage: { method: string; path: string }[] };
    expect(m.kind).toBe('compacted-model');
    expect(m.parameters.stored).toBe(ins.structure.parametersAfter);
    expect(m.parameters.stored).toBeLessThan(ins.structure.parametersBefore);
    expect(m.lineage[0]).toMatchObject({ method: 'drop-neurons', path: out });
    // exact: the compacted folder embeds like the masked one
    const a = path.join(tmp, 'a.npy');
    const b = path.join(tmp, 'b.npy');
    expect((await cli(['embed', '--model', out, '--input', textsFile, '--out', a])).code).toBe(0);
    expect((await cli(['embed', '--model', small, '--input', textsFile, '--out', b])).code).toBe(0);
    const ea = readNpy(a).data;
    const eb = readNpy(b).data;
    let max = 0;
    for (let i = 0; i < ea.length; i++) max = Math.max(max, Math.abs(ea[i]! - eb[i]!));
    expect(max).toBeLessThanOrEqual(1e-5);
  });

  it('old, foreign and newer manifests, and plain model folders, are clear errors', async () => {
    const legacy = path.join(tmp, 'legacy');
    fs.mkdirSync(path.join(legacy, 'prunekit'), { recursive: true });
    fs.writeFileSync(path.join(legacy, 'prunekit', 'masks.json'), '{"format":"prunekit-masks","version":1}');
    const l = await cli(['inspect', legacy]);
    expect(l.code).toBe(1);
    expect(l.stderr).toContain('from prunekit before the artifact manifest (prunekit/masks.json)');
    const manifest = JSON.parse(fs.readFileSync(path.join(pruned, 'prunekit', 'manifest.json'), 'utf8')) as Record<string, unknown>;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...manifest, format: 'something-else' }, 'field "format" is "something-else", expected "prunekit-artifact"'],
      [{ ...manifest, schemaVersion: 2 }, 'field "schemaVersion" is 2, expected 1 (written by a newer prunekit: upgrade)'],
      [{ ...manifest, kind: undefined }, 'field "kind"'],
    ];
    for (const [value, message] of cases) {
      const dir = path.join(tmp, `bad-${cases.findIndex((c) => c[0] === value)}`);
      fs.cpSync(pruned, dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'prunekit', 'manifest.json'), JSON.stringify(value));
      const r = await cli(['inspect', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(message);
    }
    const plain = await cli(['compact', TINY_ENCODER, '--out', path.join(tmp, 'never')]);
    expect(plain.stderr).toContain('not a prunekit artifact (no prunekit/manifest.json)');
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
  });
});
