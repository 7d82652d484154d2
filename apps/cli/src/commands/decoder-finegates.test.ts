// FineGates' Llama setting through the CLI (issue 15, items 1 and 5): `prunekit prune --method finegates`
// on a LlamaForSequenceClassification folder with a tokenizer (tools/fixtures/data/decoders/llama-cls-text;
// its logits on tokenized text match transformers within 1e-4 in tensor-core's decoder-parity test). The
// gates sit on the decoder coupling groups, the model's own score head (last non-pad token) is trained,
// and the artifact is the compacted ...ForSequenceClassification. Checked independently of the training
// code: the gates file applied to the source weights (with the trained score.weight) gives the compacted
// folder's logits, padded right and left; with no gate closed, transformers reloads the folder and agrees.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, loadModel, readManifest, readSafetensors, Tokenizer, type EncoderModel } from '@prunekit/tensor-core';
import { memoryIo } from '@prunekit/cli-support';
import { referencePython, workspaceRoot } from '../../../../tools/test-support/shared.js';
import { run } from '../run.js';

const source = path.join(workspaceRoot, 'tools', 'fixtures', 'data', 'decoders', 'llama-cls-text');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cli-fg-llama-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
beforeAll(async () => {
  await initBackend();
});
// a tiny sentiment task in the shared datasets' layout (SST-2 uses dev as its test split; labels "0"/"1")
const root = path.join(tmp, 'data');
fs.mkdirSync(path.join(root, 'glue_sst2'), { recursive: true });
const pos = ['a wonderful film', 'great acting and a great story', 'I loved it', 'moving and funny', 'a delight'];
const neg = ['a dull mess', 'boring and too long', 'I hated it', 'the plot makes no sense', 'a waste of time'];
const rows = (n: number): string => Array.from({ length: n }, (_, i) => JSON.stringify({ text: i % 2 ? pos[i % 5] : neg[i % 5], label: String(i % 2) })).join('\n') + '\n';
fs.writeFileSync(path.join(root, 'glue_sst2', 'train.jsonl'), rows(32));
fs.writeFileSync(path.join(root, 'glue_sst2', 'dev.jsonl'), rows(8));
const TEXTS = ['a wonderful film', 'boring', 'the plot makes no sense at all, and it is far too long'];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await run(args, { io });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** TEXTS tokenized by the folder's tokenizer, padded on the given side with the config's pad id. */
async function textBatch(dir: string, side: 'left' | 'right'): Promise<{ ids: number[][]; mask: number[][] }> {
  const tok = await Tokenizer.fromPretrained(dir);
  const pad = tok.specialIds.pad!;
  const enc = await Promise.all(TEXTS.map((t) => tok.encode(t)));
  const len = Math.max(...enc.map((e) => e.ids.length));
  const ids = enc.map((e) => { const p = new Array<number>(len - e.ids.length).fill(pad); return side === 'left' ? [...p, ...e.ids] : [...e.ids, ...p]; });
  const mask = enc.map((e) => { const p = new Array<number>(len - e.ids.length).fill(0); const one = new Array<number>(e.ids.length).fill(1); return side === 'left' ? [...p, ...one] : [...one, ...p]; });
  return { ids, mask };
}

function logits(model: EncoderModel, b: { ids: number[][]; mask: number[][] }, view?: (n: string) => tf.Tensor): Float32Array {
  return tf.tidy(() => model.forward({ inputIds: tf.tensor2d(b.ids, undefined, 'int32'), attentionMask: tf.tensor2d(b.mask, undefined, 'int32') }, view ? { view } : {}).logits!.dataSync() as Float32Array);
}

const base = ['prune', '--method', 'finegates', '--model', source, '--task', 'glue_sst2', '--data-root', root, '--batch-size', '8', '--max-length', '24', '--json'];

