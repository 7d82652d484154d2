// config.json of a Hugging Face encoder, validated, plus the per-layer sizes of a compacted model.
//
// Config extension (written by prunekit's compaction, read here): a compacted model can have
// per-layer sizes that a standard config cannot express. They live under the key "prunekit_layers",
// one entry per layer:
//   "prunekit_layers": [{
//     "num_heads": 3,             attention heads kept in this layer
//     "head_dim": 64,             the ORIGINAL head size: scores are scaled by 1/sqrt(head_dim)
//     "intermediate_size": 1800,  FFN width of this layer
//     "qk_dims": [64, 60, 64],    optional: query/key rows per head (partial heads); default head_dim each
//     "v_dims": [64, 64, 32],     optional: value rows per head (= attention-output columns); default head_dim each
//     "input_features": {"query": 700, "ffn_up": 512}
//                                 optional: linears that read only some residual-stream features; each named
//                                 linear's weight has that many columns and the checkpoint holds an int32 tensor
//                                 "<linear>.input_index" (e.g. encoder.layer.0.attention.self.query.input_index)
//                                 with the residual features it reads, in order. Readers: query, key, value, ffn_up.
//   }, ...]
// Q and K of a layer have sum(qk_dims) rows, V has sum(v_dims) rows and the attention output that many
// columns. HF's own "pruned_heads" ({"<layer>": [head, ...]}) is honoured as well: a layer then has
// num_attention_heads - len(pruned) heads of the standard head size (the layout transformers 4.x's
// prune_heads produced; transformers 5 no longer builds such models itself).
import fs from 'node:fs';
import path from 'node:path';

export type ModelType = 'bert' | 'roberta' | 'xlm-roberta' | 'qwen3' | 'llama' | 'mistral';
/** base: the bare model; mlm: masked-LM head; lm: causal-LM head; cls: sequence classification */
export type HeadType = 'base' | 'mlm' | 'lm' | 'cls';
/** encoder: post-LN BERT family; decoder: pre-RMSNorm causal transformer with RoPE, GQA and a gated MLP */
export type ArchitectureFamily = 'encoder' | 'decoder';
export type Activation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'silu' | 'tanh';

export interface LayerShape {
  /** attention heads in this layer */
  numHeads: number;
  /** size of each head (query/key/value) */
  headDim: number;
  /** FFN width */
  intermediateSize: number;
  /** decoders: key/value heads in this layer (each serves numHeads / numKvHeads query heads) */
  numKvHeads?: number;
  /** query/key rows per head, when heads differ (prunekit_layers qk_dims); absent: headDim each */
  qkDims?: number[];
  /** value rows per head, when heads differ (prunekit_layers v_dims); absent: headDim each */
  vDims?: number[];
  /** residual-stream readers that read a subset of features: linear -> number of features read */
  inputFeatures?: Partial<Record<ResidualReader, number>>;
}

/** Linears that read the residual stream (their input columns can be gathered away). */
export type ResidualReader = 'query' | 'key' | 'value' | 'ffn_up';
export const RESIDUAL_READERS: readonly ResidualReader[] = ['query', 'key', 'value', 'ffn_up'];

/** Query/key rows of each head of a layer. */
export function headQkDims(s: LayerShape): number[] {
  return s.qkDims ?? Array.from({ length: s.numHeads }, () => s.headDim);
}

/** Value rows of each head of a layer. */
export function headVDims(s: LayerShape): number[] {
  return s.vDims ?? Array.from({ length: s.numHeads }, () => s.headDim);
}

/** Rotary position embedding: HF rope_parameters (rope_type default or llama3). */
export interface RopeConfig {
  theta: number;
  type: 'default' | 'llama3';
  /** llama3 scaling */
  factor?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositionEmbeddings?: number;
}

