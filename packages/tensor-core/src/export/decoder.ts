// The ONNX graph of the decoder family (Qwen3, Llama, Mistral), the same computation as
// model/decoder.ts: token embeddings, pre-RMSNorm layers with rotary positions (cos/sin computed in
// the graph from the dynamic sequence length, llama3 scaling folded into the inverse frequencies),
// grouped-query causal attention (optional per-head q/k RMSNorm, optional sliding window, padding
// keys masked), SwiGLU MLP, final RMSNorm. Every layer's own sizes (query and KV heads, MLP width)
// come from the config, so dense, masked and compacted decoders export through this one builder.
// Inputs: input_ids and attention_mask (no token types); positions are 0..seq-1 for every row, as
// transformers numbers them without position_ids.
import type { EncoderModel } from '../model/model.js';
import { decoderNames, layerNames, type MatrixKind } from '../model/names.js';
import { ropeInverseFrequencies } from '../model/decoder.js';
import type { PoolingConfig } from '../model/pooling.js';
import type { GraphBuilder, GraphIo } from './graph.js';

const DYNAMIC: (number | string)[] = ['batch_size', 'sequence_length'];
export const DECODER_INPUTS: GraphIo[] = [
  { name: 'input_ids', type: 'int64', shape: DYNAMIC },
  { name: 'attention_mask', type: 'int64', shape: DYNAMIC },
];

/** Row-major transpose of a [rows, cols] matrix (HF Linear [out, in] -> MatMul's [in, out]). */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

