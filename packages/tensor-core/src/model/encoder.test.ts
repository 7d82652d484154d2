import fs from 'node:fs';
import os from 'node:os';
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

describe('prompts and 1_Pooling "include_prompt"', () => {
  it('a prompt with mean pooling and "include_prompt": false is refused naming the file; without a prompt the folder encodes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-include-prompt-'));
    try {
      fs.cpSync(path.join(fixturesDir, 'decoders', 'llama-embed'), dir, { recursive: true });
      const poolingFile = path.join(dir, '1_Pooling', 'config.json');
      const pooling = JSON.parse(fs.readFileSync(poolingFile, 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(poolingFile, JSON.stringify({ ...pooling, pooling_mode_lasttoken: false, pooling_mode_mean_tokens: true, include_prompt: false }));
      const enc = await SentenceEncoder.load(dir);
      expect(enc.pooling.mode).toBe('mean');
      expect((await enc.encode(['a cat'])).length).toBe(1);
      await expect(enc.encode(['a cat'], { promptName: 'query' })).rejects.toThrow(`${poolingFile}: field "include_prompt" is false with mean pooling`);
      // the empty "document" prompt prefixes nothing, so nothing is left out
      expect((await enc.encode(['a cat'], { promptName: 'document' })).length).toBe(1);
      enc.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
