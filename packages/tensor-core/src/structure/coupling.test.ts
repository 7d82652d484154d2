// The coupling description and the prunekit_layers config extension it relies on.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../model/config.js';
import { COUPLING, groupOf, headGroup, layerGroups } from './coupling.js';

const bert = {
  model_type: 'bert', architectures: ['BertModel'], vocab_size: 100, hidden_size: 32, num_hidden_layers: 2,
  num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64,
};
const L0 = 'encoder.layer.0.';

describe('coupling groups', () => {
  const model = { config: parseConfig(bert), prefix: '' };

  it('describes the post-LN encoders one way and the GQA decoders another', () => {
    expect(Object.keys(COUPLING).sort()).toEqual(['bert', 'llama', 'mistral', 'qwen3', 'roberta', 'xlm-roberta']);
    expect(COUPLING.qwen3.ffnNeuron).toEqual({ rows: ['ffn_gate', 'ffn_up'], cols: ['ffn_down'] });
    expect(COUPLING.llama.groupedHeads).toEqual({ queryRows: ['query'], kvRows: ['key', 'value'], cols: ['attn_output'] });
    expect(COUPLING.mistral.residualReaders).toEqual([]);
    expect(COUPLING.bert.qkDim.rows).toEqual(['query', 'key']);
    expect(COUPLING.roberta.vDim).toEqual({ rows: ['value'], cols: ['attn_output'] });
    expect(COUPLING['xlm-roberta'].ffnNeuron).toEqual({ rows: ['ffn_up'], cols: ['ffn_down'] });
    expect(COUPLING.bert.residualWriters).toEqual(['attn_output', 'ffn_down']);
  });

  it('a head is its Q, K, V rows and attention-output columns', () => {
    const g = headGroup(model, 0, 2);
    const rows = [16, 17, 18, 19, 20, 21, 22, 23];
    expect(g.slices).toEqual([
      { param: `${L0}attention.self.query.weight`, axis: 0, indices: rows, bias: `${L0}attention.self.query.bias` },
      { param: `${L0}attention.self.key.weight`, axis: 0, indices: rows, bias: `${L0}attention.self.key.bias` },
      { param: `${L0}attention.self.value.weight`, axis: 0, indices: rows, bias: `${L0}attention.self.value.bias` },
      { param: `${L0}attention.output.dense.weight`, axis: 1, indices: rows },
    ]);
  });

  it('groupOf maps a row or column to its coupled group', () => {
    expect(groupOf(model, `${L0}attention.self.query.weight`, 0, 13)).toMatchObject({ kind: 'qk_dim', head: 1, index: 5 });
    expect(groupOf(model, `${L0}attention.self.query.weight`, 0, 13)!.slices.map((s) => s.param)).toEqual([`${L0}attention.self.query.weight`, `${L0}attention.self.key.weight`]);
    expect(groupOf(model, `${L0}attention.output.dense.weight`, 1, 9)).toMatchObject({ kind: 'v_dim', head: 1, index: 1 });
    const neuron = groupOf(model, `${L0}output.dense.weight`, 1, 40)!;
    expect(neuron.kind).toBe('ffn_neuron');
    expect(neuron.slices).toEqual([
      { param: `${L0}intermediate.dense.weight`, axis: 0, indices: [40], bias: `${L0}intermediate.dense.bias` },
      { param: `${L0}output.dense.weight`, axis: 1, indices: [40] },
    ]);
    expect(groupOf(model, `${L0}attention.self.value.weight`, 1, 3)).toMatchObject({ kind: 'input_feature', reader: 'value', index: 3 });
    // the residual stream keeps its width: rows of its writers belong to no group
    expect(groupOf(model, `${L0}output.dense.weight`, 0, 3)).toBeNull();
    expect(() => groupOf(model, 'embeddings.word_embeddings.weight', 0, 0)).toThrow(/not the weight of an encoder linear/);
    expect(() => groupOf(model, `${L0}intermediate.dense.weight`, 0, 64)).toThrow(/layer 0: neuron 64 does not exist/);
  });

  it('counts groups of each kind, with partial heads of a compacted layer', () => {
    const cfg = parseConfig({
      ...bert,
      prunekit_layers: [
        { num_heads: 2, head_dim: 8, intermediate_size: 10, qk_dims: [3, 8], v_dims: [8, 5], input_features: { query: 20 } },
        { num_heads: 4, head_dim: 8, intermediate_size: 64 },
      ],
    });
    const m = { config: cfg, prefix: '' };
    expect(layerGroups(m, 0, 'head')).toHaveLength(2);
    expect(layerGroups(m, 0, 'qk_dim')).toHaveLength(11);
    expect(layerGroups(m, 0, 'v_dim')).toHaveLength(13);
    expect(layerGroups(m, 0, 'ffn_neuron')).toHaveLength(10);
    expect(layerGroups(m, 0, 'input_feature')).toHaveLength(20 + 32 * 3);
    // head 1's value rows start after head 0's 8
    expect(headGroup(m, 0, 1).slices[2]!.indices).toEqual([8, 9, 10, 11, 12]);
    expect(groupOf(m, `${L0}attention.self.key.weight`, 0, 4)).toMatchObject({ head: 1, index: 1 });
  });
});

describe('prunekit_layers extension', () => {
  it('reads per-head sizes and input features', () => {
    const c = parseConfig({ ...bert, prunekit_layers: [{ num_heads: 2, head_dim: 8, intermediate_size: 10, qk_dims: [3, 8], v_dims: [8, 5], input_features: { ffn_up: 7 } }, { num_heads: 4, head_dim: 8, intermediate_size: 64 }] });
    expect(c.layers[0]).toEqual({ numHeads: 2, headDim: 8, intermediateSize: 10, qkDims: [3, 8], vDims: [8, 5], inputFeatures: { ffn_up: 7 } });
  });

  const bad: [string, unknown, RegExp][] = [
    ['qk_dims of the wrong length', { num_heads: 2, head_dim: 8, intermediate_size: 10, qk_dims: [3] }, /"prunekit_layers"\[0\]\.qk_dims must list one size per head \(2 heads\)/],
    ['a zero value dim', { num_heads: 2, head_dim: 8, intermediate_size: 10, v_dims: [3, 0] }, /"prunekit_layers"\[0\]\.v_dims\[1\] is 0; expected a positive integer/],
    ['an unknown reader', { num_heads: 2, head_dim: 8, intermediate_size: 10, input_features: { ffn_down: 3 } }, /input_features names "ffn_down"; expected one of query, key, value, ffn_up/],
    ['more features than the hidden size', { num_heads: 2, head_dim: 8, intermediate_size: 10, input_features: { key: 33 } }, /input_features\.key is 33, more than hidden_size 32/],
  ];
  for (const [what, entry, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => parseConfig({ ...bert, prunekit_layers: [entry, { num_heads: 4, head_dim: 8, intermediate_size: 64 }] })).toThrow(message);
    });
  }
});
