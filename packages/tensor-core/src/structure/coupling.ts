// Coupling groups: which slices of which parameters must be removed together so that a smaller dense
// model computes what the masked model computed (in the spirit of Torch-Pruning's dependency graph).
// Described once per architecture here; compaction (compact.ts), FineGates' structured gates and SMP's
// row removal all read this description instead of knowing the transformer themselves.
//
// For the post-LN encoders prunekit supports (BERT, RoBERTa, XLM-R: one layout, names.ts):
//   head          all query/key dims and all value dims of one attention head
//   qk_dim        row i of Q with row i of K (and their bias entries): the i-th term of q·k
//   v_dim         row i of V (and its bias entry) with column i of the attention output
//   ffn_neuron    row j of the FFN up projection (and its bias entry) with column j of the down projection
//   input_feature column c of a linear that reads the residual stream (Q, K, V, FFN up): gathered away
//                 from that linear's input; the residual stream itself keeps its width, so the linears
//                 that write it (attention output, FFN down) never lose rows.
//
// For the decoders (Qwen3, Llama, Mistral: pre-RMSNorm, RoPE, grouped-query attention, SwiGLU):
//   head          one KV head with its group of query heads: the head_dim rows of K and of V of KV head
//                 g, the rows of Q of query heads g*G .. g*G+G-1 (G = heads / KV heads) and the matching
//                 columns of the attention output. Removing whole groups keeps G, so GQA stays GQA.
//   ffn_neuron    row j of the gate and of the up projection with column j of the down projection.
//   No qk_dim / v_dim / input_feature groups: RoPE rotates pairs of query/key dims and the q/k RMSNorm
//   normalises over the whole head, so partial heads would change what the model computes.
import { headQkDims, headVDims, RESIDUAL_READERS, type EncoderConfig, type LayerShape, type ModelType, type ResidualReader } from '../model/config.js';
import { layerNames, parseLinearName, type MatrixKind } from '../model/names.js';

export type GroupKind = 'head' | 'qk_dim' | 'v_dim' | 'ffn_neuron' | 'input_feature';

/** How one architecture couples its dimensions, by linear kind. */
export interface CouplingSpec {
  /** rows removed together for one query/key dimension */
  qkDim: { rows: readonly MatrixKind[] };
  /** rows (with bias entries) and columns removed together for one value dimension */
  vDim: { rows: readonly MatrixKind[]; cols: readonly MatrixKind[] };
  /** rows (with bias entries) and columns removed together for one FFN neuron */
  ffnNeuron: { rows: readonly MatrixKind[]; cols: readonly MatrixKind[] };
  /** linears whose input is the residual stream: their columns can be gathered away one by one */
  residualReaders: readonly ResidualReader[];
  /** linears whose output is the residual stream: their rows are never removed */
  residualWriters: readonly MatrixKind[];
  /** decoders: a head group is a KV head with its query heads (Q rows and output columns of G heads, K/V rows of one) */
  groupedHeads?: { queryRows: readonly MatrixKind[]; kvRows: readonly MatrixKind[]; cols: readonly MatrixKind[] };
}

const POST_LN_ENCODER: CouplingSpec = {
  qkDim: { rows: ['query', 'key'] },
  vDim: { rows: ['value'], cols: ['attn_output'] },
  ffnNeuron: { rows: ['ffn_up'], cols: ['ffn_down'] },
  residualReaders: RESIDUAL_READERS,
  residualWriters: ['attn_output', 'ffn_down'],
};

const GQA_DECODER: CouplingSpec = {
  qkDim: { rows: [] },
  vDim: { rows: [], cols: [] },
  ffnNeuron: { rows: ['ffn_gate', 'ffn_up'], cols: ['ffn_down'] },
  residualReaders: [],
  residualWriters: ['attn_output', 'ffn_down'],
  groupedHeads: { queryRows: ['query'], kvRows: ['key', 'value'], cols: ['attn_output'] },
};

