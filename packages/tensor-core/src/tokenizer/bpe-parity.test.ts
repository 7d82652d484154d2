// Byte-level BPE (Qwen-style tokenizer.json, tokenizer_class Qwen2Tokenizer) against transformers 5.18's
// AutoTokenizer on real text: held-out STS-B and SciFact lines from ../shared/datasets plus edge cases
// (tools/fixtures/make_decoder_fixtures.py). The post-processor appends <|endoftext|> to every text.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from './tokenizer.js';
import { fixturesDir } from '../test-support/reference.js';

const root = path.join(fixturesDir, 'decoders');
const ref = JSON.parse(fs.readFileSync(path.join(root, 'bpe-tokenizer.json'), 'utf8')) as { texts: string[]; ids: number[][]; eos_id: number };

describe('byte-level BPE tokenizer parity with transformers', () => {
  it('gives transformers\' ids for every text (0 mismatches), <|endoftext|> appended', async () => {
    const tok = await Tokenizer.fromPretrained(path.join(root, 'qwen3-embed'));
    expect(tok.paddingSide).toBe('left');
    expect(ref.texts.length).toBeGreaterThan(250);
    const mismatches: string[] = [];
    for (let i = 0; i < ref.texts.length; i++) {
      const enc = await tok.encode(ref.texts[i]!, null, { truncation: false });
      if (JSON.stringify(Array.from(enc.ids)) !== JSON.stringify(ref.ids[i])) mismatches.push(ref.texts[i]!);
      expect(enc.ids[enc.length - 1]).toBe(ref.eos_id);
    }
    expect(mismatches).toEqual([]);
  });
});