export function buildDecoder(
  g: GraphBuilder,
  model: EncoderModel,
  pool: (h: string, hiddenSize: number, maskFloat: string) => string,
): { lastHiddenState: string; sentenceEmbedding: string; hiddenSize: number } {
  const cfg = model.config;
  const dec = cfg.decoder;
  if (!dec) throw new Error(`model_type "${cfg.modelType}" is not a decoder`);
  const H = cfg.hiddenSize;
  const d = dec.headDim;
  const host = (name: string): { data: Float32Array; shape: number[] } => {
    const t = model.params.get(name);
    if (!t) throw new Error(`model has no parameter "${name}"`);
    return { data: t.dataSync() as Float32Array, shape: t.shape };
  };
  const param = (name: string): string => {
    const { data, shape } = host(name);
    return g.float(name, data, shape);
  };
  const i64 = (...v: number[]): string => g.constant('int64', v);
  const f32 = (v: number): string => g.constant('float32', [v], []);
  const rms = (x: string, weight: string, hint: string): string => {
    const variance = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    return g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [variance, f32(dec.rmsNormEps)])])]), weight], {}, `${hint}_rmsnorm`);
  };

  const emb = decoderNames(model.prefix);
  let h = g.op('Gather', [param(emb.word), 'input_ids'], {}, 'embed_tokens');

  // positions 0..seq-1 and the rotary tables [seq, d] (each frequency twice, as HF's cat(freqs, freqs))
  const seqLen = g.op('Squeeze', [g.op('Gather', [g.op('Shape', ['input_ids']), i64(1)])], {}, 'seq_len');
  const positions = g.op('Range', [g.constant('int64', [0], []), seqLen, g.constant('int64', [1], [])], {}, 'positions');
  const posFloat = g.op('Cast', [positions], { to: 1 });
  const inv = ropeInverseFrequencies(dec.rope, d);
  const freqs = g.op('Mul', [g.op('Unsqueeze', [posFloat, i64(1)]), g.float('rope_inv_freq', inv, [1, inv.length], false)], {}, 'rope_freqs');
  const angles = g.op('Concat', [freqs, freqs], { axis: 1 }, 'rope_angles');
  const cos = g.op('Cos', [angles], {}, 'rope_cos');
  const sin = g.op('Sin', [angles], {}, 'rope_sin');
  const rope = (x: string, hint: string): string => {
    const x1 = g.op('Slice', [x, i64(0), i64(d / 2), i64(3)]);
    const x2 = g.op('Slice', [x, i64(d / 2), i64(d), i64(3)]);
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: 3 });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])], {}, `${hint}_rope`);
  };

  // additive masks [batch, 1, seq, seq]: 0 where query i sees key j (j <= i, key not padding, and
  // i - j < window under a sliding window), -1e9 elsewhere (as the tfjs forward)
  const maskFloat = g.op('Cast', ['attention_mask'], { to: 1 }, 'mask_float');
  const keys = g.op('Unsqueeze', [maskFloat, i64(1, 2)], {}, 'mask_keys');
  const queryPos = g.op('Unsqueeze', [positions, i64(1)]);
  const keyPos = g.op('Unsqueeze', [positions, i64(0)]);
  const causal = g.op('GreaterOrEqual', [queryPos, keyPos], {}, 'causal');
  const masks = new Map<number | null, string>();
  for (const w of new Set(dec.slidingWindows)) {
    let allowed = causal;
    if (w !== null) allowed = g.op('And', [causal, g.op('Less', [g.op('Sub', [queryPos, keyPos]), g.constant('int64', [w], [])])], {}, `window${w}`);
    const structural = g.op('Cast', [allowed], { to: 1 });
    masks.set(w, g.op('Mul', [g.op('Sub', [f32(1), g.op('Mul', [structural, keys])]), f32(-1e9)], {}, w === null ? 'mask_causal' : `mask_window${w}`));
  }

  for (let l = 0; l < cfg.numLayers; l++) {
    const shape = cfg.layers[l]!;
    const names = layerNames(model.prefix, l, 'decoder');
    const p = `layer${l}`;
    const lin = (kind: MatrixKind, x: string): string => {
      const { weight, bias } = names.linear[kind];
      const w = host(weight);
      const [rows, cols] = w.shape as [number, number];
      const y = g.op('MatMul', [x, g.float(`${weight}.T`, transpose(w.data, rows, cols), [cols, rows])]);
      return model.params.has(bias) ? g.op('Add', [y, param(bias)], {}, `${p}_${kind}`) : y;
    };
    const heads = shape.numHeads;
    const kvHeads = shape.numKvHeads ?? heads;
    const group = heads / kvHeads;
    const split = (x: string, n: number, norm: string | undefined, hint: string): string => {
      let t = g.op('Reshape', [x, i64(0, 0, n, d)]);
      if (norm !== undefined) t = rms(t, param(norm), hint);
      return rope(g.op('Transpose', [t], { perm: [0, 2, 1, 3] }), hint);
    };
    const x = rms(h, param(names.attnLayerNorm.weight), `${p}_input`);
    const q = split(lin('query', x), heads, dec.qkNorm ? names.qNorm : undefined, `${p}_q`);
    const k = split(lin('key', x), kvHeads, dec.qkNorm ? names.kNorm : undefined, `${p}_k`);
    const v = g.op('Transpose', [g.op('Reshape', [lin('value', x), i64(0, 0, kvHeads, d)])], { perm: [0, 2, 1, 3] }, `${p}_v`);
    // grouped-query attention as the tfjs forward: the query heads of each KV head stacked along the
    // sequence axis ([batch, kv, group*seq, d]) against that KV head, the mask tiled to match
    const qg = g.op('Reshape', [q, i64(0, kvHeads, -1, d)]);
    let scores = g.op('Mul', [g.op('MatMul', [qg, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), f32(1 / Math.sqrt(d))]);
    const mask = masks.get(dec.slidingWindows[l] ?? null)!;
    scores = g.op('Add', [scores, group === 1 ? mask : g.op('Tile', [mask, i64(1, 1, group, 1)])], {}, `${p}_scores`);
    const probs = g.op('Softmax', [scores], { axis: -1 }, `${p}_probs`);
    const perHead = g.op('Reshape', [g.op('MatMul', [probs, v]), i64(0, heads, -1, d)]);
    const ctx = g.op('Reshape', [g.op('Transpose', [perHead], { perm: [0, 2, 1, 3] }), i64(0, 0, heads * d)], {}, `${p}_context`);
    const h1 = g.op('Add', [h, lin('attn_output', ctx)], {}, `${p}_attention`);
    const x2 = rms(h1, param(names.outLayerNorm.weight), `${p}_post`);
    const gate = lin('ffn_gate', x2);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), lin('ffn_up', x2)], {}, `${p}_swiglu`);
    h = g.op('Add', [h1, lin('ffn_down', act)], {}, `${p}_output`);
  }
  const lastHiddenState = g.op('Identity', [rms(h, param(emb.finalNorm), 'final')], {}, 'last_hidden_state');
  return { lastHiddenState, sentenceEmbedding: pool(lastHiddenState, H, maskFloat), hiddenSize: H };
}

/** The decoder entry of ONNX_ARCHITECTURES. */
export function decoderArchitecture(poolGraph: (g: GraphBuilder, h: string, hiddenSize: number, maskFloat: string, pooling: PoolingConfig) => string): {
  inputs: GraphIo[];
  build: (g: GraphBuilder, model: EncoderModel, pooling: PoolingConfig) => { lastHiddenState: string; sentenceEmbedding: string; hiddenSize: number };
} {
  return { inputs: DECODER_INPUTS, build: (g, model, pooling) => buildDecoder(g, model, (h, hiddenSize, maskFloat) => poolGraph(g, h, hiddenSize, maskFloat, pooling)) };
}
