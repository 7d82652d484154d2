// The forward of the decoder family (Qwen3, Llama, Mistral: the transformers 5 Llama layout), over a
// weight view like the encoder's: pre-RMSNorm layers, rotary position embeddings, grouped-query causal
// attention (optional per-head q/k RMSNorm, optional sliding window), SwiGLU MLP, final RMSNorm, and
// the causal-LM or sequence-classification head (logits of the last non-pad token).
//
// Positions are 0..seq-1 for every row, padded or not, as transformers computes them when no
// position_ids are given; RoPE makes attention depend on position differences only, so left padding
// shifts nothing that matters.
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderConfig, LayerShape, RopeConfig } from './config.js';
import { decoderNames, headNames, layerNames } from './names.js';
import type { EncoderInputs, ForwardOptions, ForwardOutput, WeightView } from './model.js';
import { dropout as seededDropout } from '../train/dropout.js';

interface DecoderHost {
  readonly config: EncoderConfig;
  readonly prefix: string;
  has(name: string): boolean;
}

/** x * rsqrt(mean(x^2) + eps) * weight over the last axis (HF LlamaRMSNorm / Qwen3RMSNorm, in float32). */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  const variance = tf.mean(tf.square(x), -1, true);
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, eps))), weight);
}

/** Inverse frequencies of RoPE (float32, as transformers computes them), with llama3 scaling when configured. */
export function ropeInverseFrequencies(rope: RopeConfig, headDim: number): Float32Array {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(rope.theta, Math.fround((2 * i) / headDim));
  if (rope.type === 'llama3') {
    const factor = rope.factor!;
    const low = rope.lowFreqFactor!;
    const high = rope.highFreqFactor!;
    const old = rope.originalMaxPositionEmbeddings!;
    const lowWavelen = old / low;
    const highWavelen = old / high;
    for (let i = 0; i < half; i++) {
      const f = inv[i]!;
      const wavelen = (2 * Math.PI) / f;
      let scaled = wavelen > lowWavelen ? f / factor : f;
      if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
        const smooth = (old / wavelen - low) / (high - low);
        scaled = ((1 - smooth) * scaled) / factor + smooth * scaled;
      }
      inv[i] = scaled;
    }
  }
  return inv;
}

/** cos and sin tables [seq, headDim] (each frequency twice, as HF's cat(freqs, freqs)). */
function ropeTables(rope: RopeConfig, headDim: number, seq: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const inv = ropeInverseFrequencies(rope, headDim);
  const half = headDim / 2;
  const cos = new Float32Array(seq * headDim);
  const sin = new Float32Array(seq * headDim);
  for (let p = 0; p < seq; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * inv[i]!);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[p * headDim + i] = c;
      cos[p * headDim + half + i] = c;
      sin[p * headDim + i] = s;
      sin[p * headDim + half + i] = s;
    }
  }
  return { cos: tf.tensor2d(cos, [seq, headDim]), sin: tf.tensor2d(sin, [seq, headDim]) };
}

/** x * cos + rotate_half(x) * sin for x [batch, heads, seq, headDim]. */
function applyRope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const d = x.shape[3];
  const half = d / 2;
  const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]);
  const x2 = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]);
  const rotated = tf.concat([tf.neg(x2), x1], 3);
  return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
}

/**
 * Additive attention mask [batch, 1, seq, seq]: 0 where query i may see key j (j <= i, key not
 * padding, and i - j < window when a sliding window is set), a large negative number elsewhere.
 */
function causalMask(attentionMask: tf.Tensor2D, window: number | null): tf.Tensor4D {
  const [batch, seq] = attentionMask.shape;
  const allowed = new Float32Array(seq * seq);
  for (let i = 0; i < seq; i++) {
    for (let j = 0; j <= i; j++) if (window === null || i - j < window) allowed[i * seq + j] = 1;
  }
  const structural = tf.tensor4d(allowed, [1, 1, seq, seq]);
  const keys = tf.reshape(tf.cast(attentionMask, 'float32'), [batch, 1, 1, seq]);
  return tf.mul(tf.sub(1, tf.mul(structural, keys)), -1e9);
}