/** The coupling description of every supported architecture. */
export const COUPLING: Readonly<Record<ModelType, CouplingSpec>> = {
  bert: POST_LN_ENCODER,
  roberta: POST_LN_ENCODER,
  'xlm-roberta': POST_LN_ENCODER,
  qwen3: GQA_DECODER,
  llama: GQA_DECODER,
  mistral: GQA_DECODER,
};

/** A slice of one parameter: rows (axis 0, with the same bias entries) or columns (axis 1). */
export interface GroupSlice {
  param: string;
  axis: 0 | 1;
  indices: number[];
  /** for row slices: the bias whose entries go with the rows */
  bias?: string;
}

/** One coupled group: removing it removes every slice together. */
export interface CouplingGroup {
  kind: GroupKind;
  layer: number;
  /** head index (head, qk_dim, v_dim) */
  head?: number;
  /** dimension within the head (qk_dim, v_dim), neuron (ffn_neuron) or residual feature column (input_feature) */
  index?: number;
  /** the reading linear (input_feature) */
  reader?: ResidualReader;
  slices: GroupSlice[];
}

/** Row offsets of each head in Q/K and in V (heads may differ in size in a compacted model). */
export interface HeadLayout {
  qkDims: number[];
  vDims: number[];
  qkOffsets: number[];
  vOffsets: number[];
}

export function headLayout(shape: LayerShape): HeadLayout {
  const qkDims = headQkDims(shape);
  const vDims = headVDims(shape);
  const offsets = (d: number[]): number[] => {
    const o: number[] = [];
    let acc = 0;
    for (const x of d) {
      o.push(acc);
      acc += x;
    }
    return o;
  };
  return { qkDims, vDims, qkOffsets: offsets(qkDims), vOffsets: offsets(vDims) };
}

type Model = { config: EncoderConfig; prefix: string };

function checkLayer(model: Model, layer: number): LayerShape {
  const s = model.config.layers[layer];
  if (!Number.isInteger(layer) || !s) throw new Error(`layer ${layer}: the model has layers 0..${model.config.numLayers - 1}`);
  return s;
}

function rowsOf(model: Model, layer: number, kinds: readonly MatrixKind[], indices: number[]): GroupSlice[] {
  const n = layerNames(model.prefix, layer, model.config.family);
  return kinds.map((k) => ({ param: n.linear[k].weight, axis: 0 as const, indices, bias: n.linear[k].bias }));
}

function colsOf(model: Model, layer: number, kinds: readonly MatrixKind[], indices: number[]): GroupSlice[] {
  const n = layerNames(model.prefix, layer, model.config.family);
  return kinds.map((k) => ({ param: n.linear[k].weight, axis: 1 as const, indices }));
}

/** The group of one attention head. */
export function headGroup(model: Model, layer: number, head: number): CouplingGroup {
  const s = checkLayer(model, layer);
  if (!COUPLING[model.config.modelType].groupedHeads && (!Number.isInteger(head) || head < 0 || head >= s.numHeads)) {
    throw new Error(`layer ${layer}: head ${head} does not exist (the layer has ${s.numHeads} heads)`);
  }
  const spec = COUPLING[model.config.modelType];
  const range = (o: number, d: number): number[] => Array.from({ length: d }, (_, i) => o + i);
  if (spec.groupedHeads) {
    const kvHeads = s.numKvHeads ?? s.numHeads;
    if (!Number.isInteger(head) || head < 0 || head >= kvHeads) throw new Error(`layer ${layer}: KV head ${head} does not exist (the layer has ${kvHeads} KV heads)`);
    const size = (s.numHeads / kvHeads) * s.headDim;
    const q = range(head * size, size);
    const kv = range(head * s.headDim, s.headDim);
    const g = spec.groupedHeads;
    return { kind: 'head', layer, head, slices: [...rowsOf(model, layer, g.queryRows, q), ...rowsOf(model, layer, g.kvRows, kv), ...colsOf(model, layer, g.cols, q)] };
  }
  const lay = headLayout(s);
  const qk = range(lay.qkOffsets[head]!, lay.qkDims[head]!);
  const v = range(lay.vOffsets[head]!, lay.vDims[head]!);
  return {
    kind: 'head', layer, head,
    slices: [...rowsOf(model, layer, spec.qkDim.rows, qk), ...rowsOf(model, layer, spec.vDim.rows, v), ...colsOf(model, layer, spec.vDim.cols, v)],
  };
}

