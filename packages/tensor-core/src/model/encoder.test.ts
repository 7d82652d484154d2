import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { SentenceEncoder } from './encoder.js';
import { fixturesDir, maxAbsDiff, readReference } from '../test-support/reference.js';
import { sharedPath } from '../../../../tools/test-support/shared.js';

beforeAll(async () => {
  await initBackend();
});

const mini = sharedPath('models/mini-encoder');

describe.skipIf(!mini)('SentenceEncoder on mini-encoder', () => {
  it('matches sentence-transformers embeddings, in input order, for any batch size', async () => {
    const enc = await SentenceEncoder.load(mini!);
    expect(enc.maxLength).toBe(128); // sentence_bert_config.json max_seq_length
    const ref = readReference(path.join(fixturesDir, 'shared-refs', 'mini-encoder.safetensors'));
    const sentences = (JSON.parse(fs.readFileSync(path.join(fixturesDir, 'shared-refs', 'mini-encoder.inputs.json'), 'utf8')) as { sentences: string[] }).sentences;
    const expected = ref.float('st_embeddings');
    const width = enc.model.config.hiddenSize;
    for (const batchSize of [1, 2, 32]) {
      const got = await enc.encode(sentences, { batchSize });
      expect(got).toHaveLength(sentences.length);
      const flat = new Float32Array(sentences.length * width);
      got.forEach((e, i) => { flat.set(e, i * width); });
      expect(maxAbsDiff(flat, expected), `batchSize ${batchSize}`).toBeLessThanOrEqual(1e-4);
    }
    enc.dispose();
  });

  it('reports progress, handles empty input, and does not leak tensors', async () => {
    const enc = await SentenceEncoder.load(mini!);
    expect(await enc.encode([])).toEqual([]);
    const texts = Array.from({ length: 10 }, (_, i) => `sentence number ${i} ${'word '.repeat(i)}`);
    const seen: number[] = [];
    await enc.encode(texts, { batchSize: 4, onProgress: (d) => seen.push(d) });
    expect(seen).toEqual([4, 8, 10]);
    const before = tf.memory().numTensors;
    await enc.encode(texts, { batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(enc.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    enc.dispose();
  });
});
