// Hugging Face parameter names are the identity of a parameter everywhere in prunekit. This file is
// the one place that knows how BERT-family checkpoints name their tensors.
import type { HeadType, ModelType } from './config.js';

export type MatrixKind = 'query' | 'key' | 'value' | 'attn_output' | 'ffn_up' | 'ffn_down';
export const MATRIX_KINDS: readonly MatrixKind[] = ['query', 'key', 'value', 'attn_output', 'ffn_up', 'ffn_down'];

/** Path (below the encoder layer) of each linear, as HF names it for BERT, RoBERTa and XLM-R. */
const LINEAR_PATH: Record<MatrixKind, string> = {
  query: 'attention.self.query',
  key: 'attention.self.key',
  value: 'attention.self.value',
  attn_output: 'attention.output.dense',
  ffn_up: 'intermediate.dense',
  ffn_down: 'output.dense',
};

export interface LayerNames {
  /** inputIndex: the int32 tensor of residual features a compacted linear reads (prunekit_layers input_features) */
  linear: Record<MatrixKind, { weight: string; bias: string; inputIndex: string }>;
  attnLayerNorm: { weight: string; bias: string };
  outLayerNorm: { weight: string; bias: string };
}

export function layerNames(prefix: string, layer: number): LayerNames {
  const base = `${prefix}encoder.layer.${layer}.`;
  const linear = {} as LayerNames['linear'];
  for (const kind of MATRIX_KINDS) {
    linear[kind] = { weight: `${base}${LINEAR_PATH[kind]}.weight`, bias: `${base}${LINEAR_PATH[kind]}.bias`, inputIndex: `${base}${LINEAR_PATH[kind]}.input_index` };
  }
  return {
    linear,
    attnLayerNorm: { weight: `${base}attention.output.LayerNorm.weight`, bias: `${base}attention.output.LayerNorm.bias` },
    outLayerNorm: { weight: `${base}output.LayerNorm.weight`, bias: `${base}output.LayerNorm.bias` },
  };
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
  const candidates = ['', modelType === 'bert' ? 'bert.' : 'roberta.', 'bert.', 'roberta.', 'model.'];
  for (const p of candidates) if (names.has(`${p}embeddings.word_embeddings.weight`)) return p;
  return null;
}

/** Parses an encoder linear's name into (layer, kind), or null for any other tensor. */
export function parseLinearName(name: string): { layer: number; kind: MatrixKind; param: 'weight' | 'bias' } | null {
  const m = /encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$/.exec(name);
  if (!m) return null;
  const kind = (Object.keys(LINEAR_PATH) as MatrixKind[]).find((k) => LINEAR_PATH[k] === m[2]);
  if (!kind) return null;
  return { layer: Number(m[1]), kind, param: m[3] as 'weight' | 'bias' };
}
