// Hugging Face parameter names are the identity of a parameter everywhere in prunekit. This file is
// the one place that knows how checkpoints name their tensors: the BERT family (encoders) and the
// Llama family (decoders: Qwen3, Llama, Mistral share one layout).
import type { ArchitectureFamily, HeadType, ModelType } from './config.js';

/** Linear kinds. ffn_gate exists only in decoders (SwiGLU: down(silu(gate x) * up x)). */
export type MatrixKind = 'query' | 'key' | 'value' | 'attn_output' | 'ffn_gate' | 'ffn_up' | 'ffn_down';
export const MATRIX_KINDS: readonly MatrixKind[] = ['query', 'key', 'value', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];

/** The linears each family has. */
export const FAMILY_LINEARS: Readonly<Record<ArchitectureFamily, readonly MatrixKind[]>> = {
  encoder: ['query', 'key', 'value', 'attn_output', 'ffn_up', 'ffn_down'],
  decoder: MATRIX_KINDS,
};

/** Path (below the layer) of each linear, as HF names it, per family (encoders have no gate). */
const LINEAR_PATH: Record<ArchitectureFamily, Partial<Record<MatrixKind, string>>> = {
  encoder: {
    query: 'attention.self.query',
    key: 'attention.self.key',
    value: 'attention.self.value',
    attn_output: 'attention.output.dense',
    ffn_up: 'intermediate.dense',
    ffn_down: 'output.dense',
  },
  decoder: {
    query: 'self_attn.q_proj',
    key: 'self_attn.k_proj',
    value: 'self_attn.v_proj',
    attn_output: 'self_attn.o_proj',
    ffn_gate: 'mlp.gate_proj',
    ffn_up: 'mlp.up_proj',
    ffn_down: 'mlp.down_proj',
  },
};
const LAYER_STEM: Record<ArchitectureFamily, string> = { encoder: 'encoder.layer', decoder: 'layers' };

export interface LayerNames {
  /**
   * inputIndex: the int32 tensor of residual features a compacted linear reads (prunekit_layers input_features).
   * Every kind has an entry; a kind the family lacks (an encoder's ffn_gate) names a tensor that never exists.
   */
  linear: Record<MatrixKind, { weight: string; bias: string; inputIndex: string }>;
  /** encoders: the LayerNorm after attention; decoders: the RMSNorm before attention (input_layernorm, no bias) */
  attnLayerNorm: { weight: string; bias: string };
  /** encoders: the LayerNorm after the FFN; decoders: the RMSNorm before the MLP (post_attention_layernorm, no bias) */
  outLayerNorm: { weight: string; bias: string };
  /** decoders with per-head query/key RMSNorm (Qwen3) */
  qNorm?: string;
  kNorm?: string;
}

/** Names of one layer's tensors (`family` defaults to the BERT-family encoder layout). */
export function layerNames(prefix: string, layer: number, family: ArchitectureFamily = 'encoder'): LayerNames {
  const base = `${prefix}${LAYER_STEM[family]}.${layer}.`;
  const linear = {} as LayerNames['linear'];
  for (const kind of MATRIX_KINDS) {
    const p = LINEAR_PATH[family][kind] ?? `absent_${kind}`;
    linear[kind] = { weight: `${base}${p}.weight`, bias: `${base}${p}.bias`, inputIndex: `${base}${p}.input_index` };
  }
  if (family === 'decoder') {
    return {
      linear,
      attnLayerNorm: { weight: `${base}input_layernorm.weight`, bias: `${base}input_layernorm.bias` },
      outLayerNorm: { weight: `${base}post_attention_layernorm.weight`, bias: `${base}post_attention_layernorm.bias` },
      qNorm: `${base}self_attn.q_norm.weight`,
      kNorm: `${base}self_attn.k_norm.weight`,
    };
  }
  return {
    linear,
    attnLayerNorm: { weight: `${base}attention.output.LayerNorm.weight`, bias: `${base}attention.output.LayerNorm.bias` },
    outLayerNorm: { weight: `${base}output.LayerNorm.weight`, bias: `${base}output.LayerNorm.bias` },
  };
}

/** Decoder embedding and final-norm names. */
export function decoderNames(prefix: string): { word: string; finalNorm: string } {
  return { word: `${prefix}embed_tokens.weight`, finalNorm: `${prefix}norm.weight` };
}

export function embeddingNames(prefix: string): { word: string; position: string; tokenType: string; lnWeight: string; lnBias: string } {
  return {
    word: `${prefix}embeddings.word_embeddings.weight`,
    position: `${prefix}embeddings.position_embeddings.weight`,
    tokenType: `${prefix}embeddings.token_type_embeddings.weight`,
    lnWeight: `${prefix}embeddings.LayerNorm.weight`,
    lnBias: `${prefix}embeddings.LayerNorm.bias`,
  };
}

export function poolerNames(prefix: string): { weight: string; bias: string } {
  return { weight: `${prefix}pooler.dense.weight`, bias: `${prefix}pooler.dense.bias` };
}

/** Names of the task-head tensors (never prunable by default). */
export function headNames(modelType: ModelType, head: HeadType): Record<string, string> {
  if (modelType === 'qwen3' || modelType === 'llama' || modelType === 'mistral') {
    // causal LM: lm_head (absent when tied to embed_tokens); classifier: score (no bias)
    return head === 'lm' ? { decoder: 'lm_head.weight' } : head === 'cls' ? { out: 'score' } : {};
  }
  if (head === 'mlm') {
    return modelType === 'bert'
      ? {
          dense: 'cls.predictions.transform.dense', ln: 'cls.predictions.transform.LayerNorm',
          decoder: 'cls.predictions.decoder.weight', bias: 'cls.predictions.bias', decoderBias: 'cls.predictions.decoder.bias',
        }
      : { dense: 'lm_head.dense', ln: 'lm_head.layer_norm', decoder: 'lm_head.decoder.weight', bias: 'lm_head.bias', decoderBias: 'lm_head.decoder.bias' };
  }
  if (head === 'cls') {
    return modelType === 'bert' ? { out: 'classifier' } : { dense: 'classifier.dense', out: 'classifier.out_proj' };
  }
  return {};
}

/** The prefix in front of the encoder's names ('' for a base-model checkpoint, 'bert.' / 'roberta.' under heads). */
export function detectPrefix(modelType: ModelType, names: Set<string>): string | null {
  if (modelType === 'qwen3' || modelType === 'llama' || modelType === 'mistral') {
    for (const p of ['', 'model.']) if (names.has(`${p}embed_tokens.weight`)) return p;
    return null;
  }
  const candidates = ['', modelType === 'bert' ? 'bert.' : 'roberta.', 'bert.', 'roberta.', 'model.'];
  for (const p of candidates) if (names.has(`${p}embeddings.word_embeddings.weight`)) return p;
  return null;
}

/** Parses a layer linear's name (encoder or decoder layout) into (layer, kind), or null for any other tensor. */
export function parseLinearName(name: string): { layer: number; kind: MatrixKind; param: 'weight' | 'bias' } | null {
  const m = /(encoder\.layer|(?:^|\.)layers)\.(\d+)\.(.+)\.(weight|bias)$/.exec(name);
  if (!m) return null;
  const family: ArchitectureFamily = m[1] === 'encoder.layer' ? 'encoder' : 'decoder';
  const paths = LINEAR_PATH[family];
  const kind = (Object.keys(paths) as MatrixKind[]).find((k) => paths[k] === m[3]);
  if (!kind) return null;
  return { layer: Number(m[2]), kind, param: m[4] as 'weight' | 'bias' };
}
