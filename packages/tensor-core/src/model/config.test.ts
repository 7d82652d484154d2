import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, readConfig } from './config.js';

const bert = {
  model_type: 'bert', architectures: ['BertModel'], vocab_size: 100, hidden_size: 32, num_hidden_layers: 2,
  num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 64,
};

describe('config.json', () => {
  it('derives per-layer sizes, honouring HF pruned_heads', () => {
    const c = parseConfig({ ...bert, pruned_heads: { '1': [0, 2] } });
    expect(c.layers).toEqual([
      { numHeads: 4, headDim: 8, intermediateSize: 64 },
      { numHeads: 2, headDim: 8, intermediateSize: 64 },
    ]);
    expect(c.head).toBe('base');
    expect(c.padTokenId).toBe(0);
  });

  it('reads the prunekit_layers extension for per-layer widths', () => {
    const c = parseConfig({ ...bert, prunekit_layers: [{ num_heads: 3, head_dim: 8, intermediate_size: 40 }, { num_heads: 4, head_dim: 6, intermediate_size: 10 }] });
    expect(c.layers[0]).toEqual({ numHeads: 3, headDim: 8, intermediateSize: 40 });
    expect(c.layers[1]).toEqual({ numHeads: 4, headDim: 6, intermediateSize: 10 });
  });

  it('maps architectures to heads and RoBERTa defaults', () => {
    expect(parseConfig({ ...bert, architectures: ['BertForMaskedLM'] }).head).toBe('mlm');
    const r = parseConfig({ ...bert, model_type: 'roberta', architectures: ['RobertaForSequenceClassification'], id2label: { 0: 'a', 1: 'b', 2: 'c' } });
    expect(r.head).toBe('cls');
    expect(r.numLabels).toBe(3);
    expect(r.padTokenId).toBe(1);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['a missing required field', { ...bert, hidden_size: undefined }, /required field "hidden_size" is missing/],
    ['an unsupported model_type', { ...bert, model_type: 'gpt2' }, /field "model_type" is "gpt2"; supported: bert, roberta, xlm-roberta/],
    ['an unsupported architecture', { ...bert, architectures: ['BertForQuestionAnswering'] }, /names "BertForQuestionAnswering", which is not supported/],
    ['heads that do not divide the width', { ...bert, num_attention_heads: 5 }, /"hidden_size" 32 is not divisible by "num_attention_heads" 5/],
    ['pruned_heads removing every head', { ...bert, pruned_heads: { '0': [0, 1, 2, 3] } }, /removes every head of layer 0/],
    ['a non-integer size', { ...bert, intermediate_size: 'big' }, /field "intermediate_size" is "big"; expected a non-negative integer/],
    ['relative position embeddings', { ...bert, position_embedding_type: 'relative_key' }, /only "absolute" is supported/],
  ];
  for (const [what, raw, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => parseConfig(raw, '/m/config.json')).toThrow(message);
      expect(() => parseConfig(raw, '/m/config.json')).toThrow('/m/config.json');
    });
  }

  it('names the file when config.json is missing or not JSON', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-cfg-'));
    expect(() => readConfig(dir)).toThrow(`${path.join(dir, 'config.json')}: missing`);
    fs.writeFileSync(path.join(dir, 'config.json'), '{"model_type": ');
    expect(() => readConfig(dir)).toThrow(/config\.json: not valid JSON/);
    fs.rmSync(dir, { recursive: true });
  });
});
