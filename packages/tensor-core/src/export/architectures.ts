// ONNX graphs per architecture family. Each family is described once (its inputs, how positions
// are numbered, which blocks a layer has) and built from a loaded model over GraphBuilder. The
// encoder families (BERT, RoBERTa, XLM-R) share one post-LN builder that reads every layer's own
// sizes (heads, partial heads, FFN width, gathered residual features) from the config, so dense,
// masked and compacted models export through the same code. A decoder family adds an entry to
// ONNX_ARCHITECTURES with its own `build` (causal mask, RMSNorm, rotary positions) and inputs.
import type { Activation, EncoderConfig, ModelType, ResidualReader } from '../model/config.js';
import { headQkDims, headVDims } from '../model/config.js';
import type { EncoderModel } from '../model/model.js';
import { embeddingNames, layerNames, type MatrixKind } from '../model/names.js';
import type { PoolingConfig } from '../model/pooling.js';
import type { GraphBuilder, GraphIo } from './graph.js';
import { decoderArchitecture } from './decoder.js';

/** Names of the graph values an architecture produces. */
export interface BuiltGraph {
  /** [batch, sequence, hidden] */
  lastHiddenState: string;
  /** [batch, hidden]: pooled (and normalised when the model says so) sentence embedding */
  sentenceEmbedding: string;
  hiddenSize: number;
}

export interface OnnxArchitecture {
  /** graph inputs, in order */
  inputs: GraphIo[];
  build(g: GraphBuilder, model: EncoderModel, pooling: PoolingConfig): BuiltGraph;
}

const DYNAMIC: (number | string)[] = ['batch_size', 'sequence_length'];
const ENCODER_INPUTS: GraphIo[] = [
  { name: 'input_ids', type: 'int64', shape: DYNAMIC },
  { name: 'attention_mask', type: 'int64', shape: DYNAMIC },
  { name: 'token_type_ids', type: 'int64', shape: DYNAMIC },
];

/** How token positions are numbered. */
type PositionScheme = 'absolute' | 'padding-offset';

function encoderArchitecture(positions: PositionScheme): OnnxArchitecture {
  return { inputs: ENCODER_INPUTS, build: (g, model, pooling) => buildEncoder(g, model, pooling, positions) };
}

/** Families that export to ONNX, by config model_type (a family without an entry cannot be exported yet). */
export const ONNX_ARCHITECTURES: Partial<Record<ModelType, OnnxArchitecture>> = {
  bert: encoderArchitecture('absolute'),
  // RoBERTa / XLM-R: positions count real tokens from padding_idx + 1; padding keeps padding_idx
  roberta: encoderArchitecture('padding-offset'),
  'xlm-roberta': encoderArchitecture('padding-offset'),
};
// decoders (export/decoder.ts): inputs input_ids and attention_mask
for (const t of ['qwen3', 'llama', 'mistral'] as const) {
  ONNX_ARCHITECTURES[t] = decoderArchitecture((g, h, hiddenSize, maskFloat, pooling) => {
    const i64 = (...v: number[]): string => g.constant('int64', v);
    const f32 = (v: number): string => g.constant('float32', [v], []);
    return poolGraph(g, h, hiddenSize, maskFloat, pooling, i64, f32);
  });
}

/** Row-major transpose of a [rows, cols] matrix (HF Linear [out, in] -> MatMul's [in, out]). */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