/** The groups of one layer, of one kind (or all kinds), in index order. */
export function layerGroups(model: Model, layer: number, kind?: GroupKind): CouplingGroup[] {
  const s = checkLayer(model, layer);
  const spec = COUPLING[model.config.modelType];
  const lay = headLayout(s);
  const out: CouplingGroup[] = [];
  const want = (k: GroupKind): boolean => kind === undefined || kind === k;
  const headGroups = spec.groupedHeads ? (s.numKvHeads ?? s.numHeads) : s.numHeads;
  if (want('head')) for (let h = 0; h < headGroups; h++) out.push(headGroup(model, layer, h));
  if (spec.groupedHeads) {
    // decoders: whole KV groups and gated-MLP neurons only (see the header)
    if (want('ffn_neuron')) {
      for (let j = 0; j < s.intermediateSize; j++) {
        out.push({ kind: 'ffn_neuron', layer, index: j, slices: [...rowsOf(model, layer, spec.ffnNeuron.rows, [j]), ...colsOf(model, layer, spec.ffnNeuron.cols, [j])] });
      }
    }
    return out;
  }
  if (want('qk_dim')) {
    for (let h = 0; h < s.numHeads; h++) {
      for (let d = 0; d < lay.qkDims[h]!; d++) out.push({ kind: 'qk_dim', layer, head: h, index: d, slices: rowsOf(model, layer, spec.qkDim.rows, [lay.qkOffsets[h]! + d]) });
    }
  }
  if (want('v_dim')) {
    for (let h = 0; h < s.numHeads; h++) {
      for (let d = 0; d < lay.vDims[h]!; d++) {
        const r = [lay.vOffsets[h]! + d];
        out.push({ kind: 'v_dim', layer, head: h, index: d, slices: [...rowsOf(model, layer, spec.vDim.rows, r), ...colsOf(model, layer, spec.vDim.cols, r)] });
      }
    }
  }
  if (want('ffn_neuron')) {
    for (let j = 0; j < s.intermediateSize; j++) {
      out.push({ kind: 'ffn_neuron', layer, index: j, slices: [...rowsOf(model, layer, spec.ffnNeuron.rows, [j]), ...colsOf(model, layer, spec.ffnNeuron.cols, [j])] });
    }
  }
  if (want('input_feature')) {
    for (const reader of spec.residualReaders) {
      const cols = s.inputFeatures?.[reader] ?? model.config.hiddenSize;
      for (let c = 0; c < cols; c++) out.push({ kind: 'input_feature', layer, reader, index: c, slices: colsOf(model, layer, [reader], [c]) });
    }
  }
  return out;
}

/**
 * The group that a row (axis 0) or column (axis 1) of an encoder linear belongs to, e.g. for removing a
 * row: a query row -> its qk_dim group (the key row with it), an FFN-down column -> its ffn_neuron group.
 * Returns null for rows of the linears that write the residual stream (they are never removed).
 */
