// Parity with PyTorch transformers 5.18 on tiny random-weight decoders (tools/fixtures/make_decoder_fixtures.py):
// Qwen3 (base with sentence-transformers config, classifier, untied causal LM), Llama classifier
// (llama3 RoPE scaling, bf16 weights in 6 shards), Llama embedder (sentence-transformers config, BOS+EOS,
// right padding), Llama classifier with that tokenizer (text in, logits of the last non-pad token),
// Mistral (sliding window 4, fp16 weights).
// Outputs to 1e-4 absolute with right and with left padding (rows of different lengths), gradients of
// a fixed loss on the left-padded batch to 1e-4 relative, sentence-transformers embeddings to 1e-4.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel, weightFiles } from './load.js';
import { SentenceEncoder } from './encoder.js';
import { Tokenizer } from '../tokenizer/index.js';
import { fixturesDir, maxAbsDiff, readReference, relDiff } from '../test-support/reference.js';

const root = path.join(fixturesDir, 'decoders');
const folders = fs.readdirSync(root).filter((f) => fs.statSync(path.join(root, f)).isDirectory()).sort();

beforeAll(async () => {
  await initBackend();
});

/** Zeroes padded positions of [batch, seq, width] (the references store zeros there). */
function maskRows(x: tf.Tensor, mask: tf.Tensor2D): Float32Array {
  return tf.tidy(() => tf.mul(x, tf.expandDims(tf.cast(mask, 'float32'), -1)).dataSync() as Float32Array);
}

