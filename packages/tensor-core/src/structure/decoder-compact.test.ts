// Decoder compaction by coupling groups: masks that zero whole KV groups (through the attention-output
// columns or the value rows) and gated-MLP neurons (through gate rows, up rows or down columns) give a
// plan that removes exactly those groups; the compacted model equals the masked one, reloads in prunekit
// (per-layer sizes, prunekit_layers) and, with uniform sizes, in transformers 5.18 (standard config).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import { layerNames } from '../model/names.js';
import type { EncoderModel } from '../model/model.js';
import { MaskSet } from '../prune/maskset.js';
import { maskedView } from '../prune/views.js';
import { prunableParameters, MLP_ONLY, ATTENTION_AND_MLP } from '../prune/policy.js';
import { fixturesDir, maxAbsDiff, readReference } from '../test-support/reference.js';
import { referencePython, workspaceRoot } from '../../../../tools/test-support/shared.js';
import { compact } from './compact.js';
import { saveCompacted } from './export.js';
import { planFromMasks } from './plan.js';
import { groupOf, layerGroups } from './coupling.js';

const root = path.join(fixturesDir, 'decoders');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-decoder-compact-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Masks (all ones) for the decoder's linears, with chosen rows/columns zeroed. */
function masksFor(model: EncoderModel, zero: { layer: number; kind: 'attn_output' | 'value' | 'ffn_gate' | 'ffn_up' | 'ffn_down'; axis: 0 | 1; indices: number[] }[]): MaskSet {
  const masks = new MaskSet();
  for (const p of prunableParameters(model, ATTENTION_AND_MLP)) masks.set(p.name, p.shape, new Uint8Array(p.numel).fill(1));
  for (const z of zero) {
    const name = layerNames(model.prefix, z.layer, 'decoder').linear[z.kind].weight;
    const { shape, data } = masks.masks.get(name)!;
    const [rows, cols] = shape as [number, number];
    for (const i of z.indices) {
      if (z.axis === 0) data.fill(0, i * cols, (i + 1) * cols);
      else for (let r = 0; r < rows; r++) data[r * cols + i] = 0;
    }
  }
  return masks;
}

function forward(model: EncoderModel, ref: ReturnType<typeof readReference>, view?: (n: string) => tf.Tensor): Float32Array {
  return tf.tidy(() => {
    const inputs = { inputIds: ref.int2d('left.input_ids'), attentionMask: ref.int2d('left.attention_mask') };
    const out = model.forward(inputs, view ? { view } : {});
    const main = model.config.head === 'cls' ? out.logits! : tf.mul(out.lastHiddenState, tf.expandDims(tf.cast(inputs.attentionMask, 'float32'), -1));
    return main.dataSync() as Float32Array;
  });
}

