// One forward for BERT, RoBERTa and XLM-RoBERTa encoders (post-LN; decoders: decoder.ts), over a *weight view*: every
// parameter the forward uses is fetched as view(hfName). Dense inference, masked (W ⊙ M), score-masked
// (STE), gated (diag(z_r) W diag(z_c)) and LoRA forwards are views over this one implementation, and
// tf.variableGrads differentiates through whatever the view reads (weights, scores, gates).
import * as tf from '@tensorflow/tfjs-core';
import type { Activation, EncoderConfig, ResidualReader } from './config.js';
import { embeddingNames, headNames, layerNames, poolerNames } from './names.js';
import { decoderForward } from './decoder.js';
import { dropout as seededDropout } from '../train/dropout.js';

/** Returns the tensor the forward should use for a parameter, by HF name. */
export type WeightView = (name: string) => tf.Tensor;

export interface EncoderInputs {
  /** [batch, seq] int32 */
  inputIds: tf.Tensor2D;
  /** [batch, seq] int32, 1 for real tokens, 0 for padding */
  attentionMask: tf.Tensor2D;
  /** [batch, seq] int32; zeros when omitted */
  tokenTypeIds?: tf.Tensor2D;
}

export interface ForwardOptions {
  /** parameter source (default: the model's own weights) */
  view?: WeightView;
  /** dropout on (training); default off, like model.eval() */
  training?: boolean;
  /** seed for dropout masks (deterministic training) */
  dropoutSeed?: number;
  /** also return every layer's hidden states */
  outputHiddenStates?: boolean;
  /** inputs of each prunable linear, for activation statistics (Wanda); keyed by the linear's weight name */
  onLinearInput?: (weightName: string, input: tf.Tensor2D) => void;
}

export interface ForwardOutput {
  /** [batch, seq, hidden] */
  lastHiddenState: tf.Tensor3D;
  /** [batch, hidden] (models with a pooler, and BERT classifiers) */
  poolerOutput?: tf.Tensor2D;
  /** MLM: [batch, seq, vocab]; classification: [batch, labels] */
  logits?: tf.Tensor;
  /** embeddings output then each layer's output, when asked */
  hiddenStates?: tf.Tensor3D[];
}

/** An encoder whose parameters are tfjs tensors keyed by their Hugging Face names. */
export class EncoderModel {
  constructor(
    readonly config: EncoderConfig,
    /** all parameters, by HF name (as stored in the checkpoint) */
    readonly params: Map<string, tf.Tensor>,
    /** '' for a base-model checkpoint, 'bert.' or 'roberta.' under a head */
    readonly prefix: string,
  ) {}

  /** The model's own weights as a view. */
  readonly denseView: WeightView = (name) => {
    const t = this.params.get(name);
    if (!t) throw new Error(`model has no parameter "${name}"`);
    return t;
  };

  has(name: string): boolean {
    return this.params.has(name);
  }

