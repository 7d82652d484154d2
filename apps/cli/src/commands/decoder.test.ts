// Decoder embedders through the same CLI as encoders (issue 15, "Must show"): `embed`, `eval` and
// `prune --method gaprune` on the Qwen3-shaped and the Llama-shaped random fixture folders
// (tools/fixtures/make_decoder_fixtures.py). Embeddings are checked against what sentence-transformers
// computed on the same folder (stored in the fixture), not against prunekit itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MaskSet, loadModel, readSafetensors } from '@prunekit/tensor-core';
import { workspaceRoot } from '../../../../tools/test-support/shared.js';
import { run } from '../run.js';
import { FINANCE_TRIPLETS, GENERAL_TRIPLETS, writeTriplets } from '../test-support/triplets.js';
import { memoryIo } from '@prunekit/cli-support';
import { writeSyntheticTasks } from '../test-support/synthetic.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cli-decoder-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
const fixtures = path.join(workspaceRoot, 'tools', 'fixtures', 'data', 'decoders');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function readNpy(file: string): { shape: number[]; data: Float32Array } {
  const buf = fs.readFileSync(file);
  const len = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + len).toString('latin1');
  expect(header).toContain("'descr': '<f4'");
  const shape = /'shape': \((\d+), (\d+)\)/.exec(header)!.slice(1).map(Number);
  const body = buf.subarray(10 + len);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const domain = writeTriplets(path.join(tmp, 'domain.jsonl'), FINANCE_TRIPLETS);
const general = writeTriplets(path.join(tmp, 'general.jsonl'), GENERAL_TRIPLETS);