describe('decoder forward parity with PyTorch', () => {
  it('covers Qwen3 (base, cls, lm), Llama (cls, base) and Mistral (base)', () => {
    expect(folders).toEqual(['llama-cls', 'llama-cls-text', 'llama-embed', 'mistral-base', 'qwen3-cls', 'qwen3-embed', 'qwen3-lm']);
  });

  for (const name of folders) {
    it(`${name}: outputs (right and left padding) and gradients`, () => {
      const dir = path.join(root, name);
      const ref = readReference(path.join(dir, 'reference.safetensors'));
      if (ref.metadata.sharded === 'true') expect(weightFiles(dir).length).toBeGreaterThan(1);
      const model = loadModel(dir);
      expect(model.config.family).toBe('decoder');
      expect(model.config.head).toBe(ref.metadata.head);
      for (const side of ['right', 'left']) {
        const inputs = { inputIds: ref.int2d(`${side}.input_ids`), attentionMask: ref.int2d(`${side}.attention_mask`) };
        const lengths = tf.tidy(() => Array.from(tf.sum(inputs.attentionMask, 1).dataSync()));
        expect(new Set(lengths).size, 'rows of different lengths').toBeGreaterThan(1);
        tf.tidy(() => {
          const out = model.forward(inputs);
          expect(maxAbsDiff(maskRows(out.lastHiddenState, inputs.attentionMask), ref.float(`${side}.last_hidden_state`)), `${side} hidden`).toBeLessThanOrEqual(1e-4);
          if (ref.metadata.head === 'cls') expect(maxAbsDiff(out.logits!.dataSync(), ref.float(`${side}.logits`)), `${side} logits`).toBeLessThanOrEqual(1e-4);
          if (ref.metadata.head === 'lm') expect(maxAbsDiff(maskRows(out.logits!, inputs.attentionMask), ref.float(`${side}.logits`)), `${side} logits`).toBeLessThanOrEqual(1e-4);
        });
        tf.dispose(Object.values(inputs));
      }

      const inputs = { inputIds: ref.int2d('left.input_ids'), attentionMask: ref.int2d('left.attention_mask') };
      const gradNames = ref.metadata.grad_params!.split(',');
      const probe = tf.tensor(ref.float('probe'), ref.shape('probe'));
      const vars = new Map(gradNames.map((n) => [n, tf.variable(model.params.get(n)!, true, `d_${name}_${n}`)]));
      const view = (n: string): tf.Tensor => vars.get(n) ?? model.denseView(n);
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forward(inputs, { view });
        const main = ref.metadata.main_output === 'logits' ? out.logits! : out.lastHiddenState;
        return tf.sum(tf.mul(main, probe)) as tf.Scalar;
      }, [...vars.values()]);
      const loss = ref.float('loss')[0]!;
      expect(Math.abs(value.dataSync()[0]! - loss)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(loss)));
      for (const n of gradNames) expect(relDiff(grads[`d_${name}_${n}`]!.dataSync(), ref.float(`grad.${n}`)), n).toBeLessThanOrEqual(1e-4);
      tf.dispose([value, probe, ...Object.values(grads), ...vars.values(), ...Object.values(inputs)]);
      model.dispose();
    });
  }

  it.each([
    ['qwen3-embed', 'left padding, <|endoftext|> appended'],
    ['llama-embed', 'right padding, <|begin_of_text|> prepended and <|end_of_text|> appended'],
  ])('%s: sentence-transformers embeddings, with and without the query prompt (%s)', async (name) => {
    const dir = path.join(root, name);
    const ref = readReference(path.join(dir, 'reference.safetensors'));
    const sentences = JSON.parse(ref.metadata.st_sentences!) as string[];
    const enc = await SentenceEncoder.load(dir);
    expect(enc.pooling).toEqual({ mode: 'lasttoken', normalize: true });
    expect(enc.promptFor({ promptName: 'query' })).toBe(ref.metadata.st_query_prompt);
    // the tokenizer gives what sentence-transformers fed the model
    const prompt = ref.metadata.st_query_prompt!;
    const batch = await enc.tokenizer.encodeBatch(sentences.map((s) => prompt + s), { maxLength: enc.maxLength });
    expect(Array.from(batch.inputIds)).toEqual(Array.from(ref.int2d('st.query_input_ids').dataSync()));
    expect(Array.from(batch.attentionMask)).toEqual(Array.from(ref.int2d('st.query_attention_mask').dataSync()));
    const flat = (rows: Float32Array[]): Float32Array => Float32Array.from(rows.flatMap((r) => Array.from(r)));
    expect(maxAbsDiff(flat(await enc.encode(sentences)), ref.float('st.embeddings'))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(flat(await enc.encode(sentences, { promptName: 'query' })), ref.float('st.query_embeddings'))).toBeLessThanOrEqual(1e-4);
    // batch composition does not matter (RoPE is relative, so left padding shifts nothing)
    expect(maxAbsDiff(flat(await enc.encode(sentences, { promptName: 'query', batchSize: 1 })), ref.float('st.query_embeddings'))).toBeLessThanOrEqual(1e-4);
    await expect(enc.encode(['x'], { promptName: 'nope' })).rejects.toThrow(/no prompt named "nope".*"query", "document"/);
    enc.dispose();
  });

  it('llama-cls-text: text tokenized by prunekit, padded right and left, gives transformers\' logits (score head on the last non-pad token)', async () => {
    const dir = path.join(root, 'llama-cls-text');
    const ref = readReference(path.join(dir, 'reference.safetensors'));
    const sentences = JSON.parse(ref.metadata.text_sentences!) as string[];
    const tokenizer = await Tokenizer.fromPretrained(dir);
    const model = loadModel(dir);
    expect(model.config.head).toBe('cls');
    expect(tokenizer.specialIds.pad).toBe(model.config.padTokenId);
    const enc = await tokenizer.encodeBatch(sentences, { padding: 'longest' });
    expect(tokenizer.paddingSide).toBe('right');
    expect(Array.from(enc.inputIds)).toEqual(Array.from(ref.int2d('text.right.input_ids').dataSync()));
    const [rows, seq] = [enc.batchSize, enc.seqLength];
    // the same rows left-padded
    const leftIds = new Int32Array(rows * seq).fill(model.config.padTokenId);
    const leftMask = new Int32Array(rows * seq);
    for (let r = 0; r < rows; r++) {
      const len = enc.lengths[r]!;
      leftIds.set(enc.inputIds.subarray(r * seq, r * seq + len), r * seq + seq - len);
      leftMask.fill(1, r * seq + seq - len, (r + 1) * seq);
    }
    expect(Array.from(leftIds)).toEqual(Array.from(ref.int2d('text.left.input_ids').dataSync()));
    for (const [side, ids, mask] of [['right', enc.inputIds, enc.attentionMask], ['left', leftIds, leftMask]] as const) {
      const logits = tf.tidy(() => model.forward({ inputIds: tf.tensor2d(ids, [rows, seq], 'int32'), attentionMask: tf.tensor2d(mask, [rows, seq], 'int32') }).logits!.dataSync() as Float32Array);
      expect(maxAbsDiff(logits, ref.float(`text.${side}.logits`)), side).toBeLessThanOrEqual(1e-4);
    }
    model.dispose();
  });
});