  /** Runs the encoder (and its head). Call inside tf.tidy, or dispose the outputs. */
  forward(inputs: EncoderInputs, options: ForwardOptions = {}): ForwardOutput {
    const view = options.view ?? this.denseView;
    const cfg = this.config;
    if (cfg.family === 'decoder') return decoderForward(this, view, inputs, options);
    const [batch, seq] = inputs.inputIds.shape;
    let dropoutCalls = 0;
    const dropout = (x: tf.Tensor, rate: number): tf.Tensor => {
      if (!options.training || rate <= 0) return x;
      dropoutCalls += 1;
      return seededDropout(x, rate, options.dropoutSeed === undefined ? undefined : options.dropoutSeed * 1000 + dropoutCalls);
    };

    // embeddings
    const emb = embeddingNames(this.prefix);
    const positionIds = this.positionIds(inputs.inputIds);
    const typeIds = inputs.tokenTypeIds ?? tf.zerosLike(inputs.inputIds);
    let h = tf.add(tf.add(tf.gather(view(emb.word), inputs.inputIds), tf.gather(view(emb.position), positionIds)), tf.gather(view(emb.tokenType), typeIds)) as tf.Tensor3D;
    h = layerNorm(h, view(emb.lnWeight), view(emb.lnBias), cfg.layerNormEps) as tf.Tensor3D;
    h = dropout(h, cfg.hiddenDropoutProb) as tf.Tensor3D;
    const hiddenStates: tf.Tensor3D[] = options.outputHiddenStates ? [h] : [];

    // additive attention mask [batch, 1, 1, seq]: 0 for tokens, a large negative number for padding
    const maskAdd = tf.reshape(tf.mul(tf.sub(1, tf.cast(inputs.attentionMask, 'float32')), -1e9), [batch, 1, 1, seq]);

    /** One encoder layer: self-attention and feed-forward, each with its residual and LayerNorm. */
    const runLayer = (l: number, h: tf.Tensor3D): tf.Tensor3D => {
      const names = layerNames(this.prefix, l);
      const shape = cfg.layers[l]!;
      const lin = (kind: keyof typeof names.linear, x: tf.Tensor): tf.Tensor => {
        const { weight, bias, inputIndex } = names.linear[kind];
        // compacted linears that read only some residual features gather them first
        if (shape.inputFeatures?.[kind as ResidualReader] !== undefined) x = tf.gather(x, view(inputIndex), x.shape.length - 1);
        if (options.onLinearInput) options.onLinearInput(weight, tf.reshape(x, [-1, x.shape[x.shape.length - 1]!]));
        return linear(x, view(weight), view(bias));
      };
      const heads = shape.numHeads;
      // scores are scaled by the original head size (compaction may remove query/key dims)
      const scale = 1 / Math.sqrt(shape.headDim);
      const qAll = lin('query', h);
      const kAll = lin('key', h);
      const vAll = lin('value', h);
      const qkDims = shape.qkDims;
      const vDims = shape.vDims;
      let ctx: tf.Tensor;
      if (uniform(qkDims) && uniform(vDims)) {
        const q = splitHeads(qAll, batch, seq, heads);
        const k = splitHeads(kAll, batch, seq, heads);
        const v = splitHeads(vAll, batch, seq, heads);
        let scores = tf.matMul(q, k, false, true);
        scores = tf.add(tf.mul(scores, scale), maskAdd);
        let probs = tf.softmax(scores, -1);
        probs = dropout(probs, cfg.attentionDropoutProb);
        ctx = tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [batch, seq, -1]);
      } else {
        // heads of unequal sizes (partial heads of a compacted model): one head at a time
        const qk = qkDims ?? Array.from({ length: heads }, () => shape.headDim);
        const vd = vDims ?? Array.from({ length: heads }, () => shape.headDim);
        const parts: tf.Tensor[] = [];
        let qOff = 0;
        let vOff = 0;
        for (let hd = 0; hd < heads; hd++) {
          const q = tf.slice(qAll, [0, 0, qOff], [batch, seq, qk[hd]!]);
          const k = tf.slice(kAll, [0, 0, qOff], [batch, seq, qk[hd]!]);
          const v = tf.slice(vAll, [0, 0, vOff], [batch, seq, vd[hd]!]);
          qOff += qk[hd]!;
          vOff += vd[hd]!;
          let scores = tf.add(tf.mul(tf.matMul(q, k, false, true), scale), tf.reshape(maskAdd, [batch, 1, seq]));
          scores = tf.softmax(scores, -1);
          parts.push(tf.matMul(dropout(scores, cfg.attentionDropoutProb), v));
        }
        ctx = parts.length === 1 ? parts[0]! : tf.concat(parts, 2);
      }
      const attnOut = dropout(lin('attn_output', ctx), cfg.hiddenDropoutProb);
      const a = layerNorm(tf.add(attnOut, h), view(names.attnLayerNorm.weight), view(names.attnLayerNorm.bias), cfg.layerNormEps);
      const inter = activation(lin('ffn_up', a), cfg.hiddenAct);
      const out = dropout(lin('ffn_down', inter), cfg.hiddenDropoutProb);
      return layerNorm(tf.add(out, a), view(names.outLayerNorm.weight), view(names.outLayerNorm.bias), cfg.layerNormEps) as tf.Tensor3D;
    };

    for (let l = 0; l < cfg.numLayers; l++) {
      // one tidy scope per layer: a layer's intermediates are freed before the next layer runs, so
      // peak memory is one layer's activations, not the whole network's (tensors the gradient tape
      // saved for backprop are kept by tfjs regardless)
      const input = h;
      h = tf.tidy(() => runLayer(l, input));
      if (options.outputHiddenStates) hiddenStates.push(h);
    }

