// `prunekit prune --structure heads,neurons`: writes a compacted-model artifact (prunekit/manifest.json,
// readable by inspect) that loads with fewer parameters, with what was removed in the report
// prunekit/structured.json; bad structured flags are clear errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layerLinearParameters, loadModel, modelFingerprint, readManifest } from '@prunekit/tensor-core';
import { run } from '../run.js';
import { memoryIo } from '@prunekit/cli-support';
import { TINY_ENCODER } from '../test-support/models.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cli-structured-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
const write = (file: string, rows: [string, string, string][]): string => {
  fs.writeFileSync(file, rows.map(([query, positive, negative]) => JSON.stringify({ query, positive, negative })).join('\n') + '\n');
  return file;
};
const domain = write(path.join(tmp, 'domain.jsonl'), [
  ['net sales in 2020', 'Revenue for 2020 was $3.1 billion.', 'The museum reopened in May.'],
  ['quarterly dividend', 'The board declared a dividend of $0.20 per share.', 'Snow fell overnight.'],
]);
const general = write(path.join(tmp, 'general.jsonl'), [
  ['a cat sleeps', 'the cat is asleep', 'sales rose 3%'],
  ['it is raining', 'rain is falling', 'the bond matured'],
]);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('prunekit prune --structure', () => {
  it('gaprune, heads+neurons, 50%: a compacted folder with half the encoder parameters (never more removed)', async () => {
    const out = path.join(tmp, 'gap-structured');
    const r = await cli(['prune', '--model', TINY_ENCODER, '--out', out, '--method', 'gaprune', '--structure', 'heads,neurons', '--sparsity', '0.5', '--domain', domain, '--general', general, '--batch-size', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    const dense = loadModel(TINY_ENCODER);
    const small = loadModel(out);
    const n = layerLinearParameters(dense);
    expect(res.encoderParameters).toEqual({ before: n, after: layerLinearParameters(small) });
    expect(n - layerLinearParameters(small)).toBeLessThanOrEqual(Math.floor(0.5 * n));
    // within one FFN neuron (2·hidden + 1) of the target
    expect(Math.floor(0.5 * n) - (n - layerLinearParameters(small))).toBeLessThan(2 * dense.config.hiddenSize + 1);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'prunekit', 'structured.json'), 'utf8'));
    expect(manifest.method).toBe('gaprune');
    expect(manifest.encoderParameters.removed).toBe(n - layerLinearParameters(small));
    const removed = Object.values(manifest.removedNeurons as Record<string, number[]>).reduce((a, l) => a + l.length, 0);
    expect(small.config.layers.reduce((a, s) => a + s.intermediateSize, 0)).toBe(dense.config.layers.reduce((a, s) => a + s.intermediateSize, 0) - removed);
    // the one artifact layout: manifest with method, options, fingerprints, achieved sparsity, parameters
    const m = readManifest(out);
    expect(m.kind).toBe('compacted-model');
    expect(m.method).toBe('gaprune');
    expect(m.options).toMatchObject({ structure: 'heads,neurons', sparsity: 0.5, batchSize: 2 });
    expect(m.source).toEqual({ model: path.resolve(TINY_ENCODER), fingerprint: modelFingerprint(dense), parameters: dense.numParameters() });
    expect(m.parameters).toEqual({ stored: small.numParameters(), effective: small.numParameters(), source: dense.numParameters() });
    expect(m.sparsity!.total).toBeCloseTo((n - layerLinearParameters(small)) / n, 12);
    expect(m.sparsity!.numel).toBe(n);
    expect(m.sparsity!.numel - m.sparsity!.kept).toBe(n - layerLinearParameters(small));
    expect(Object.keys(m.data).sort()).toEqual(['domain', 'general']);
    expect(m.data.domain!.path).toBe(path.resolve(domain));
    expect(m.files.reports).toContain(path.join('prunekit', 'structured.json'));
    expect(m.lineage).toEqual([]);
    const inspected = await cli(['inspect', out, '--json']);
    expect(inspected.code, inspected.stderr).toBe(0);
    const ins = JSON.parse(inspected.stdout);
    expect(ins.kind).toBe('compacted-model');
    // nothing left for exact compaction to remove: the heads and neurons are gone already
    expect(ins.structure.parametersAfter).toBe(ins.structure.parametersBefore);
    dense.dispose();
    small.dispose();
  });

  it('bad structured flags exit non-zero with a clear message', async () => {
    const base = ['prune', '--model', TINY_ENCODER, '--out', path.join(tmp, 'bad'), '--method', 'magnitude'];
    const a = await cli([...base, '--structure', 'heads,layers']);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/--structure: unknown structure "layers"/);
    const b = await cli([...base, '--structure', 'neurons', '--allocation', 'per-matrix']);
    expect(b.stderr).toMatch(/--allocation with --structure must be global or per-layer/);
    const c = await cli([...base, '--distill', 'cosine']);
    expect(c.stderr).toMatch(/--distill applies to structured pruning/);
    expect(fs.existsSync(path.join(tmp, 'bad'))).toBe(false);
  });
});