export function groupOf(model: Model, param: string, axis: 0 | 1, index: number): CouplingGroup | null {
  const parsed = parseLinearName(param);
  if (!parsed || parsed.param !== 'weight') throw new Error(`"${param}" is not the weight of an encoder linear; coupling groups cover Q, K, V, attention output, FFN up and down`);
  const { layer, kind } = parsed;
  const s = checkLayer(model, layer);
  const spec = COUPLING[model.config.modelType];
  if (spec.groupedHeads) return decoderGroupOf(model, spec, s, layer, kind, param, axis, index);
  const lay = headLayout(s);
  const find = (offsets: number[], dims: number[], r: number): { head: number; dim: number } => {
    for (let h = 0; h < offsets.length; h++) if (r >= offsets[h]! && r < offsets[h]! + dims[h]!) return { head: h, dim: r - offsets[h]! };
    throw new Error(`layer ${layer}: index ${r} is outside ${param} (${dims.reduce((a, b) => a + b, 0)} entries)`);
  };
  if (axis === 0) {
    if (spec.residualWriters.includes(kind)) return null;
    if (spec.qkDim.rows.includes(kind)) {
      const { head, dim } = find(lay.qkOffsets, lay.qkDims, index);
      return { kind: 'qk_dim', layer, head, index: dim, slices: rowsOf(model, layer, spec.qkDim.rows, [index]) };
    }
    if (spec.vDim.rows.includes(kind)) {
      const { head, dim } = find(lay.vOffsets, lay.vDims, index);
      return { kind: 'v_dim', layer, head, index: dim, slices: [...rowsOf(model, layer, spec.vDim.rows, [index]), ...colsOf(model, layer, spec.vDim.cols, [index])] };
    }
    if (spec.ffnNeuron.rows.includes(kind)) {
      if (index < 0 || index >= s.intermediateSize) throw new Error(`layer ${layer}: neuron ${index} does not exist (FFN width ${s.intermediateSize})`);
      return { kind: 'ffn_neuron', layer, index, slices: [...rowsOf(model, layer, spec.ffnNeuron.rows, [index]), ...colsOf(model, layer, spec.ffnNeuron.cols, [index])] };
    }
    return null;
  }
  if (spec.vDim.cols.includes(kind)) return groupOf(model, layerNames(model.prefix, layer).linear[spec.vDim.rows[0]!].weight, 0, index);
  if (spec.ffnNeuron.cols.includes(kind)) return groupOf(model, layerNames(model.prefix, layer).linear[spec.ffnNeuron.rows[0]!].weight, 0, index);
  const reader = kind as ResidualReader;
  const cols = s.inputFeatures?.[reader] ?? model.config.hiddenSize;
  if (index < 0 || index >= cols) throw new Error(`layer ${layer}: column ${index} is outside ${param} (${cols} columns)`);
  return { kind: 'input_feature', layer, reader, index, slices: colsOf(model, layer, [reader], [index]) };
}

/** groupOf for decoders: Q/K/V rows and attention-output columns -> their KV group; gate/up rows and down columns -> their neuron. */
function decoderGroupOf(model: Model, spec: CouplingSpec, s: LayerShape, layer: number, kind: MatrixKind, param: string, axis: 0 | 1, index: number): CouplingGroup | null {
  const g = spec.groupedHeads!;
  const kvHeads = s.numKvHeads ?? s.numHeads;
  const groupSize = (s.numHeads / kvHeads) * s.headDim;
  const neuron = (): CouplingGroup => {
    if (!Number.isInteger(index) || index < 0 || index >= s.intermediateSize) throw new Error(`layer ${layer}: neuron ${index} does not exist (MLP width ${s.intermediateSize})`);
    return { kind: 'ffn_neuron', layer, index, slices: [...rowsOf(model, layer, spec.ffnNeuron.rows, [index]), ...colsOf(model, layer, spec.ffnNeuron.cols, [index])] };
  };
  const width = (per: number): number => kvHeads * per;
  const check = (per: number): void => {
    if (!Number.isInteger(index) || index < 0 || index >= width(per)) throw new Error(`layer ${layer}: index ${index} is outside ${param} (${width(per)} entries)`);
  };
  if (axis === 0) {
    if (spec.residualWriters.includes(kind)) return null;
    if (g.queryRows.includes(kind)) return (check(groupSize), headGroup(model, layer, Math.floor(index / groupSize)));
    if (g.kvRows.includes(kind)) return (check(s.headDim), headGroup(model, layer, Math.floor(index / s.headDim)));
    if (spec.ffnNeuron.rows.includes(kind)) return neuron();
    return null;
  }
  if (g.cols.includes(kind)) return (check(groupSize), headGroup(model, layer, Math.floor(index / groupSize)));
  if (spec.ffnNeuron.cols.includes(kind)) return neuron();
  // columns of residual readers (Q/K/V, gate, up) are not removable in decoders
  return null;
}
