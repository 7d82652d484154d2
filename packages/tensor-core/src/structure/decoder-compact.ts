// Compaction of decoders (Qwen3, Llama, Mistral) by their coupling groups (coupling.ts): whole KV
// groups (a KV head with its query heads) and gated-MLP neurons. A plan for a decoder keeps, per layer,
// KV groups in `heads` (head = KV head index; qk/v list the whole head) and neurons in `ffn`.
//
// Exactness (what makes a removal free, no biases):
//   - a KV group whose attention-output columns are all zero, or whose value rows are all zero
//     (attention then averages zero vectors), contributes nothing;
//   - a neuron whose down column, gate row or up row is zero contributes nothing (silu(0) = 0).
// The compacted config keeps head_dim and the group size; uniform sizes go into the standard fields
// (num_attention_heads, num_key_value_heads, intermediate_size: transformers reloads it), per-layer
// sizes into prunekit_layers [{num_heads, num_key_value_heads, head_dim, intermediate_size}].
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig, type EncoderConfig, type LayerShape } from '../model/config.js';
import { EncoderModel } from '../model/model.js';
import { layerNames } from '../model/names.js';
import type { MaskSet } from '../prune/maskset.js';
import { PlanError, type CompactionPlan, type LayerPlan, type LayerReport, type MaskPlanOptions } from './plan.js';

function effective(model: EncoderModel, masks: MaskSet | undefined, name: string): { rows: number; cols: number; data: Float32Array } {
  const t = model.params.get(name);
  if (!t) throw new PlanError(`model has no parameter "${name}"`);
  const data = Float32Array.from(t.dataSync());
  const m = masks?.masks.get(name);
  if (m) {
    if (m.data.length !== data.length) throw new PlanError(`mask for "${name}" has ${m.data.length} entries; the parameter has ${data.length}`);
    for (let i = 0; i < data.length; i++) if (!m.data[i]) data[i] = 0;
  }
  return { rows: t.shape[0]!, cols: t.shape[1]!, data };
}

const zeroRows = (m: { cols: number; data: Float32Array }, from: number, count: number): boolean => {
  for (let i = from * m.cols; i < (from + count) * m.cols; i++) if (m.data[i] !== 0) return false;
  return true;
};
const zeroCols = (m: { rows: number; cols: number; data: Float32Array }, from: number, count: number): boolean => {
  for (let r = 0; r < m.rows; r++) for (let c = from; c < from + count; c++) if (m.data[r * m.cols + c] !== 0) return false;
  return true;
};

function kvLayout(s: LayerShape): { kvHeads: number; group: number } {
  const kvHeads = s.numKvHeads ?? s.numHeads;
  return { kvHeads, group: s.numHeads / kvHeads };
}

/** A plan that removes every KV group and MLP neuron the (masked) decoder does not use: exact. */
export function planDecoderFromMasks(model: EncoderModel, masks?: MaskSet, options: MaskPlanOptions = {}): CompactionPlan {
  if (options.minKept !== undefined && options.minKept !== 1) throw new PlanError('decoders are compacted exactly only: minKept must be 1 (whole KV groups and neurons that are unused)');
  const cfg = model.config;
  const dec = cfg.decoder!;
  if (dec.attentionBias || dec.mlpBias) throw new PlanError(`${cfg.architecture} with attention_bias or mlp_bias: compaction of decoders with biases is not supported`);
  const layers: LayerPlan[] = [];
  const perLayer: LayerReport[] = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    const s = cfg.layers[l]!;
    const n = layerNames(model.prefix, l, 'decoder');
    const { kvHeads, group } = kvLayout(s);
    const o = effective(model, masks, n.linear.attn_output.weight);
    const v = effective(model, masks, n.linear.value.weight);
    const d = s.headDim;
    const heads: LayerPlan['heads'] = [];
    const removed: number[] = [];
    for (let g = 0; g < kvHeads; g++) {
      if (zeroCols(o, g * group * d, group * d) || zeroRows(v, g * d, d)) removed.push(g);
      else heads.push({ head: g, qk: Array.from({ length: d }, (_, i) => i), v: Array.from({ length: d }, (_, i) => i) });
    }
    const gate = effective(model, masks, n.linear.ffn_gate.weight);
    const up = effective(model, masks, n.linear.ffn_up.weight);
    const down = effective(model, masks, n.linear.ffn_down.weight);
    const ffn: number[] = [];
    for (let j = 0; j < s.intermediateSize; j++) if (!(zeroRows(gate, j, 1) || zeroRows(up, j, 1) || zeroCols(down, j, 1))) ffn.push(j);
    if (heads.length === 0) throw new PlanError(`layer ${l}: the masks leave no KV group in use; a layer must keep at least one`);
    if (ffn.length === 0) throw new PlanError(`layer ${l}: the masks leave no MLP neuron in use; a layer must keep at least one`);
    layers.push({ heads, ffn, inputs: {}, foldV: [], foldFfn: [] });
    perLayer.push({ layer: l, headsRemoved: removed, qkDimsRemoved: 0, vDimsRemoved: 0, neuronsRemoved: s.intermediateSize - ffn.length, inputFeaturesRemoved: {}, droppedNonzero: 0 });
  }
  const plan: CompactionPlan = {
    source: 'masks', shapes: cfg.layers.map((s) => ({ ...s })), hiddenSize: cfg.hiddenSize, layers,
    report: { perLayer, droppedNonzero: 0, droppedSquaredNorm: 0 },
  };
  if (masks) plan.masks = masks;
  return plan;
}

