// compact(model, plan): a new, smaller dense model that keeps only what the plan keeps. Per-layer sizes
// (heads per layer, query/key and value dims per head, FFN width, residual features each reader reads)
// go into the config: HF "pruned_heads" where that says it all, prunekit's "prunekit_layers" extension
// otherwise (model/config.ts documents it).
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig, RESIDUAL_READERS, type EncoderConfig, type LayerShape, type ResidualReader } from '../model/config.js';
import { activation, EncoderModel } from '../model/model.js';
import { layerNames } from '../model/names.js';
import { headLayout } from './coupling.js';
import { cloneShape, PlanError, type CompactionPlan, type LayerPlan } from './plan.js';
import { compactDecoder, validateDecoderPlan } from './decoder-compact.js';

function sameShape(a: LayerShape, b: LayerShape): boolean {
  return JSON.stringify(cloneShape(a)) === JSON.stringify(cloneShape(b));
}

function describe(s: LayerShape): string {
  const parts = [`${s.numHeads} heads`, `FFN ${s.intermediateSize}`];
  if (s.qkDims) parts.push(`qk dims ${s.qkDims.join('/')}`);
  if (s.vDims) parts.push(`v dims ${s.vDims.join('/')}`);
  if (s.inputFeatures) parts.push(`input features ${JSON.stringify(s.inputFeatures)}`);
  return parts.join(', ');
}

function checkIndices(layer: number, what: string, list: readonly number[], size: number, allowEmpty = false): void {
  if (!allowEmpty && list.length === 0) throw new PlanError(`layer ${layer}: the plan keeps no ${what}; a layer must keep at least one`);
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= size) throw new PlanError(`layer ${layer}: the plan names ${what} ${v}, outside 0..${size - 1}`);
    if (i > 0 && v <= list[i - 1]!) throw new PlanError(`layer ${layer}: the plan's ${what} list must be increasing without repeats (got ${list[i - 1]} then ${v})`);
  }
}

/** Checks a plan against a model: same shapes, indices in range, something kept in every layer. */
export function validatePlan(model: EncoderModel, plan: CompactionPlan): void {
  const cfg = model.config;
  if (cfg.family === 'decoder') {
    validateDecoderPlan(model, plan);
    return;
  }
  if (plan.hiddenSize !== cfg.hiddenSize) throw new PlanError(`the plan was made for hidden size ${plan.hiddenSize}; the model has ${cfg.hiddenSize}`);
  if (plan.layers.length !== cfg.numLayers || plan.shapes.length !== cfg.numLayers) throw new PlanError(`the plan has ${plan.layers.length} layers; the model has ${cfg.numLayers}`);
  for (let l = 0; l < cfg.numLayers; l++) {
    const s = cfg.layers[l]!;
    if (!sameShape(plan.shapes[l]!, s)) throw new PlanError(`layer ${l}: the plan was made for ${describe(plan.shapes[l]!)}; the model's layer has ${describe(s)}`);
    const lp = plan.layers[l]!;
    const lay = headLayout(s);
    if (lp.heads.length === 0) throw new PlanError(`layer ${l}: the plan removes every attention head (all ${s.numHeads}); a layer must keep at least one`);
    checkIndices(l, 'head', lp.heads.map((h) => h.head), s.numHeads);
    for (const h of lp.heads) {
      checkIndices(l, `query/key dim of head ${h.head}`, h.qk, lay.qkDims[h.head]!);
      checkIndices(l, `value dim of head ${h.head}`, h.v, lay.vDims[h.head]!);
    }
    if (lp.ffn.length === 0) throw new PlanError(`layer ${l}: the plan removes every FFN neuron (all ${s.intermediateSize}); a layer must keep at least one`);
    checkIndices(l, 'FFN neuron', lp.ffn, s.intermediateSize);
    for (const [reader, cols] of Object.entries(lp.inputs) as [ResidualReader, number[]][]) {
      if (!RESIDUAL_READERS.includes(reader)) throw new PlanError(`layer ${l}: the plan gathers inputs of "${reader}", which does not read the residual stream (readers: ${RESIDUAL_READERS.join(', ')})`);
      checkIndices(l, `input feature of ${reader}`, cols, s.inputFeatures?.[reader] ?? cfg.hiddenSize);
    }
    checkIndices(l, 'folded value row', lp.foldV, lay.vDims.reduce((a, b) => a + b, 0), true);
    checkIndices(l, 'folded FFN neuron', lp.foldFfn, s.intermediateSize, true);
  }
}