function buildEncoder(g: GraphBuilder, model: EncoderModel, pooling: PoolingConfig, positions: PositionScheme): BuiltGraph {
  const cfg = model.config;
  const H = cfg.hiddenSize;
  const host = (name: string): { data: Float32Array | Int32Array; shape: number[] } => {
    const t = model.params.get(name);
    if (!t) throw new Error(`model has no parameter "${name}"`);
    return { data: t.dataSync() as Float32Array | Int32Array, shape: t.shape };
  };
  const param = (name: string): string => {
    const { data, shape } = host(name);
    return g.float(name, data as Float32Array, shape);
  };
  const i64 = (...v: number[]): string => g.constant('int64', v);
  const f32 = (v: number): string => g.constant('float32', [v], []);

  // embeddings
  const emb = embeddingNames(model.prefix);
  const ids = 'input_ids';
  const words = g.op('Gather', [param(emb.word), ids], {}, 'word_embeddings');
  const positionIds = positions === 'absolute' ? absolutePositions(g, ids, i64) : paddingOffsetPositions(g, ids, cfg.padTokenId);
  const pos = g.op('Gather', [param(emb.position), positionIds], {}, 'position_embeddings');
  const types = g.op('Gather', [param(emb.tokenType), 'token_type_ids'], {}, 'token_type_embeddings');
  let h = g.op('Add', [g.op('Add', [words, pos]), types]);
  h = layerNorm(g, h, param(emb.lnWeight), param(emb.lnBias), cfg.layerNormEps, 'embeddings');

  // additive mask [batch, 1, 1, seq]: 0 for tokens, -1e9 for padding (as the tfjs forward)
  const maskFloat = g.op('Cast', ['attention_mask'], { to: 1 }, 'mask_float');
  const maskAdd4 = g.op('Unsqueeze', [g.op('Mul', [g.op('Sub', [f32(1), maskFloat]), f32(-1e9)]), i64(1, 2)], {}, 'mask_additive');

  for (let l = 0; l < cfg.numLayers; l++) h = encoderLayer(g, model, l, h, maskAdd4, param, host, i64, f32);

  const lastHiddenState = g.op('Identity', [h], {}, 'last_hidden_state');
  const sentenceEmbedding = poolGraph(g, lastHiddenState, H, maskFloat, pooling, i64, f32);
  return { lastHiddenState, sentenceEmbedding, hiddenSize: H };
}

function absolutePositions(g: GraphBuilder, ids: string, i64: (...v: number[]) => string): string {
  // [1, seq] = Unsqueeze(Range(0, seq)); broadcasting adds it to every row
  const seq = g.op('Gather', [g.op('Shape', [ids]), i64(1)], {}, 'seq_len');
  const range = g.op('Range', [g.constant('int64', [0], []), g.op('Squeeze', [seq]), g.constant('int64', [1], [])], {}, 'positions');
  return g.op('Unsqueeze', [range, i64(0)], {}, 'position_ids');
}

function paddingOffsetPositions(g: GraphBuilder, ids: string, pad: number): string {
  const notPad = g.op('Cast', [g.op('Not', [g.op('Equal', [ids, g.constant('int64', [pad], [])])])], { to: 7 }, 'not_pad');
  const count = g.op('CumSum', [notPad, g.constant('int64', [1], [])], {}, 'token_count');
  return g.op('Add', [g.op('Mul', [count, notPad]), g.constant('int64', [pad], [])], {}, 'position_ids');
}

function layerNorm(g: GraphBuilder, x: string, gamma: string, beta: string, eps: number, hint: string): string {
  return g.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: { float: eps } }, `${hint}_ln`);
}

