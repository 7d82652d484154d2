// The up-front model-folder check knows both families: a decoder's word embeddings are
// embed_tokens, an encoder's embeddings.word_embeddings.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../../../tools/test-support/shared.js';
import { checkModelFolder } from './check.js';

const fixtures = path.join(workspaceRoot, 'tools', 'fixtures', 'data');

describe('checkModelFolder', () => {
  it('accepts decoder folders (Qwen3 fixture, the bundled decoder embedder) and an encoder folder', async () => {
    await expect(checkModelFolder(path.join(fixtures, 'decoders', 'qwen3-embed'))).resolves.toBeUndefined();
    await expect(checkModelFolder(path.join(workspaceRoot, 'tools', 'decoder-embedder', 'model'))).resolves.toBeUndefined();
    await expect(checkModelFolder(path.join(workspaceRoot, 'apps', 'cli', 'demo', 'tiny-encoder'))).resolves.toBeUndefined();
  });

  it('names the file when a decoder config does not match its weights', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-check-'));
    try {
      fs.cpSync(path.join(fixtures, 'decoders', 'qwen3-embed'), dir, { recursive: true });
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, vocab_size: Number(cfg.vocab_size) + 7 }));
      await expect(checkModelFolder(dir)).rejects.toThrow(/word embeddings have \d+ rows; config\.json vocab_size is \d+/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