/** Original head numbers of each layer's heads, where the config says (pruned_heads), else null. */
function headIds(cfg: EncoderConfig, l: number): number[] | null {
  const pruned = new Set(cfg.prunedHeads.get(l) ?? []);
  const ids = Array.from({ length: cfg.numAttentionHeads }, (_, h) => h).filter((h) => !pruned.has(h));
  const s = cfg.layers[l]!;
  return ids.length === s.numHeads ? ids : null;
}

/**
 * Builds the compacted model. The source model is left as it is (its tensors are not shared).
 * Outputs equal the masked model's (plan.masks applied) up to float rounding, except for the weights
 * the plan drops on purpose (plan.report.droppedNonzero).
 */
export function compact(model: EncoderModel, plan: CompactionPlan): EncoderModel {
  if (model.config.family === 'decoder') return compactDecoder(model, plan);
  validatePlan(model, plan);
  const cfg = model.config;
  const maskTensors = plan.masks?.toTensors() ?? new Map<string, tf.Tensor>();
  const params = new Map<string, tf.Tensor>();
  try {
    const eff = (name: string): tf.Tensor => {
      const t = model.params.get(name);
      if (!t) throw new PlanError(`model has no parameter "${name}"`);
      const m = maskTensors.get(name);
      return m ? tf.mul(t, m) : t;
    };
    const layerParams = new Set<string>();
    const shapes: LayerShape[] = [];
    for (let l = 0; l < cfg.numLayers; l++) {
      const n = layerNames(model.prefix, l);
      for (const k of Object.values(n.linear)) for (const p of [k.weight, k.bias, k.inputIndex]) layerParams.add(p);
      const s = cfg.layers[l]!;
      const lp: LayerPlan = plan.layers[l]!;
      const lay = headLayout(s);
      const qkRows = lp.heads.flatMap((h) => h.qk.map((d) => lay.qkOffsets[h.head]! + d));
      const vRows = lp.heads.flatMap((h) => h.v.map((d) => lay.vOffsets[h.head]! + d));
      const rowsOf: Record<ResidualReader, number[]> = { query: qkRows, key: qkRows, value: vRows, ffn_up: lp.ffn };
      const inputFeatures: Partial<Record<ResidualReader, number>> = {};
      tf.tidy(() => {
        const keep = (name: string, t: tf.Tensor): void => {
          params.set(name, tf.keep(t.clone()));
        };
        for (const reader of RESIDUAL_READERS) {
          const { weight, bias, inputIndex } = n.linear[reader];
          const rows = tf.tensor1d(rowsOf[reader], 'int32');
          let w = tf.gather(eff(weight), rows, 0);
          const cols = lp.inputs[reader];
          const oldIndex = model.params.get(inputIndex);
          if (cols) {
            w = tf.gather(w, tf.tensor1d(cols, 'int32'), 1);
            const idx = oldIndex ? tf.gather(oldIndex, tf.tensor1d(cols, 'int32')) : tf.tensor1d(cols, 'int32');
            keep(inputIndex, idx);
            inputFeatures[reader] = cols.length;
          } else if (oldIndex) {
            keep(inputIndex, oldIndex);
            inputFeatures[reader] = oldIndex.shape[0]!;
          }
          keep(weight, w);
          keep(bias, tf.gather(eff(bias), rows));
        }
        // attention output: kept value columns; removed value rows that emit a constant fold into the bias
        const o = eff(n.linear.attn_output.weight);
        let ob = eff(n.linear.attn_output.bias);
        if (lp.foldV.length > 0) {
          const f = tf.tensor1d(lp.foldV, 'int32');
          ob = tf.add(ob, tf.squeeze(tf.matMul(tf.gather(o, f, 1), tf.reshape(tf.gather(eff(n.linear.value.bias), f), [-1, 1])), [1]));
        }
        keep(n.linear.attn_output.weight, tf.gather(o, tf.tensor1d(vRows, 'int32'), 1));
        keep(n.linear.attn_output.bias, ob);
        // FFN down: kept neuron columns; removed neurons with a zero up row emit act(b_up): fold it
        const d = eff(n.linear.ffn_down.weight);
        let db = eff(n.linear.ffn_down.bias);
        if (lp.foldFfn.length > 0) {
          const f = tf.tensor1d(lp.foldFfn, 'int32');
          const c = activation(tf.gather(eff(n.linear.ffn_up.bias), f), cfg.hiddenAct);
          db = tf.add(db, tf.squeeze(tf.matMul(tf.gather(d, f, 1), tf.reshape(c, [-1, 1])), [1]));
        }
        keep(n.linear.ffn_down.weight, tf.gather(d, tf.tensor1d(lp.ffn, 'int32'), 1));
        keep(n.linear.ffn_down.bias, db);
      });
      const shape: LayerShape = { numHeads: lp.heads.length, headDim: s.headDim, intermediateSize: lp.ffn.length };
      const qkDims = lp.heads.map((h) => h.qk.length);
      const vDims = lp.heads.map((h) => h.v.length);
      if (qkDims.some((x) => x !== s.headDim)) shape.qkDims = qkDims;
      if (vDims.some((x) => x !== s.headDim)) shape.vDims = vDims;
      if (Object.keys(inputFeatures).length > 0) shape.inputFeatures = inputFeatures;
      shapes.push(shape);
    }
    // everything outside the encoder layers' linears: copied (masked where the plan has masks)
    for (const name of model.params.keys()) {
      if (layerParams.has(name)) continue;
      params.set(name, tf.tidy(() => eff(name).clone()));
    }
    const config = compactedConfig(cfg, plan, shapes);
    return new EncoderModel(config, params, model.prefix);
  } catch (err) {
    for (const t of params.values()) t.dispose();
    throw err;
  } finally {
    for (const t of maskTensors.values()) t.dispose();
  }
}