describe.each([
  ['qwen3-embed', 'qwen3'],
  ['llama-embed', 'llama'],
])('decoder embedder %s through the CLI', (name, modelType) => {
  const dir = path.join(fixtures, name);
  const ref = readSafetensors(path.join(dir, 'reference.safetensors'));
  const sentences = JSON.parse(ref.metadata.st_sentences!) as string[];
  const expected = ref.tensors.get('st.embeddings')!;

  it('is the architecture it says', () => {
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).model_type).toBe(modelType);
  });

  it('embed gives sentence-transformers\' embeddings (1e-4), .npy and .jsonl', async () => {
    const input = path.join(tmp, `${name}.txt`);
    fs.writeFileSync(input, `${sentences.join('\n')}\n`);
    const npy = path.join(tmp, `${name}.npy`);
    const r = await cli(['embed', '--model', dir, '--input', input, '--out', npy, '--batch-size', '3']);
    expect(r.code, r.stderr).toBe(0);
    const mine = readNpy(npy);
    expect(mine.shape).toEqual([sentences.length, 32]);
    expect(maxAbsDiff(mine.data, expected.data as Float32Array)).toBeLessThanOrEqual(1e-4);
    const jsonl = path.join(tmp, `${name}.jsonl`);
    expect((await cli(['embed', '--model', dir, '--input', input, '--out', jsonl])).code).toBe(0);
    const rows = fs.readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { text: string; embedding: number[] });
    expect(rows.map((x) => x.text)).toEqual(sentences);
  });

  it('embed --prompt-name query gives sentence-transformers\' encode(prompt_name="query") (1e-5); --prompt TEXT the same; an unknown name names the file and its prompts', async () => {
    const input = path.join(tmp, `${name}-q.txt`);
    fs.writeFileSync(input, `${sentences.join('\n')}\n`);
    const npy = path.join(tmp, `${name}-q.npy`);
    const r = await cli(['embed', '--model', dir, '--input', input, '--out', npy, '--prompt-name', 'query']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('prompt "query"');
    const q = readNpy(npy);
    expect(maxAbsDiff(q.data, ref.tensors.get('st.query_embeddings')!.data as Float32Array)).toBeLessThanOrEqual(1e-5);
    // the prompt matters: without it the embeddings are sentence-transformers' plain ones
    expect(maxAbsDiff(q.data, expected.data as Float32Array)).toBeGreaterThan(1e-3);
    const literal = path.join(tmp, `${name}-lit.npy`);
    expect((await cli(['embed', '--model', dir, '--input', input, '--out', literal, '--prompt', ref.metadata.st_query_prompt!])).code).toBe(0);
    expect(maxAbsDiff(readNpy(literal).data, q.data)).toBe(0);
    const bad = await cli(['embed', '--model', dir, '--input', input, '--out', path.join(tmp, `${name}-bad.npy`), '--prompt-name', 'passage']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`no prompt named "passage" in ${path.join(dir, 'config_sentence_transformers.json')}: it defines "query", "document"`);
    expect(fs.existsSync(path.join(tmp, `${name}-bad.npy`))).toBe(false);
    const both = await cli(['embed', '--model', dir, '--input', input, '--out', path.join(tmp, `${name}-both.npy`), '--prompt-name', 'query', '--prompt', 'x']);
    expect(both.stderr).toContain('give one of them, not both');
  });

  it('export --format onnx keeps the prompts and pooling: embed --prompt-name on the ONNX folder equals tfjs (1e-4)', async () => {
    const onnx = path.join(tmp, `${name}-onnx`);
    const x = await cli(['export', dir, '--format', 'onnx', '--out', onnx]);
    expect(x.code, x.stderr).toBe(0);
    for (const f of ['config_sentence_transformers.json', 'modules.json', '1_Pooling/config.json', 'sentence_bert_config.json', 'tokenizer.json']) {
      expect(fs.readFileSync(path.join(onnx, f), 'utf8'), f).toBe(fs.readFileSync(path.join(dir, f), 'utf8'));
    }
    const input = path.join(tmp, `${name}-onnx.txt`);
    fs.writeFileSync(input, `${sentences.join('\n')}\n`);
    for (const prompt of [['--prompt-name', 'query'], ['--prompt-name', 'document'], []]) {
      const [a, b] = [path.join(tmp, `${name}-tfjs-p.npy`), path.join(tmp, `${name}-onnx-p.npy`)];
      expect((await cli(['embed', '--model', dir, '--input', input, '--out', a, '--batch-size', '3', ...prompt])).code).toBe(0);
      const e = await cli(['embed', '--model', onnx, '--input', input, '--out', b, '--batch-size', '3', ...prompt]);
      expect(e.code, e.stderr).toBe(0);
      expect(e.stderr).toContain('onnxruntime');
      expect(maxAbsDiff(readNpy(b).data, readNpy(a).data), prompt.join(' ')).toBeLessThanOrEqual(1e-4);
    }
    const want = ref.tensors.get('st.query_embeddings')!.data as Float32Array;
    const c = path.join(tmp, `${name}-onnx-q.npy`);
    expect((await cli(['embed', '--model', onnx, '--input', input, '--out', c, '--prompt-name', 'query'])).code).toBe(0);
    expect(maxAbsDiff(readNpy(c).data, want)).toBeLessThanOrEqual(1e-4);
  }, 60_000);

  it('eval runs an STS and a retrieval task and writes MTEB-style results', async () => {
    const syn = writeSyntheticTasks();
    const out = path.join(tmp, `${name}-eval`);
    const r = await cli(['eval', '--model', dir, '--tasks', 'ToySTS,ToyRetrieval', '--tasks-dir', syn.tasksDir, '--data-root', syn.dataRoot, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { model: { name: string }; resultsDir: string; failures: unknown[]; results: { task_name: string; scores: Record<string, { main_score: number }[]> }[] };
    expect(doc.model.name).toBe(name);
    expect(doc.failures).toEqual([]);
    expect(doc.results.map((x) => x.task_name).sort()).toEqual(['ToyRetrieval', 'ToySTS']);
    for (const x of doc.results) {
      const s = x.scores.test![0]!.main_score;
      expect(Number.isFinite(s), x.task_name).toBe(true);
      expect(Math.abs(s), x.task_name).toBeLessThanOrEqual(1);
    }
    expect(fs.existsSync(path.join(doc.resultsDir, 'ToySTS.json'))).toBe(true);
  });

  it('prune --method gaprune prunes the gated MLP (gate/up/down) to the sparsity; the folder reloads and embeds; the input is untouched', async () => {
    const before = fs.readFileSync(path.join(dir, 'model.safetensors'));
    const out = path.join(tmp, `${name}-gap`);
    const r = await cli(['prune', '--model', dir, '--out', out, '--method', 'gaprune', '--sparsity', '0.5', '--domain', domain, '--general', general, '--batch-size', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).sparsity).toBe(0.5);
    const { masks } = MaskSet.load(path.join(out, 'prunekit', 'masks.safetensors'));
    const names = masks.names().sort();
    // 2 layers x (gate_proj, up_proj, down_proj): GAPrune's decoder targets, nothing in attention
    expect(names).toHaveLength(6);
    for (const n of names) expect(n).toMatch(/^layers\.[01]\.mlp\.(gate|up|down)_proj\.weight$/);
    expect(masks.stats().sparsity).toBe(0.5);
    const model = loadModel(out);
    expect(model.config.family).toBe('decoder');
    for (const n of names) {
      const w = model.params.get(n)!.dataSync();
      expect(masks.masks.get(n)!.data.every((keep, i) => keep === 1 || w[i] === 0), n).toBe(true);
    }
    model.dispose();
    expect(fs.readFileSync(path.join(dir, 'model.safetensors')).equals(before)).toBe(true);
    const input = path.join(tmp, `${name}-pruned.txt`);
    fs.writeFileSync(input, `${sentences.join('\n')}\n`);
    const npy = path.join(tmp, `${name}-pruned.npy`);
    const e = await cli(['embed', '--model', out, '--input', input, '--out', npy]);
    expect(e.code, e.stderr).toBe(0);
    const pruned = readNpy(npy);
    expect(pruned.shape).toEqual([sentences.length, 32]);
    // pruning half the MLP changes the embeddings (the masks were applied), which stay unit-norm
    expect(maxAbsDiff(pruned.data, expected.data as Float32Array)).toBeGreaterThan(1e-3);
    for (let i = 0; i < sentences.length; i++) {
      let n = 0;
      for (let j = 0; j < 32; j++) n += pruned.data[i * 32 + j]! ** 2;
      expect(Math.sqrt(n)).toBeCloseTo(1, 5);
    }
  });
});