function encoderLayer(
  g: GraphBuilder,
  model: EncoderModel,
  l: number,
  h: string,
  maskAdd4: string,
  param: (name: string) => string,
  host: (name: string) => { data: Float32Array | Int32Array; shape: number[] },
  i64: (...v: number[]) => string,
  f32: (v: number) => string,
): string {
  const cfg = model.config;
  const shape = cfg.layers[l]!;
  const names = layerNames(model.prefix, l);
  const p = `layer${l}`;
  const lin = (kind: MatrixKind, x: string): string => {
    const { weight, bias, inputIndex } = names.linear[kind];
    let input = x;
    // compacted linears that read only some residual features gather them first
    if (shape.inputFeatures?.[kind as ResidualReader] !== undefined) {
      const idx = host(inputIndex);
      input = g.op('Gather', [x, g.int64(inputIndex, Array.from(idx.data))], { axis: 2 }, `${p}_${kind}_in`);
    }
    const w = host(weight);
    const [rows, cols] = w.shape as [number, number];
    const wt = g.float(`${weight}.T`, transpose(w.data as Float32Array, rows, cols), [cols, rows]);
    return g.op('Add', [g.op('MatMul', [input, wt]), param(bias)], {}, `${p}_${kind}`);
  };

  const scale = f32(1 / Math.sqrt(shape.headDim));
  const q = lin('query', h);
  const k = lin('key', h);
  const v = lin('value', h);
  const qk = headQkDims(shape);
  const vd = headVDims(shape);
  let ctx: string;
  if (qk.every((d) => d === qk[0]) && vd.every((d) => d === vd[0])) {
    const heads = shape.numHeads;
    const split = (x: string, perm: number[], hint: string): string => g.op('Transpose', [g.op('Reshape', [x, i64(0, 0, heads, -1)])], { perm }, hint);
    const qh = split(q, [0, 2, 1, 3], `${p}_q_heads`);
    const kh = split(k, [0, 2, 3, 1], `${p}_k_heads_t`);
    const vh = split(v, [0, 2, 1, 3], `${p}_v_heads`);
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [qh, kh]), scale]), maskAdd4], {}, `${p}_scores`);
    const probs = g.op('Softmax', [scores], { axis: -1 }, `${p}_probs`);
    const heads4 = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] });
    ctx = g.op('Reshape', [heads4, i64(0, 0, -1)], {}, `${p}_context`);
  } else {
    // heads of unequal sizes (partial heads of a compacted model): one head at a time
    const mask3 = g.op('Squeeze', [maskAdd4, i64(1)], {}, `${p}_mask3`);
    const parts: string[] = [];
    let qOff = 0;
    let vOff = 0;
    const slice = (x: string, from: number, width: number): string => g.op('Slice', [x, i64(from), i64(from + width), i64(2)]);
    for (let hd = 0; hd < shape.numHeads; hd++) {
      const qh = slice(q, qOff, qk[hd]!);
      const kh = g.op('Transpose', [slice(k, qOff, qk[hd]!)], { perm: [0, 2, 1] });
      const vh = slice(v, vOff, vd[hd]!);
      qOff += qk[hd]!;
      vOff += vd[hd]!;
      const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [qh, kh]), scale]), mask3]);
      parts.push(g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), vh], {}, `${p}_head${hd}`));
    }
    ctx = parts.length === 1 ? parts[0]! : g.op('Concat', parts, { axis: 2 }, `${p}_context`);
  }
  const a = layerNorm(g, g.op('Add', [lin('attn_output', ctx), h]), param(names.attnLayerNorm.weight), param(names.attnLayerNorm.bias), cfg.layerNormEps, `${p}_attention`);
  const inter = activationGraph(g, lin('ffn_up', a), cfg.hiddenAct, f32);
  return layerNorm(g, g.op('Add', [lin('ffn_down', inter), a]), param(names.outLayerNorm.weight), param(names.outLayerNorm.bias), cfg.layerNormEps, `${p}_output`);
}

function activationGraph(g: GraphBuilder, x: string, act: Activation, f32: (v: number) => string): string {
  switch (act) {
    case 'gelu':
      // exact (erf) GELU; onnxruntime fuses this pattern into one Gelu kernel
      return g.op('Mul', [g.op('Mul', [x, f32(0.5)]), g.op('Add', [f32(1), g.op('Erf', [g.op('Mul', [x, f32(Math.SQRT1_2)])])])], {}, 'gelu');
    case 'gelu_new':
    case 'gelu_pytorch_tanh': {
      const cube = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Mul', [f32(Math.sqrt(2 / Math.PI)), g.op('Add', [x, g.op('Mul', [f32(0.044715), cube])])]);
      return g.op('Mul', [g.op('Mul', [x, f32(0.5)]), g.op('Add', [f32(1), g.op('Tanh', [inner])])], {}, 'gelu_tanh');
    }
    case 'relu':
      return g.op('Relu', [x]);
    case 'silu':
      return g.op('Mul', [x, g.op('Sigmoid', [x])], {}, 'silu');
    case 'tanh':
      return g.op('Tanh', [x]);
  }
}