    const result: ForwardOutput = { lastHiddenState: h };
    if (options.outputHiddenStates) result.hiddenStates = hiddenStates;
    const pooler = poolerNames(this.prefix);
    const first = (): tf.Tensor2D => tf.squeeze(tf.slice(h, [0, 0, 0], [batch, 1, -1]), [1]);
    if (this.params.has(pooler.weight)) {
      result.poolerOutput = tf.tanh(linear(first(), view(pooler.weight), view(pooler.bias))) as tf.Tensor2D;
    }
    if (cfg.head === 'mlm') {
      result.logits = this.mlmHead(h, view);
    } else if (cfg.head === 'cls') {
      const n = headNames(cfg.modelType, 'cls');
      if (cfg.modelType === 'bert') {
        if (!result.poolerOutput) throw new Error('BertForSequenceClassification needs the pooler weights (bert.pooler.dense.*)');
        result.logits = linear(dropout(result.poolerOutput, cfg.hiddenDropoutProb), view(`${n.out}.weight`), view(`${n.out}.bias`));
      } else {
        let x = dropout(first(), cfg.hiddenDropoutProb);
        x = tf.tanh(linear(x, view(`${n.dense}.weight`), view(`${n.dense}.bias`)));
        result.logits = linear(dropout(x, cfg.hiddenDropoutProb), view(`${n.out}.weight`), view(`${n.out}.bias`));
      }
    }
    return result;
  }

  /** MLM logits; `positions` restricts them to chosen (batch, position) rows, e.g. [MASK] tokens. */
  mlmHead(h: tf.Tensor3D, view: WeightView = this.denseView): tf.Tensor {
    const cfg = this.config;
    const n = headNames(cfg.modelType, 'mlm');
    // RoBERTa's LM head always uses gelu; BERT's uses the config's activation
    const act: Activation = cfg.modelType === 'bert' ? cfg.hiddenAct : 'gelu';
    let x = activation(linear(h, view(`${n.dense}.weight`), view(`${n.dense}.bias`)), act);
    x = layerNorm(x, view(`${n.ln}.weight`), view(`${n.ln}.bias`), cfg.layerNormEps);
    const decoder = this.decoderWeightName();
    const biasName = this.params.has(n.bias!) ? n.bias! : n.decoderBias!;
    return linear(x, view(decoder), view(biasName));
  }

  /** The decoder matrix of the MLM head (tied to the word embeddings unless the config unties them). */
  decoderWeightName(): string {
    const n = headNames(this.config.modelType, 'mlm');
    if (!this.config.tieWordEmbeddings && this.params.has(n.decoder!)) return n.decoder!;
    return embeddingNames(this.prefix).word;
  }

  private positionIds(inputIds: tf.Tensor2D): tf.Tensor2D {
    const [batch, seq] = inputIds.shape;
    if (this.config.modelType === 'bert') {
      return tf.tile(tf.reshape(tf.range(0, seq, 1, 'int32'), [1, seq]), [batch, 1]);
    }
    // RoBERTa / XLM-R: positions count real tokens from padding_idx + 1; padding keeps padding_idx
    const pad = this.config.padTokenId;
    const notPad = tf.cast(tf.notEqual(inputIds, pad), 'int32');
    return tf.cast(tf.add(tf.mul(tf.cumsum(notPad, 1), notPad), pad), 'int32') as tf.Tensor2D;
  }

  /** Number of parameters (all tensors). */
  numParameters(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.size;
    return n;
  }

  dispose(): void {
    for (const t of this.params.values()) t.dispose();
    this.params.clear();
  }
}

/** y = x Wᵀ + b for x [..., in], W [out, in] (HF Linear layout). */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1]!;
  const lead = x.shape.slice(0, -1);
  let y: tf.Tensor = tf.matMul(tf.reshape(x, [-1, inDim]), weight, false, true);
  if (bias) y = tf.add(y, bias);
  return tf.reshape(y, [...lead, weight.shape[0]]);
}

export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

export function activation(x: tf.Tensor, act: Activation): tf.Tensor {
  switch (act) {
    case 'gelu':
      // exact (erf) GELU, as torch.nn.functional.gelu
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    case 'gelu_new':
    case 'gelu_pytorch_tanh': {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
    }
    case 'relu':
      return tf.relu(x);
    case 'silu':
      return tf.mul(x, tf.sigmoid(x));
    case 'tanh':
      return tf.tanh(x);
  }
}

function uniform(dims: number[] | undefined): boolean {
  return dims === undefined || dims.every((d) => d === dims[0]);
}

function splitHeads(x: tf.Tensor, batch: number, seq: number, heads: number): tf.Tensor4D {
  const width = x.shape[x.shape.length - 1]!;
  if (width % heads !== 0) throw new Error(`projection width ${width} is not divisible by ${heads} heads`);
  return tf.transpose(tf.reshape(x, [batch, seq, heads, width / heads]), [0, 2, 1, 3]);
}