/** Checks a decoder plan: kept KV groups and neurons in range, increasing, at least one of each per layer. */
export function validateDecoderPlan(model: EncoderModel, plan: CompactionPlan): void {
  const cfg = model.config;
  if (plan.hiddenSize !== cfg.hiddenSize) throw new PlanError(`the plan was made for hidden size ${plan.hiddenSize}; the model has ${cfg.hiddenSize}`);
  if (plan.layers.length !== cfg.numLayers) throw new PlanError(`the plan has ${plan.layers.length} layers; the model has ${cfg.numLayers}`);
  for (let l = 0; l < cfg.numLayers; l++) {
    const s = cfg.layers[l]!;
    const lp = plan.layers[l]!;
    const { kvHeads } = kvLayout(s);
    const check = (what: string, list: number[], size: number): void => {
      if (list.length === 0) throw new PlanError(`layer ${l}: the plan keeps no ${what}; a layer must keep at least one`);
      list.forEach((x, i) => {
        if (!Number.isInteger(x) || x < 0 || x >= size) throw new PlanError(`layer ${l}: the plan names ${what} ${x}, outside 0..${size - 1}`);
        if (i > 0 && x <= list[i - 1]!) throw new PlanError(`layer ${l}: the plan's ${what} list must be increasing without repeats`);
      });
    };
    check('KV group', lp.heads.map((h) => h.head), kvHeads);
    for (const h of lp.heads) {
      if (h.qk.length !== s.headDim || h.v.length !== s.headDim) throw new PlanError(`layer ${l}: decoders keep whole heads (RoPE and q/k norm need every dim); KV group ${h.head} keeps ${h.qk.length}/${h.v.length} of ${s.headDim} dims`);
    }
    check('MLP neuron', lp.ffn, s.intermediateSize);
    if (Object.keys(lp.inputs).length > 0 || lp.foldV.length > 0 || lp.foldFfn.length > 0) throw new PlanError(`layer ${l}: decoders have no input gathering or folded rows`);
  }
}

/** The smaller decoder that keeps what the plan keeps (masks applied first). The source model is untouched. */
export function compactDecoder(model: EncoderModel, plan: CompactionPlan): EncoderModel {
  validateDecoderPlan(model, plan);
  const cfg = model.config;
  const maskTensors = plan.masks?.toTensors() ?? new Map<string, tf.Tensor>();
  const params = new Map<string, tf.Tensor>();
  try {
    const eff = (name: string): tf.Tensor => {
      const t = model.params.get(name)!;
      const m = maskTensors.get(name);
      return m ? tf.mul(t, m) : t;
    };
    const done = new Set<string>();
    const shapes: LayerShape[] = [];
    for (let l = 0; l < cfg.numLayers; l++) {
      const s = cfg.layers[l]!;
      const lp = plan.layers[l]!;
      const n = layerNames(model.prefix, l, 'decoder');
      const { group } = kvLayout(s);
      const d = s.headDim;
      const kvRows = lp.heads.flatMap((h) => Array.from({ length: d }, (_, i) => h.head * d + i));
      const qRows = lp.heads.flatMap((h) => Array.from({ length: group * d }, (_, i) => h.head * group * d + i));
      tf.tidy(() => {
        const put = (name: string, t: tf.Tensor): void => {
          params.set(name, tf.keep(t.clone()));
          done.add(name);
        };
        const rows = (kind: keyof typeof n.linear, idx: number[]): void => { put(n.linear[kind].weight, tf.gather(eff(n.linear[kind].weight), tf.tensor1d(idx, 'int32'), 0)); };
        const cols = (kind: keyof typeof n.linear, idx: number[]): void => { put(n.linear[kind].weight, tf.gather(eff(n.linear[kind].weight), tf.tensor1d(idx, 'int32'), 1)); };
        rows('query', qRows);
        rows('key', kvRows);
        rows('value', kvRows);
        cols('attn_output', qRows);
        rows('ffn_gate', lp.ffn);
        rows('ffn_up', lp.ffn);
        cols('ffn_down', lp.ffn);
      });
      shapes.push({ numHeads: lp.heads.length * group, numKvHeads: lp.heads.length, headDim: d, intermediateSize: lp.ffn.length });
    }
    for (const name of model.params.keys()) if (!done.has(name)) params.set(name, tf.tidy(() => eff(name).clone()));
    return new EncoderModel(decoderCompactedConfig(cfg, shapes), params, model.prefix);
  } catch (err) {
    for (const t of params.values()) t.dispose();
    throw err;
  } finally {
    for (const t of maskTensors.values()) t.dispose();
  }
}

function decoderCompactedConfig(cfg: EncoderConfig, shapes: LayerShape[]): EncoderConfig {
  const raw: Record<string, unknown> = { ...cfg.raw };
  delete raw.prunekit_layers;
  raw.head_dim = cfg.decoder!.headDim;
  const first = shapes[0]!;
  const uniform = shapes.every((s) => s.numHeads === first.numHeads && s.intermediateSize === first.intermediateSize);
  if (uniform) {
    raw.num_attention_heads = first.numHeads;
    raw.num_key_value_heads = first.numKvHeads;
    raw.intermediate_size = first.intermediateSize;
  } else {
    raw.prunekit_layers = shapes.map((s) => ({ num_heads: s.numHeads, num_key_value_heads: s.numKvHeads, head_dim: s.headDim, intermediate_size: s.intermediateSize }));
  }
  return { ...parseConfig(raw, 'compacted config'), head: cfg.head };
}