/** sentence-transformers pooling over [batch, seq, hidden] with the float mask [batch, seq]. */
function poolGraph(g: GraphBuilder, h: string, hiddenSize: number, maskFloat: string, pooling: PoolingConfig, i64: (...v: number[]) => string, f32: (v: number) => string): string {
  const mask3 = g.op('Unsqueeze', [maskFloat, i64(2)], {}, 'mask3');
  let pooled: string;
  switch (pooling.mode) {
    case 'cls':
      pooled = g.op('Gather', [h, g.constant('int64', [0], [])], { axis: 1 }, 'cls');
      break;
    case 'mean': {
      // sum of token states / clamp(number of tokens, 1e-9), as sentence-transformers
      const sum = g.op('ReduceSum', [g.op('Mul', [h, mask3]), i64(1)], { keepdims: 0 });
      const count = g.op('Max', [g.op('ReduceSum', [mask3, i64(1)], { keepdims: 0 }), f32(1e-9)]);
      pooled = g.op('Div', [sum, count], {}, 'mean');
      break;
    }
    case 'max': {
      const masked = g.op('Add', [g.op('Mul', [h, mask3]), g.op('Mul', [g.op('Sub', [f32(1), mask3]), f32(-1e9)])]);
      pooled = g.op('ReduceMax', [masked], { axes: [1], keepdims: 0 }, 'max');
      break;
    }
    case 'lasttoken': {
      // index of each row's last real token (right or left padding: the largest position whose
      // mask is 1), broadcast over the hidden axis
      const seq = g.op('Squeeze', [g.op('Gather', [g.op('Shape', ['attention_mask']), i64(1)])]);
      const positions = g.op('Unsqueeze', [g.op('Range', [g.constant('int64', [0], []), seq, g.constant('int64', [1], [])]), i64(0)]);
      const last = g.op('ReduceMax', [g.op('Mul', [positions, g.op('Cast', ['attention_mask'], { to: 7 })])], { axes: [1], keepdims: 1 }, 'last_token');
      const rowsAndWidth = g.op('Concat', [g.op('Slice', [g.op('Shape', [h]), i64(0), i64(1)]), i64(1, hiddenSize)], { axis: 0 });
      const index = g.op('Expand', [g.op('Unsqueeze', [last, i64(2)]), rowsAndWidth]);
      pooled = g.op('Squeeze', [g.op('GatherElements', [h, index], { axis: 1 }), i64(1)], {}, 'lasttoken');
      break;
    }
  }
  if (!pooling.normalize) return g.op('Identity', [pooled], {}, 'sentence_embedding');
  // F.normalize: x / max(||x||, 1e-12)
  const norm = g.op('Sqrt', [g.op('ReduceSum', [g.op('Mul', [pooled, pooled]), i64(1)], { keepdims: 1 })]);
  return g.op('Div', [pooled, g.op('Max', [norm, f32(1e-12)])], {}, 'sentence_embedding');
}

/** The per-layer sizes of a config, as recorded in exported folders and ONNX metadata (prunekit_layers form). */
export function layerSizes(cfg: EncoderConfig): Record<string, unknown>[] {
  return cfg.layers.map((s) => ({
    num_heads: s.numHeads,
    ...(s.numKvHeads !== undefined ? { num_key_value_heads: s.numKvHeads } : {}),
    head_dim: s.headDim,
    intermediate_size: s.intermediateSize,
    ...(s.qkDims ? { qk_dims: s.qkDims } : {}),
    ...(s.vDims ? { v_dims: s.vDims } : {}),
    ...(s.inputFeatures ? { input_features: s.inputFeatures } : {}),
  }));
}