function compactedConfig(cfg: EncoderConfig, plan: CompactionPlan, shapes: LayerShape[]): EncoderConfig {
  const raw: Record<string, unknown> = { ...cfg.raw };
  const standardHeadDim = cfg.hiddenSize / cfg.numAttentionHeads;
  // pruned_heads (HF) can say it when every kept head is whole and its original number is known
  const fullHeads = shapes.every((s) => !s.qkDims && !s.vDims && !s.inputFeatures && s.headDim === standardHeadDim);
  let prunedHeads: Record<string, number[]> | null = {};
  for (let l = 0; l < cfg.numLayers; l++) {
    const ids = headIds(cfg, l);
    if (!ids) {
      prunedHeads = null;
      break;
    }
    const kept = new Set(plan.layers[l]!.heads.map((h) => ids[h.head]!));
    const removed = Array.from({ length: cfg.numAttentionHeads }, (_, h) => h).filter((h) => !kept.has(h));
    if (removed.length > 0) prunedHeads[String(l)] = removed;
  }
  delete raw.pruned_heads;
  delete raw.prunekit_layers;
  const writePruned = fullHeads && prunedHeads !== null && Object.keys(prunedHeads).length > 0;
  if (writePruned) raw.pruned_heads = prunedHeads;
  // prunekit_layers whenever the standard fields (+ pruned_heads) do not imply these shapes
  const implied = (s: LayerShape, l: number): boolean =>
    !s.qkDims && !s.vDims && !s.inputFeatures && s.headDim === standardHeadDim && s.intermediateSize === cfg.intermediateSize &&
    s.numHeads === cfg.numAttentionHeads - (writePruned ? (prunedHeads![String(l)]?.length ?? 0) : 0);
  if (!shapes.every(implied)) {
    raw.prunekit_layers = shapes.map((s) => {
      const e: Record<string, unknown> = { num_heads: s.numHeads, head_dim: s.headDim, intermediate_size: s.intermediateSize };
      if (s.qkDims) e.qk_dims = s.qkDims;
      if (s.vDims) e.v_dims = s.vDims;
      if (s.inputFeatures) e.input_features = s.inputFeatures;
      return e;
    });
  }
  const parsed = parseConfig(raw, 'compacted config');
  return { ...parsed, head: cfg.head };
}

/** Parameters of the encoder layers' linears (attention + FFN weights and biases), the quantity compaction removes. */
export function layerLinearParameters(model: EncoderModel): number {
  let n = 0;
  for (let l = 0; l < model.config.numLayers; l++) {
    for (const k of Object.values(layerNames(model.prefix, l, model.config.family).linear)) n += (model.params.get(k.weight)?.size ?? 0) + (model.params.get(k.bias)?.size ?? 0);
  }
  return n;
}
