// Which parameters are prunable is a policy decided here, not in each method. Default, as in the
// three papers: the linear weights of attention (Q, K, V, output) and of the feed-forward block (up,
// down; decoders' gated MLP adds gate). Embeddings, norms, biases and task heads are never prunable
// unless a caller widens it. A policy names linear kinds; a kind the architecture lacks (an encoder's
// ffn_gate) is skipped, so one policy serves both families.
import type { EncoderModel } from '../model/model.js';
import { FAMILY_LINEARS, layerNames, MATRIX_KINDS, type MatrixKind } from '../model/names.js';

export interface PrunablePolicy {
  /** which linears */
  kinds: readonly MatrixKind[];
  /** which encoder layers (default: all) */
  layers?: readonly number[];
}

export const ATTENTION_AND_MLP: PrunablePolicy = { kinds: MATRIX_KINDS };
/** GAPrune's code default: MLP matrices only (decoders: gate, up and down) */
export const MLP_ONLY: PrunablePolicy = { kinds: ['ffn_gate', 'ffn_up', 'ffn_down'] };
export const DEFAULT_POLICY = ATTENTION_AND_MLP;

export interface PrunableParam {
  name: string;
  layer: number;
  kind: MatrixKind;
  /** [out, in] */
  shape: [number, number];
  numel: number;
}

/** The prunable weight matrices of a model under a policy, in layer order. */
export function prunableParameters(model: EncoderModel, policy: PrunablePolicy = DEFAULT_POLICY): PrunableParam[] {
  const layers = policy.layers ?? Array.from({ length: model.config.numLayers }, (_, l) => l);
  const out: PrunableParam[] = [];
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= model.config.numLayers) {
      throw new Error(`prunable policy names layer ${l}; the model has layers 0..${model.config.numLayers - 1}`);
    }
    const family = model.config.family;
    const names = layerNames(model.prefix, l, family);
    for (const kind of policy.kinds) {
      if (!FAMILY_LINEARS[family].includes(kind)) continue;
      const name = names.linear[kind].weight;
      const t = model.params.get(name);
      if (!t) throw new Error(`model has no parameter "${name}"`);
      const [rows, cols] = t.shape as [number, number];
      out.push({ name, layer: l, kind, shape: [rows, cols], numel: rows * cols });
    }
  }
  return out;
}

/** Parses a policy from user-facing words: "attention+mlp" (default), "mlp", or a comma list of kinds. */
export function parsePolicy(spec: string): PrunablePolicy {
  const s = spec.trim().toLowerCase();
  if (s === 'attention+mlp' || s === 'all') return ATTENTION_AND_MLP;
  if (s === 'mlp') return MLP_ONLY;
  if (s === 'attention') return { kinds: ['query', 'key', 'value', 'attn_output'] };
  const kinds = s.split(',').map((k) => k.trim());
  for (const k of kinds) {
    if (!MATRIX_KINDS.includes(k as MatrixKind)) throw new Error(`unknown prunable target "${k}"; expected attention+mlp, mlp, attention, or a list of ${MATRIX_KINDS.join(', ')}`);
  }
  return { kinds: kinds as MatrixKind[] };
}