/** Fields only decoders have. */
export interface DecoderFields {
  numKeyValueHeads: number;
  /** per-head size (config head_dim; Qwen3 sets it independently of hidden_size / heads) */
  headDim: number;
  rmsNormEps: number;
  rope: RopeConfig;
  /** per-head RMSNorm of queries and keys before RoPE (Qwen3) */
  qkNorm: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
  /** per layer: the sliding attention window (keys with i - j < window are seen), or null for full causal attention */
  slidingWindows: (number | null)[];
}

export interface EncoderConfig {
  modelType: ModelType;
  family: ArchitectureFamily;
  /** decoders only */
  decoder?: DecoderFields;
  /** the architecture class named in config.json (e.g. BertForMaskedLM) */
  architecture: string;
  head: HeadType;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: Activation;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  /** -1 when the config names no pad token (decoders may have none) */
  padTokenId: number;
  hiddenDropoutProb: number;
  attentionDropoutProb: number;
  tieWordEmbeddings: boolean;
  numLabels: number;
  /** HF pruned_heads: layer -> removed head indices (original numbering) */
  prunedHeads: Map<number, number[]>;
  /** effective per-layer sizes (from the standard fields, pruned_heads and prunekit_layers) */
  layers: LayerShape[];
  /** the parsed config.json, kept so a save writes back every field we do not model */
  raw: Record<string, unknown>;
}

export class ConfigError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/**
 * An architecture is one record: its config.json classes (and the head each implies), how a layer is
 * built (norm placement, position encoding, attention variant, MLP variant) and the sentence pooling
 * its embedding models use. Parameter names live in names.ts (by family) and coupling groups in
 * structure/coupling.ts (by family); both are chosen by `family`.
 */
export interface Architecture {
  modelType: ModelType;
  family: ArchitectureFamily;
  /** config.json "architectures" class -> head */
  classes: Record<string, HeadType>;
  /** the class assumed when config.json names none */
  defaultClass: string;
  norm: 'post-layernorm' | 'pre-rmsnorm';
  position: 'absolute' | 'rope';
  attention: { causal: boolean; grouped: boolean; qkNorm: boolean; slidingWindow: 'none' | 'config' | 'layer_types' };
  mlp: 'gelu-ffn' | 'swiglu';
  /** sentence pooling when the folder has no sentence-transformers config */
  defaultPooling: 'mean' | 'lasttoken';
}

const bertLike = (modelType: ModelType, stem: string): Architecture => ({
  modelType, family: 'encoder',
  classes: { [`${stem}Model`]: 'base', [`${stem}ForMaskedLM`]: 'mlm', [`${stem}ForSequenceClassification`]: 'cls', ...(stem === 'Bert' ? { BertForPreTraining: 'mlm' } : {}) },
  defaultClass: `${stem}Model`,
  norm: 'post-layernorm', position: 'absolute',
  attention: { causal: false, grouped: false, qkNorm: false, slidingWindow: 'none' },
  mlp: 'gelu-ffn', defaultPooling: 'mean',
});
const decoder = (modelType: ModelType, stem: string, qkNorm: boolean, slidingWindow: Architecture['attention']['slidingWindow']): Architecture => ({
  modelType, family: 'decoder',
  classes: { [`${stem}Model`]: 'base', [`${stem}ForCausalLM`]: 'lm', [`${stem}ForSequenceClassification`]: 'cls' },
  defaultClass: `${stem}Model`,
  norm: 'pre-rmsnorm', position: 'rope',
  attention: { causal: true, grouped: true, qkNorm, slidingWindow },
  mlp: 'swiglu', defaultPooling: 'lasttoken',
});