export function decoderForward(host: DecoderHost, view: WeightView, inputs: EncoderInputs, options: ForwardOptions): ForwardOutput {
  const cfg = host.config;
  const dec = cfg.decoder!;
  const [batch, seq] = inputs.inputIds.shape;
  const emb = decoderNames(host.prefix);
  let h = tf.gather(view(emb.word), inputs.inputIds) as tf.Tensor3D;
  const hiddenStates: tf.Tensor3D[] = options.outputHiddenStates ? [h] : [];
  // transformers' decoders have one dropout: on the attention probabilities (config attention_dropout),
  // in training only, inverted (kept entries scaled by 1/(1-p)); seeded like the encoder's for reruns
  let dropoutCalls = 0;
  const attentionDropout = (probs: tf.Tensor): tf.Tensor => {
    if (!options.training || cfg.attentionDropoutProb <= 0) return probs;
    dropoutCalls += 1;
    return seededDropout(probs, cfg.attentionDropoutProb, options.dropoutSeed === undefined ? undefined : options.dropoutSeed * 1000 + dropoutCalls);
  };

  const tables = ropeTables(dec.rope, dec.headDim, seq);
  const masks = new Map<number | null, tf.Tensor4D>();
  for (const w of new Set(dec.slidingWindows)) masks.set(w, causalMask(inputs.attentionMask, w));

  const runLayer = (l: number, h: tf.Tensor3D): tf.Tensor3D => {
    const names = layerNames(host.prefix, l, 'decoder');
    const shape: LayerShape = cfg.layers[l]!;
    const lin = (kind: keyof typeof names.linear, x: tf.Tensor): tf.Tensor => {
      const { weight, bias } = names.linear[kind];
      if (options.onLinearInput) options.onLinearInput(weight, tf.reshape(x, [-1, x.shape[x.shape.length - 1]!]));
      const w = view(weight);
      const inDim = x.shape[x.shape.length - 1]!;
      let y = tf.matMul(tf.reshape(x, [-1, inDim]), w, false, true);
      if (host.has(bias)) y = tf.add(y, view(bias));
      return tf.reshape(y, [batch, seq, w.shape[0]]);
    };
    const heads = shape.numHeads;
    const kvHeads = shape.numKvHeads ?? heads;
    const group = heads / kvHeads;
    const d = shape.headDim;
    const split = (x: tf.Tensor, n: number, norm: string | undefined): tf.Tensor4D => {
      let t: tf.Tensor = tf.reshape(x, [batch, seq, n, d]);
      if (norm !== undefined) t = rmsNorm(t, view(norm), dec.rmsNormEps);
      return applyRope(tf.transpose(t, [0, 2, 1, 3]) as tf.Tensor4D, tables.cos, tables.sin);
    };
    const x = rmsNorm(h, view(names.attnLayerNorm.weight), dec.rmsNormEps);
    const q = split(lin('query', x), heads, dec.qkNorm ? names.qNorm : undefined);
    const k = split(lin('key', x), kvHeads, dec.qkNorm ? names.kNorm : undefined);
    const v = tf.transpose(tf.reshape(lin('value', x), [batch, seq, kvHeads, d]), [0, 2, 1, 3]);
    // grouped-query attention without repeating K/V: the `group` query heads of each KV head are
    // stacked along the sequence axis ([batch, kv, group*seq, d]), and the mask is tiled to match
    const qg = tf.reshape(q, [batch, kvHeads, group * seq, d]);
    const mask = masks.get(dec.slidingWindows[l] ?? null)!;
    let scores = tf.mul(tf.matMul(qg, k, false, true), 1 / Math.sqrt(d));
    scores = tf.add(scores, group === 1 ? mask : tf.tile(mask, [1, 1, group, 1]));
    const probs = attentionDropout(tf.softmax(scores, -1));
    const ctx = tf.reshape(tf.transpose(tf.reshape(tf.matMul(probs, v), [batch, heads, seq, d]), [0, 2, 1, 3]), [batch, seq, heads * d]);
    const h1 = tf.add(h, lin('attn_output', ctx));
    const x2 = rmsNorm(h1, view(names.outLayerNorm.weight), dec.rmsNormEps);
    const gate = lin('ffn_gate', x2);
    const mlp = lin('ffn_down', tf.mul(tf.mul(gate, tf.sigmoid(gate)), lin('ffn_up', x2)));
    return tf.add(h1, mlp) as tf.Tensor3D;
  };

  for (let l = 0; l < cfg.numLayers; l++) {
    const input = h;
    h = tf.tidy(() => runLayer(l, input));
    if (options.outputHiddenStates) hiddenStates.push(h);
  }
  h = rmsNorm(h, view(emb.finalNorm), dec.rmsNormEps) as tf.Tensor3D;
  const result: ForwardOutput = { lastHiddenState: h };
  if (options.outputHiddenStates) {
    hiddenStates[hiddenStates.length - 1] = h;
    result.hiddenStates = hiddenStates;
  }
  if (cfg.head === 'lm') {
    const lmHead = decoderLmHeadName(host);
    result.logits = tf.reshape(tf.matMul(tf.reshape(h, [batch * seq, cfg.hiddenSize]), view(lmHead), false, true), [batch, seq, -1]);
  } else if (cfg.head === 'cls') {
    const last = lastNonPadToken(inputs.inputIds, cfg.padTokenId);
    const pooled = tf.gather(tf.reshape(h, [batch * seq, cfg.hiddenSize]), tf.add(tf.mul(tf.range(0, batch, 1, 'int32'), tf.scalar(seq, 'int32')), last));
    result.logits = tf.matMul(pooled, view(`${headNames(cfg.modelType, 'cls').out}.weight`), false, true);
  }
  // tables and masks are left to the caller's tidy: the gradient tape may still need them (RoPE's cos/sin)
  return result;
}

/** The causal-LM output matrix: lm_head.weight, or the embeddings when tied (or the checkpoint omits lm_head). */
export function decoderLmHeadName(host: DecoderHost): string {
  const lm = headNames(host.config.modelType, 'lm').decoder!;
  return !host.config.tieWordEmbeddings && host.has(lm) ? lm : decoderNames(host.prefix).word;
}

/**
 * Index of each row's last token that is not the pad token, as transformers' sequence classifiers
 * pick it (from input_ids, so left and right padding both work); the last position when the model
 * has no pad token.
 */
export function lastNonPadToken(inputIds: tf.Tensor2D, padTokenId: number): tf.Tensor1D {
  return tf.tidy(() => {
    const [batch, seq] = inputIds.shape;
    if (padTokenId < 0) {
      if (batch > 1) throw new Error('a sequence classifier without pad_token_id in config.json cannot handle batches of more than one text');
      return tf.fill([batch], seq - 1, 'int32') as tf.Tensor1D;
    }
    const positions = tf.reshape(tf.range(0, seq, 1, 'int32'), [1, seq]);
    return tf.cast(tf.argMax(tf.mul(positions, tf.cast(tf.notEqual(inputIds, padTokenId), 'int32')), 1), 'int32') as tf.Tensor1D;
  });
}
