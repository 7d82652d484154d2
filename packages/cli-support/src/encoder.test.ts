import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEncoder } from '@prunekit/tensor-core';
import { loadModelEncoder, mtebRolePrompts } from './encoder.js';

const repo = path.resolve(import.meta.dirname, '..', '..', '..');
const qwen3Embed = path.join(repo, 'tools', 'fixtures', 'data', 'decoders', 'qwen3-embed');
const tinyEncoder = path.join(repo, 'apps', 'cli', 'demo', 'tiny-encoder');
const texts = ['what is the rate on the loan', 'a short text', 'the bank raised its rate'];
const warn = (): void => undefined;

describe('loadModelEncoder: MTEB query/document prompts', () => {
  it('a folder with "query"/"document" prompts is asymmetric: a query gets the query prompt, a document the document prompt, a symmetric task none', async () => {
    const enc = await loadModelEncoder(qwen3Embed, { batchSize: 2, warn });
    const ref = await openEncoder(qwen3Embed, { batchSize: 2 });
    try {
      expect(enc.asymmetric).toBe(true);
      expect(enc.fingerprint).toBe(`${ref.fingerprint}-roles`);
      const asQuery = await enc.encode(texts, 'query');
      expect(asQuery.map((v) => Array.from(v))).toEqual((await ref.encode(texts, { promptName: 'query' })).map((v) => Array.from(v)));
      expect((await enc.encode(texts, 'document')).map((v) => Array.from(v))).toEqual((await ref.encode(texts, { promptName: 'document' })).map((v) => Array.from(v)));
      expect((await enc.encode(texts)).map((v) => Array.from(v))).toEqual((await ref.encode(texts)).map((v) => Array.from(v)));
      // the query prompt changes the embedding (it is not the empty document prompt)
      expect(Array.from(asQuery[0]!)).not.toEqual(Array.from((await enc.encode(texts, 'document'))[0]!));
    } finally {
      enc.dispose?.();
      await ref.dispose();
    }
  });

  it('a folder without prompts is symmetric and keeps its fingerprint', async () => {
    const enc = await loadModelEncoder(tinyEncoder, { batchSize: 2, warn });
    const ref = await openEncoder(tinyEncoder, { batchSize: 2 });
    try {
      expect(enc.asymmetric).toBeUndefined();
      expect(enc.fingerprint).toBe(ref.fingerprint);
    } finally {
      enc.dispose?.();
      await ref.dispose();
    }
  });

  it('chooses prompts as MTEB does for a SentenceTransformer: "query", then "document" or the older "passage", else the default prompt', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-roles-'));
    const write = (o: unknown): void => { fs.writeFileSync(path.join(dir, 'config_sentence_transformers.json'), JSON.stringify(o)); };
    write({ prompts: { query: 'q: ', passage: 'p: ' } });
    expect(mtebRolePrompts(dir)).toEqual({ query: { promptName: 'query' }, document: { promptName: 'passage' } });
    write({ prompts: { query: 'q: ' }, default_prompt_name: 'query' });
    expect(mtebRolePrompts(dir)).toEqual({ query: { promptName: 'query' }, document: {} });
    write({ prompts: { classification: 'c: ' } });
    expect(mtebRolePrompts(dir)).toBeNull();
    fs.rmSync(path.join(dir, 'config_sentence_transformers.json'));
    expect(mtebRolePrompts(dir)).toBeNull();
  });
});