describe('prunekit prune --method finegates on a Llama sequence classifier', () => {
  it('trains gates and the score head, writes the compacted classifier; the gates file applied to the source reproduces its logits (left and right padding)', async () => {
    const before = fs.readFileSync(path.join(source, 'model.safetensors'));
    const out = path.join(tmp, 'fg');
    const r = await cli([...base, '--out', out, '--sparsity', '0.4', '--steps', '12', '--gate-lr', '0.3']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { kind: string; metrics: { accuracy: number; compactMaxDiff: number }; parameters: { stored: number; source: number } };
    expect(res.kind).toBe('compacted-model');
    expect(res.metrics.compactMaxDiff).toBeLessThanOrEqual(1e-4);
    expect(res.parameters.stored).toBeLessThan(res.parameters.source);
    expect(fs.readFileSync(path.join(source, 'model.safetensors')).equals(before)).toBe(true);
    // the head is the model's own: no separate head file; config.json names the task's labels
    const manifest = readManifest(out);
    expect(manifest.files.head).toBeUndefined();
    const training = JSON.parse(fs.readFileSync(path.join(out, 'prunekit', 'training.json'), 'utf8')) as { head: { kind: string; name: string; paddingSide: string } };
    expect(training.head).toMatchObject({ kind: 'decoder-score', name: 'score.weight', paddingSide: 'right' });
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { architectures: string[]; id2label: Record<string, string> };
    expect(cfg.architectures).toEqual(['LlamaForSequenceClassification']);
    expect(cfg.id2label).toEqual({ 0: '0', 1: '1' });
    // the gates sit on the decoder linears (q, k, v, o, gate, up, down of each layer) and some closed
    const gates = readSafetensors(path.join(out, 'prunekit', 'gates.safetensors')).tensors;
    const evalNames = [...gates.keys()].filter((n) => n.endsWith('.eval_rows')).map((n) => n.replace(/^model\.layers\.\d+\./, '').replace(/\.weight\.eval_rows$/, '')).sort();
    expect(new Set(evalNames)).toEqual(new Set(['mlp.down_proj', 'mlp.gate_proj', 'mlp.up_proj', 'self_attn.k_proj', 'self_attn.o_proj', 'self_attn.q_proj', 'self_attn.v_proj']));
    const closed = [...gates].filter(([n]) => /\.eval_(rows|cols)$/.test(n)).reduce((a, [, t]) => a + Array.from(t.data as Float32Array).filter((x) => x === 0).length, 0);
    expect(closed).toBeGreaterThan(0);

    const small = loadModel(out);
    const dense = loadModel(source);
    expect(small.config.head).toBe('cls');
    expect(small.numParameters()).toBe(res.parameters.stored);
    // the gated source: W' = diag(z_r) W diag(z_c) from the gates file, the trained score weight from the output
    const score = small.params.get('score.weight')!;
    const view = (n: string): tf.Tensor => {
      if (n === 'score.weight') return score;
      const zr = gates.get(`${n}.eval_rows`);
      const zc = gates.get(`${n}.eval_cols`);
      const w = dense.params.get(n)!;
      if (!zr || !zc) return w;
      return tf.mul(tf.mul(w, tf.tensor2d(zr.data as Float32Array, [zr.shape[0]!, 1])), tf.tensor2d(zc.data as Float32Array, [1, zc.shape[0]!]));
    };
    const right = await textBatch(out, 'right');
    const left = await textBatch(out, 'left');
    const want = logits(dense, right, view);
    expect(maxAbsDiff(logits(small, right), want)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(logits(small, left), want)).toBeLessThanOrEqual(1e-4);
    // the trained score head is not the folder's (it learned) and the gates changed the model
    expect(maxAbsDiff(score.dataSync(), dense.params.get('score.weight')!.dataSync())).toBeGreaterThan(1e-4);
    small.dispose();
    dense.dispose();
  }, 120_000);

  const python = referencePython();
  it.skipIf(!python)('with no gate closed (uniform sizes) the folder is a standard LlamaForSequenceClassification that transformers reloads with the same logits', async () => {
    const out = path.join(tmp, 'fg-open');
    const r = await cli([...base, '--out', out, '--steps', '3']);
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg.prunekit_layers).toBeUndefined();
    const small = loadModel(out);
    const batch = await textBatch(out, 'right');
    const mine = logits(small, batch);
    small.dispose();
    const inFile = path.join(tmp, 'in.json');
    fs.writeFileSync(inFile, JSON.stringify({ input_ids: batch.ids, attention_mask: batch.mask }));
    const py = spawnSync(python!, [path.join(workspaceRoot, 'tools/fixtures/decoder_outputs.py'), '--model', out, '--inputs', inFile], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const torchOut = JSON.parse(py.stdout) as { class: string; logits: number[][] };
    expect(torchOut.class).toBe('LlamaForSequenceClassification');
    expect(maxAbsDiff(torchOut.logits.flat(), mine)).toBeLessThanOrEqual(1e-4);
  }, 300_000);

  it('a classifier whose config pad_token_id is not the tokenizer\'s pad token: one-line error naming the file, no output', async () => {
    const bad = path.join(tmp, 'bad-pad');
    fs.cpSync(source, bad, { recursive: true });
    const cfgFile = path.join(bad, 'config.json');
    fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as object, pad_token_id: 5 }));
    const out = path.join(tmp, 'never');
    const r = await cli([...base.map((a) => (a === source ? bad : a)), '--out', out, '--steps', '2']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${cfgFile}: field "pad_token_id" is 5 but the tokenizer pads with id 299`);
    expect(fs.existsSync(out)).toBe(false);
  });
});
