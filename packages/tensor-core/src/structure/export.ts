// Saving compacted models, in two forms:
//   'prunekit'          the compacted shapes. config.json says them with HF "pruned_heads" (only whole
//                       heads removed, standard FFN width) or with prunekit's "prunekit_layers" extension
//                       (per-layer FFN widths, partial heads, gathered inputs; model/config.ts). prunekit
//                       loads every such folder.
//   'dense-compatible'  the same function zero-padded back to the standard shapes of config.json (no
//                       pruned_heads, no extension), for tools that cannot read the extension: PyTorch
//                       transformers and sentence-transformers load it as a plain model. Removed heads,
//                       dims and neurons become zero rows/columns; gathered inputs are scattered back.
import * as tf from '@tensorflow/tfjs-core';
import { headQkDims, headVDims, RESIDUAL_READERS, type EncoderConfig } from '../model/config.js';
import { saveModel, type SaveOptions } from '../model/load.js';
import { EncoderModel } from '../model/model.js';
import { layerNames } from '../model/names.js';
import { headLayout } from './coupling.js';

export type ExportForm = 'prunekit' | 'dense-compatible';
export const EXPORT_FORMS: readonly ExportForm[] = ['prunekit', 'dense-compatible'];

/** How a config states its per-layer sizes. */
export type ShapeFormat = 'standard' | 'pruned-heads' | 'prunekit-layers';

export function shapeFormat(cfg: EncoderConfig): ShapeFormat {
  if (cfg.raw.prunekit_layers !== undefined && cfg.raw.prunekit_layers !== null) return 'prunekit-layers';
  if (cfg.prunedHeads.size > 0) return 'pruned-heads';
  return 'standard';
}

/** The model zero-padded back to the config's standard shapes (same outputs, standard config). */
export function toDenseCompatible(model: EncoderModel): EncoderModel {
  const cfg = model.config;
  if (cfg.family === 'decoder') {
    throw new Error(`${cfg.architecture}: the dense-compatible form is for encoders; a decoder compacted to the same sizes in every layer already has a standard config that transformers loads (per-layer sizes need prunekit)`);
  }
  const H = cfg.hiddenSize;
  const N = cfg.numAttentionHeads;
  const D = H / N;
  const I = cfg.intermediateSize;
  const params = new Map<string, tf.Tensor>();
  const layerParams = new Set<string>();
  const host = (name: string): Float32Array => {
    const t = model.params.get(name);
    if (!t) throw new Error(`model has no parameter "${name}"`);
    return t.dataSync() as Float32Array;
  };
  try {
    for (let l = 0; l < cfg.numLayers; l++) {
      const s = cfg.layers[l]!;
      const n = layerNames(model.prefix, l);
      for (const k of Object.values(n.linear)) for (const p of [k.weight, k.bias, k.inputIndex]) layerParams.add(p);
      if (s.numHeads > N || s.intermediateSize > I || headQkDims(s).some((d) => d > D) || headVDims(s).some((d) => d > D) || s.headDim !== D) {
        throw new Error(`layer ${l}: shapes (${s.numHeads} heads of head_dim ${s.headDim}, FFN ${s.intermediateSize}) do not fit the standard config (${N} heads of ${D}, FFN ${I}); cannot pad`);
      }
      const lay = headLayout(s);
      // kept heads go to their original slots when pruned_heads says which they were
      const pruned = new Set(cfg.prunedHeads.get(l) ?? []);
      const ids = Array.from({ length: N }, (_, h) => h).filter((h) => !pruned.has(h));
      const slot = (h: number): number => (ids.length === s.numHeads ? ids[h]! : h);
      const cols = (reader: (typeof RESIDUAL_READERS)[number]): number[] => {
        const idx = model.params.get(n.linear[reader].inputIndex);
        return idx && s.inputFeatures?.[reader] !== undefined ? Array.from(idx.dataSync()) : Array.from({ length: H }, (_, c) => c);
      };
      // row maps: padded row of each compacted row
      const qkMap: number[] = [];
      const vMap: number[] = [];
      for (let h = 0; h < s.numHeads; h++) {
        for (let d = 0; d < lay.qkDims[h]!; d++) qkMap.push(slot(h) * D + d);
        for (let d = 0; d < lay.vDims[h]!; d++) vMap.push(slot(h) * D + d);
      }
      const ffnMap = Array.from({ length: s.intermediateSize }, (_, j) => j);
      const rowMaps = { query: qkMap, key: qkMap, value: vMap, ffn_up: ffnMap };
      const outRows = { query: N * D, key: N * D, value: N * D, ffn_up: I };
      for (const reader of RESIDUAL_READERS) {
        const { weight, bias } = n.linear[reader];
        const w = host(weight);
        const b = host(bias);
        const c = cols(reader);
        const rows = rowMaps[reader];
        const pw = new Float32Array(outRows[reader] * H);
        const pb = new Float32Array(outRows[reader]);
        for (let r = 0; r < rows.length; r++) {
          pb[rows[r]!] = b[r]!;
          for (let j = 0; j < c.length; j++) pw[rows[r]! * H + c[j]!] = w[r * c.length + j]!;
        }
        params.set(weight, tf.tensor2d(pw, [outRows[reader], H]));
        params.set(bias, tf.tensor1d(pb));
      }
      // writers: scatter their columns
      for (const [kind, map, width] of [['attn_output', vMap, N * D], ['ffn_down', ffnMap, I]] as const) {
        const { weight, bias } = n.linear[kind];
        const w = host(weight);
        const pw = new Float32Array(H * width);
        for (let r = 0; r < H; r++) for (let j = 0; j < map.length; j++) pw[r * width + map[j]!] = w[r * map.length + j]!;
        params.set(weight, tf.tensor2d(pw, [H, width]));
        params.set(bias, model.params.get(bias)!.clone());
      }
    }
    for (const [name, t] of model.params) if (!layerParams.has(name)) params.set(name, t.clone());
    const raw: Record<string, unknown> = { ...cfg.raw };
    delete raw.prunekit_layers;
    delete raw.pruned_heads;
    const layers = Array.from({ length: cfg.numLayers }, () => ({ numHeads: N, headDim: D, intermediateSize: I }));
    return new EncoderModel({ ...cfg, raw, layers, prunedHeads: new Map() }, params, model.prefix);
  } catch (err) {
    for (const t of params.values()) t.dispose();
    throw err;
  }
}

export interface SaveCompactedOptions extends Omit<SaveOptions, 'override' | 'configUpdates'> {
  /** 'prunekit' (default): compacted shapes; 'dense-compatible': zero-padded standard shapes */
  form?: ExportForm;
}

/** Saves a (compacted) model folder in the chosen form. */
export async function saveCompacted(model: EncoderModel, dir: string, options: SaveCompactedOptions = {}): Promise<void> {
  const { form = 'prunekit', ...save } = options;
  if (!EXPORT_FORMS.includes(form)) throw new Error(`unknown export form "${form as string}"; expected ${EXPORT_FORMS.join(' or ')}`);
  if (form === 'prunekit') {
    await saveModel(model, dir, save);
    return;
  }
  const padded = toDenseCompatible(model);
  try {
    await saveModel(padded, dir, save);
  } finally {
    padded.dispose();
  }
}