/** Every supported architecture, by config.json model_type. */
export const ARCHITECTURES: Readonly<Record<ModelType, Architecture>> = {
  bert: bertLike('bert', 'Bert'),
  roberta: bertLike('roberta', 'Roberta'),
  'xlm-roberta': bertLike('xlm-roberta', 'XLMRoberta'),
  qwen3: decoder('qwen3', 'Qwen3', true, 'layer_types'),
  llama: decoder('llama', 'Llama', false, 'none'),
  mistral: decoder('mistral', 'Mistral', false, 'config'),
};
const MODEL_TYPES = Object.keys(ARCHITECTURES) as ModelType[];
const ACTIVATIONS: Activation[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu', 'silu', 'tanh'];

/** The architecture record of a config. */
export function architectureOf(config: Pick<EncoderConfig, 'modelType'>): Architecture {
  return ARCHITECTURES[config.modelType];
}

export function supportedArchitectures(): string[] {
  return Object.values(ARCHITECTURES).flatMap((a) => Object.keys(a.classes));
}

/** Reads and validates <dir>/config.json. */
export function readConfig(dir: string): EncoderConfig {
  const file = path.join(dir, 'config.json');
  if (!fs.existsSync(file)) throw new ConfigError(file, 'missing: a Hugging Face model folder needs config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(file, 'must be a JSON object');
  return parseConfig(raw as Record<string, unknown>, file);
}

export function parseConfig(raw: Record<string, unknown>, file = 'config.json'): EncoderConfig {
  const int = (key: string, fallback?: number): number => {
    const v = raw[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(file, `required field "${key}" is missing (expected a positive integer)`);
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ConfigError(file, `field "${key}" is ${JSON.stringify(v)}; expected a non-negative integer`);
    return v;
  };
  const num = (key: string, fallback: number): number => {
    const v = raw[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(file, `field "${key}" is ${JSON.stringify(v)}; expected a number`);
    return v;
  };

  const modelType = raw.model_type;
  if (typeof modelType !== 'string') throw new ConfigError(file, `required field "model_type" is missing (expected one of ${MODEL_TYPES.join(', ')})`);
  if (!MODEL_TYPES.includes(modelType as ModelType)) {
    throw new ConfigError(file, `field "model_type" is "${modelType}"; supported: ${MODEL_TYPES.join(', ')}`);
  }
  const archs = raw.architectures;
  const record = ARCHITECTURES[modelType as ModelType];
  let architecture: string;
  if (archs === undefined || archs === null) {
    architecture = record.defaultClass;
  } else if (!Array.isArray(archs) || archs.length === 0 || typeof archs[0] !== 'string') {
    throw new ConfigError(file, `field "architectures" must be a non-empty array of class names (got ${JSON.stringify(archs)})`);
  } else {
    architecture = archs[0];
  }
  const owner = Object.values(ARCHITECTURES).find((a) => architecture in a.classes);
  if (!owner) throw new ConfigError(file, `field "architectures" names "${architecture}", which is not supported; supported: ${supportedArchitectures().join(', ')}`);
  if (owner.modelType !== modelType) throw new ConfigError(file, `field "architectures" names ${architecture} but "model_type" is "${modelType}"`);
  const head = record.classes[architecture]!;
  if (record.family === 'decoder') return parseDecoderConfig(raw, file, record, architecture, head, int, num);

  const hiddenAct = (raw.hidden_act ?? 'gelu') as string;
  if (!ACTIVATIONS.includes(hiddenAct as Activation)) throw new ConfigError(file, `field "hidden_act" is "${hiddenAct}"; supported: ${ACTIVATIONS.join(', ')}`);
  const posType = raw.position_embedding_type ?? 'absolute';
  if (posType !== 'absolute') throw new ConfigError(file, `field "position_embedding_type" is ${JSON.stringify(posType)}; only "absolute" is supported`);

  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numLayers = int('num_hidden_layers');
  const intermediateSize = int('intermediate_size');
  if (numHeads === 0 || hiddenSize % numHeads !== 0) {
    throw new ConfigError(file, `"hidden_size" ${hiddenSize} is not divisible by "num_attention_heads" ${numHeads}`);
  }
  const headDim = hiddenSize / numHeads;

  const prunedHeads = new Map<number, number[]>();
  const ph = raw.pruned_heads;
  if (ph !== undefined && ph !== null) {
    if (typeof ph !== 'object' || Array.isArray(ph)) throw new ConfigError(file, 'field "pruned_heads" must be an object {"<layer>": [heads]}');
    for (const [k, v] of Object.entries(ph as Record<string, unknown>)) {
      const layer = Number(k);
      if (!Number.isInteger(layer) || layer < 0 || layer >= numLayers) throw new ConfigError(file, `field "pruned_heads" names layer "${k}"; expected 0..${numLayers - 1}`);
      if (!Array.isArray(v) || !v.every((h) => Number.isInteger(h) && (h as number) >= 0 && (h as number) < numHeads)) {
        throw new ConfigError(file, `field "pruned_heads"."${k}" must list head indices in 0..${numHeads - 1}`);
      }
      const heads = [...new Set(v as number[])].sort((a, b) => a - b);
      if (heads.length >= numHeads) throw new ConfigError(file, `field "pruned_heads"."${k}" removes every head of layer ${k}`);
      prunedHeads.set(layer, heads);
    }
  }

  let layers: LayerShape[] = Array.from({ length: numLayers }, (_, l) => ({
    numHeads: numHeads - (prunedHeads.get(l)?.length ?? 0),
    headDim,
    intermediateSize,
  }));
  const ext = raw.prunekit_layers;
  if (ext !== undefined && ext !== null) {
    if (!Array.isArray(ext) || ext.length !== numLayers) throw new ConfigError(file, `field "prunekit_layers" must be an array with one entry per layer (${numLayers})`);
    layers = ext.map((e: unknown, l) => {
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new ConfigError(file, `field "prunekit_layers"[${l}] must be an object`);
      const o = e as Record<string, unknown>;
      const where = (k: string): string => `field "prunekit_layers"[${l}].${k}`;
      const positive = (v: unknown, k: string): number => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(file, `${where(k)} is ${JSON.stringify(v)}; expected a positive integer`);
        return v;
      };
      const get = (k: string): number => positive(o[k], k);
      const shape: LayerShape = { numHeads: get('num_heads'), headDim: get('head_dim'), intermediateSize: get('intermediate_size') };
      for (const [key, field] of [['qk_dims', 'qkDims'], ['v_dims', 'vDims']] as const) {
        const v = o[key];
        if (v === undefined || v === null) continue;
        if (!Array.isArray(v) || v.length !== shape.numHeads) throw new ConfigError(file, `${where(key)} must list one size per head (${shape.numHeads} heads)`);
        shape[field] = v.map((d, h) => positive(d, `${key}[${h}]`));
      }
      const inf = o.input_features;
      if (inf !== undefined && inf !== null) {
        if (typeof inf !== 'object' || Array.isArray(inf)) throw new ConfigError(file, `${where('input_features')} must be an object {linear: features}`);
        const features: Partial<Record<ResidualReader, number>> = {};
        for (const [k, v] of Object.entries(inf as Record<string, unknown>)) {
          if (!RESIDUAL_READERS.includes(k as ResidualReader)) throw new ConfigError(file, `${where('input_features')} names "${k}"; expected one of ${RESIDUAL_READERS.join(', ')}`);
          const n = positive(v, `input_features.${k}`);
          if (n > hiddenSize) throw new ConfigError(file, `${where(`input_features.${k}`)} is ${n}, more than hidden_size ${hiddenSize}`);
          features[k as ResidualReader] = n;
        }
        if (Object.keys(features).length > 0) shape.inputFeatures = features;
      }
      return shape;
    });
  }

  const id2label = raw.id2label;
  const numLabels = typeof raw.num_labels === 'number' ? raw.num_labels : id2label && typeof id2label === 'object' ? Object.keys(id2label).length : 2;

  return {
    modelType: modelType,
    family: 'encoder',
    architecture,
    head,
    vocabSize: int('vocab_size'),
    hiddenSize,
    numLayers,
    numAttentionHeads: numHeads,
    intermediateSize,
    hiddenAct: hiddenAct as Activation,
    maxPositionEmbeddings: int('max_position_embeddings', 512),
    typeVocabSize: int('type_vocab_size', 2),
    layerNormEps: num('layer_norm_eps', 1e-12),
    padTokenId: int('pad_token_id', modelType === 'bert' ? 0 : 1),
    hiddenDropoutProb: num('hidden_dropout_prob', 0.1),
    attentionDropoutProb: num('attention_probs_dropout_prob', 0.1),
    tieWordEmbeddings: raw.tie_word_embeddings !== false,
    numLabels,
    prunedHeads,
    layers,
    raw,
  };
}

/** config.json of a Qwen3 / Llama / Mistral model (transformers 5 layout; rope_theta/rope_scaling of 4.x read too). */
function parseDecoderConfig(
  raw: Record<string, unknown>, file: string, record: Architecture, architecture: string, head: HeadType,
  int: (key: string, fallback?: number) => number, num: (key: string, fallback: number) => number,
): EncoderConfig {
  const hiddenAct = (raw.hidden_act ?? 'silu') as string;
  if (hiddenAct !== 'silu') throw new ConfigError(file, `field "hidden_act" is ${JSON.stringify(hiddenAct)}; ${record.modelType} models are supported with "silu" (SwiGLU)`);
  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  const numLayers = int('num_hidden_layers');
  const intermediateSize = int('intermediate_size');
  const numKv = int('num_key_value_heads', numHeads);
  if (numHeads === 0 || numKv === 0 || numHeads % numKv !== 0) {
    throw new ConfigError(file, `"num_attention_heads" ${numHeads} must be a positive multiple of "num_key_value_heads" ${numKv}`);
  }
  const headDimRaw = raw.head_dim;
  if ((headDimRaw === undefined || headDimRaw === null) && hiddenSize % numHeads !== 0) {
    throw new ConfigError(file, `"hidden_size" ${hiddenSize} is not divisible by "num_attention_heads" ${numHeads} and "head_dim" is not set`);
  }
  const headDim = headDimRaw === undefined || headDimRaw === null ? hiddenSize / numHeads : int('head_dim');
  if (headDim % 2 !== 0) throw new ConfigError(file, `"head_dim" is ${headDim}; rotary embeddings need an even head size`);

  // rope: transformers 5 writes rope_parameters {rope_type, rope_theta, ...}; 4.x wrote rope_theta + rope_scaling
  const rp = (raw.rope_parameters ?? raw.rope_scaling ?? {}) as Record<string, unknown>;
  if (typeof rp !== 'object' || Array.isArray(rp)) throw new ConfigError(file, 'field "rope_parameters" must be an object');
  const ropeType = (rp.rope_type ?? rp.type ?? 'default') as string;
  if (ropeType !== 'default' && ropeType !== 'llama3') throw new ConfigError(file, `field "rope_parameters".rope_type is ${JSON.stringify(ropeType)}; supported: default, llama3`);
  const theta = typeof rp.rope_theta === 'number' ? rp.rope_theta : num('rope_theta', 10000);
  const rope: RopeConfig = { theta, type: ropeType };
  if (ropeType === 'llama3') {
    const need = (k: string): number => {
      const v = rp[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(file, `field "rope_parameters".${k} is ${JSON.stringify(v)}; llama3 rope scaling needs a number`);
      return v;
    };
    rope.factor = need('factor');
    rope.lowFreqFactor = need('low_freq_factor');
    rope.highFreqFactor = need('high_freq_factor');
    rope.originalMaxPositionEmbeddings = need('original_max_position_embeddings');
  }

  // sliding window: Mistral applies config.sliding_window to every layer; Qwen3 to the layers that
  // layer_types marks "sliding_attention" (none unless use_sliding_window)
  const window = raw.sliding_window;
  const windowSize = (): number => {
    if (typeof window !== 'number' || !Number.isInteger(window) || window < 1) throw new ConfigError(file, `field "sliding_window" is ${JSON.stringify(window)}; expected a positive integer`);
    return window;
  };
  let slidingWindows: (number | null)[] = Array.from({ length: numLayers }, () => null);
  if (record.attention.slidingWindow === 'config' && window !== undefined && window !== null) {
    const w = windowSize();
    slidingWindows = slidingWindows.map(() => w);
  } else if (record.attention.slidingWindow === 'layer_types' && Array.isArray(raw.layer_types)) {
    const types = raw.layer_types as unknown[];
    if (types.length !== numLayers) throw new ConfigError(file, `field "layer_types" has ${types.length} entries; expected one per layer (${numLayers})`);
    slidingWindows = types.map((t, l) => {
      if (t === 'full_attention') return null;
      if (t === 'sliding_attention') return windowSize();
      throw new ConfigError(file, `field "layer_types"[${l}] is ${JSON.stringify(t)}; expected "full_attention" or "sliding_attention"`);
    });
  }

  let layers: LayerShape[] = Array.from({ length: numLayers }, () => ({ numHeads, numKvHeads: numKv, headDim, intermediateSize }));
  const ext = raw.prunekit_layers;
  if (ext !== undefined && ext !== null) {
    if (!Array.isArray(ext) || ext.length !== numLayers) throw new ConfigError(file, `field "prunekit_layers" must be an array with one entry per layer (${numLayers})`);
    layers = ext.map((e: unknown, l) => {
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new ConfigError(file, `field "prunekit_layers"[${l}] must be an object`);
      const o = e as Record<string, unknown>;
      const get = (k: string): number => {
        const v = o[k];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(file, `field "prunekit_layers"[${l}].${k} is ${JSON.stringify(v)}; expected a positive integer`);
        return v;
      };
      const shape: LayerShape = { numHeads: get('num_heads'), numKvHeads: get('num_key_value_heads'), headDim: get('head_dim'), intermediateSize: get('intermediate_size') };
      if (shape.numHeads % shape.numKvHeads! !== 0 || shape.numHeads / shape.numKvHeads! !== numHeads / numKv) {
        throw new ConfigError(file, `field "prunekit_layers"[${l}]: num_heads ${shape.numHeads} / num_key_value_heads ${shape.numKvHeads} must keep the model's group size ${numHeads / numKv}`);
      }
      return shape;
    });
  }

  const id2label = raw.id2label;
  const numLabels = typeof raw.num_labels === 'number' ? raw.num_labels : id2label && typeof id2label === 'object' ? Object.keys(id2label).length : 2;
  const pad = raw.pad_token_id;
  return {
    modelType: record.modelType,
    family: 'decoder',
    decoder: {
      numKeyValueHeads: numKv,
      headDim,
      rmsNormEps: num('rms_norm_eps', 1e-6),
      rope,
      qkNorm: record.attention.qkNorm,
      attentionBias: raw.attention_bias === true,
      mlpBias: raw.mlp_bias === true,
      slidingWindows,
    },
    architecture,
    head,
    vocabSize: int('vocab_size'),
    hiddenSize,
    numLayers,
    numAttentionHeads: numHeads,
    intermediateSize,
    hiddenAct: 'silu',
    maxPositionEmbeddings: int('max_position_embeddings', 2048),
    typeVocabSize: 0,
    layerNormEps: num('rms_norm_eps', 1e-6),
    padTokenId: typeof pad === 'number' && Number.isInteger(pad) ? pad : -1,
    hiddenDropoutProb: 0,
    attentionDropoutProb: num('attention_dropout', 0),
    // decoders' configs default to untied (transformers' PreTrainedConfig default is tied, but Qwen3/Llama set it explicitly)
    tieWordEmbeddings: raw.tie_word_embeddings === true,
    numLabels,
    prunedHeads: new Map(),
    layers,
    raw,
  };
}