describe('decoder coupling groups and compaction', () => {
  it('groups: a KV head with its query heads; gate and up rows with the down column; MLP policy includes the gate', () => {
    const model = loadModel(path.join(root, 'qwen3-embed'));
    // 4 query heads, 2 KV heads of head_dim 16: KV group 1 = query rows 32..63, K/V rows 16..31, o columns 32..63
    const g = layerGroups(model, 0, 'head');
    expect(g.length).toBe(2);
    const byParam = new Map(g[1]!.slices.map((s) => [`${s.param}:${s.axis}`, s.indices]));
    expect(byParam.get('layers.0.self_attn.q_proj.weight:0')).toEqual(Array.from({ length: 32 }, (_, i) => 32 + i));
    expect(byParam.get('layers.0.self_attn.k_proj.weight:0')).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
    expect(byParam.get('layers.0.self_attn.v_proj.weight:0')).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
    expect(byParam.get('layers.0.self_attn.o_proj.weight:1')).toEqual(Array.from({ length: 32 }, (_, i) => 32 + i));
    expect(layerGroups(model, 1, 'ffn_neuron').length).toBe(48);
    expect(layerGroups(model, 1, 'qk_dim')).toEqual([]);
    expect(groupOf(model, 'layers.1.self_attn.k_proj.weight', 0, 20)!.head).toBe(1);
    expect(groupOf(model, 'layers.1.self_attn.o_proj.weight', 1, 31)!.head).toBe(0);
    expect(groupOf(model, 'layers.1.self_attn.o_proj.weight', 0, 3)).toBeNull();
    const n = groupOf(model, 'layers.1.mlp.down_proj.weight', 1, 7)!;
    expect(n.slices.map((s) => [s.param, s.axis, s.indices])).toEqual([
      ['layers.1.mlp.gate_proj.weight', 0, [7]], ['layers.1.mlp.up_proj.weight', 0, [7]], ['layers.1.mlp.down_proj.weight', 1, [7]],
    ]);
    expect(prunableParameters(model, MLP_ONLY).map((p) => p.name.replace(/^layers\.\d\./, ''))).toEqual(['mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight', 'mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight']);
    model.dispose();
  });

  it('per-layer sizes: compacted equals masked, and reloads in prunekit (prunekit_layers)', async () => {
    const dir = path.join(root, 'qwen3-embed');
    const ref = readReference(path.join(dir, 'reference.safetensors'));
    const model = loadModel(dir);
    const masks = masksFor(model, [
      { layer: 0, kind: 'attn_output', axis: 1, indices: Array.from({ length: 32 }, (_, i) => i) }, // KV group 0 of layer 0
      { layer: 0, kind: 'ffn_gate', axis: 0, indices: [0, 5, 9] },
      { layer: 1, kind: 'ffn_up', axis: 0, indices: [1] },
      { layer: 1, kind: 'ffn_down', axis: 1, indices: [2, 3, 40] },
    ]);
    const plan = planFromMasks(model, masks);
    expect(plan.report.perLayer.map((r) => [r.headsRemoved, r.neuronsRemoved])).toEqual([[[0], 3], [[], 4]]);
    const small = compact(model, plan);
    expect(small.config.layers.map((s) => [s.numHeads, s.numKvHeads, s.intermediateSize])).toEqual([[2, 1, 45], [4, 2, 44]]);
    const t = masks.toTensors();
    const masked = forward(model, ref, maskedView(model.denseView, t));
    tf.dispose([...t.values()]);
    const dense = forward(model, ref);
    expect(maxAbsDiff(dense, masked)).toBeGreaterThan(1e-2); // the masks do change the model
    expect(maxAbsDiff(forward(small, ref), masked)).toBeLessThanOrEqual(1e-5);
    const out = path.join(tmp, 'qwen3-per-layer');
    await saveCompacted(small, out, { companionsFrom: dir });
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg.prunekit_layers).toEqual([
      { num_heads: 2, num_key_value_heads: 1, head_dim: 16, intermediate_size: 45 },
      { num_heads: 4, num_key_value_heads: 2, head_dim: 16, intermediate_size: 44 },
    ]);
    const reloaded = loadModel(out);
    expect(maxAbsDiff(forward(reloaded, ref), masked)).toBeLessThanOrEqual(1e-5);
    [model, small, reloaded].forEach((m) => { m.dispose(); });
  });

  const python = referencePython();
  it.skipIf(!python)('uniform sizes: a standard config that transformers reloads with the same logits (llama-cls, value rows and gate rows)', { timeout: 300_000 }, async () => {
    const dir = path.join(root, 'llama-cls');
    const ref = readReference(path.join(dir, 'reference.safetensors'));
    const model = loadModel(dir);
    // KV group 1 of both layers (head_dim 8: value rows 8..15), neurons 0..11 of both layers
    const zero = [0, 1].flatMap((layer) => [
      { layer, kind: 'value' as const, axis: 0 as const, indices: Array.from({ length: 8 }, (_, i) => 8 + i) },
      { layer, kind: 'ffn_gate' as const, axis: 0 as const, indices: Array.from({ length: 12 }, (_, i) => i) },
    ]);
    const masks = masksFor(model, zero);
    const small = compact(model, planFromMasks(model, masks));
    const t = masks.toTensors();
    const masked = forward(model, ref, maskedView(model.denseView, t));
    tf.dispose([...t.values()]);
    const out = path.join(tmp, 'llama-uniform');
    await saveCompacted(small, out);
    const cfg = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect([cfg.num_attention_heads, cfg.num_key_value_heads, cfg.intermediate_size, cfg.head_dim, cfg.prunekit_layers]).toEqual([2, 1, 36, 8, undefined]);
    const inFile = path.join(tmp, 'in.json');
    const ids = ref.int2d('left.input_ids');
    const mask = ref.int2d('left.attention_mask');
    fs.writeFileSync(inFile, JSON.stringify({ input_ids: ids.arraySync(), attention_mask: mask.arraySync() }));
    tf.dispose([ids, mask]);
    const r = spawnSync(python!, [path.join(workspaceRoot, 'tools/fixtures/decoder_outputs.py'), '--model', out, '--inputs', inFile], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const torchOut = JSON.parse(r.stdout) as { class: string; logits: number[][] };
    expect(torchOut.class).toBe('LlamaForSequenceClassification');
    expect(maxAbsDiff(Float32Array.from(torchOut.logits.flat()), masked)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(forward(small, ref), masked)).toBeLessThanOrEqual(1e-5);
    model.dispose();
    small.dispose();
  });
});
