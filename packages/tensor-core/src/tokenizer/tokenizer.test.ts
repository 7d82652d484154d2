// Behaviour of the Tokenizer API: max length, truncation, pairs, batch layout, padding side,
// special ids, and errors for bad folders. Expected values come from the tokenizer files themselves
// (vocab.txt / vocab.json / tokenizer_config.json), not from the code under test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedPath, workspaceRoot } from '../../../../tools/test-support/shared.js';
import { Tokenizer } from './index.js';

const FIXTURES = path.join(workspaceRoot, 'tools', 'fixtures', 'data', 'tokenizers');
const ROBERTA = path.join(FIXTURES, 'roberta-bpe');
const XLMR = path.join(FIXTURES, 'xlmr-unigram');
const MINI = sharedPath('models/mini-encoder');

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-tok-'));
afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});
let n = 0;
/** A copy of `src` keeping only `keep` (all when omitted), with tokenizer_config.json patched. */
function copyFolder(src: string, patch: Record<string, unknown> = {}, keep?: string[]): string {
  const dst = path.join(tmpRoot, `t${n++}`);
  fs.mkdirSync(dst);
  for (const f of fs.readdirSync(src)) {
    if (fs.statSync(path.join(src, f)).isFile() && (!keep || keep.includes(f))) fs.copyFileSync(path.join(src, f), path.join(dst, f));
  }
  const cfgPath = path.join(dst, 'tokenizer_config.json');
  if (fs.existsSync(cfgPath)) {
    const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) Reflect.deleteProperty(cfg, k);
      else cfg[k] = v;
    }
    fs.writeFileSync(cfgPath, JSON.stringify(cfg));
  }
  return dst;
}

const LONG = 'Pruning keeps the weights that matter for the domain and drops the rest. '.repeat(80);
const readJson = (f: string): Record<string, unknown> => JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>;

describe('Tokenizer (BERT WordPiece, mini-encoder)', () => {
  it.skipIf(!MINI)('reads the max length, vocabulary and special ids from the folder', async () => {
    const tok = await Tokenizer.fromPretrained(MINI!);
    const vocab = fs.readFileSync(path.join(MINI!, 'vocab.txt'), 'utf8').split('\n').filter((l, i, a) => l !== '' || i < a.length - 1);
    const cfg = readJson(path.join(MINI!, 'tokenizer_config.json'));
    expect(tok.modelMaxLength).toBe(cfg.model_max_length);
    expect(tok.vocabSize).toBe(vocab.length);
    expect(tok.family).toBe('bert');
    expect(tok.specialIds).toEqual({
      pad: vocab.indexOf('[PAD]'),
      unk: vocab.indexOf('[UNK]'),
      cls: vocab.indexOf('[CLS]'),
      sep: vocab.indexOf('[SEP]'),
      mask: vocab.indexOf('[MASK]'),
    });
    expect(tok.tokenToId(vocab[1234]!)).toBe(1234);
    expect(tok.idToToken(1234)).toBe(vocab[1234]);
    expect(tok.tokenToId('definitely-not-a-token-xyz')).toBeUndefined();
    expect(tok.idToToken(vocab.length + 10)).toBeUndefined();
  });

  it.skipIf(!MINI)('truncates to the model max length by default, and not when asked', async () => {
    const tok = await Tokenizer.fromPretrained(MINI!);
    const cut = await tok.encode(LONG);
    expect(cut.length).toBe(tok.modelMaxLength);
    expect(cut.ids[0]).toBe(tok.specialIds.cls);
    expect(cut.ids[cut.length - 1]).toBe(tok.specialIds.sep);
    const full = await tok.encode(LONG, undefined, { truncation: false });
    expect(full.length).toBeGreaterThan(tok.modelMaxLength);
    expect(Array.from(full.ids.subarray(0, cut.length - 1))).toEqual(Array.from(cut.ids.subarray(0, cut.length - 1)));
    const short = await tok.encode(LONG, undefined, { maxLength: 10 });
    expect(short.length).toBe(10);
  });

  it.skipIf(!MINI)('encodes pairs as [CLS] A [SEP] B [SEP] with segment ids, and truncates the chosen side', async () => {
    const tok = await Tokenizer.fromPretrained(MINI!);
    const a = await tok.encode('the first part', undefined, { addSpecialTokens: false });
    const b = await tok.encode('and the second part', undefined, { addSpecialTokens: false });
    const p = await tok.encode('the first part', 'and the second part');
    const { cls, sep } = tok.specialIds;
    expect(Array.from(p.ids)).toEqual([cls, ...a.ids, sep, ...b.ids, sep]);
    expect(Array.from(p.tokenTypeIds)).toEqual([...new Array<number>(a.length + 2).fill(0), ...new Array<number>(b.length + 1).fill(1)]);
    expect(Array.from(p.specialTokensMask)).toEqual([1, ...new Array<number>(a.length).fill(0), 1, ...new Array<number>(b.length).fill(0), 1]);

    const onlySecond = await tok.encode('the first part', LONG, { truncation: 'only_second', maxLength: 40 });
    expect(onlySecond.length).toBe(40);
    expect(Array.from(onlySecond.ids.subarray(1, 1 + a.length))).toEqual(Array.from(a.ids));
    const onlyFirst = await tok.encode(LONG, 'and the second part', { truncation: 'only_first', maxLength: 40 });
    expect(Array.from(onlyFirst.ids.subarray(40 - b.length - 1, 39))).toEqual(Array.from(b.ids));
    // as in HF, a side that cannot shrink enough is an error, not a silent overflow
    await expect(tok.encode(LONG, 'and the second part', { truncation: 'only_second', maxLength: 40 })).rejects.toThrow(/truncat/i);
    // an empty second text is no pair for a single call (transformers drops a falsy text_pair)
    expect(Array.from((await tok.encode('the first part', '')).ids)).toEqual([cls, ...a.ids, sep]);
  });

  it.skipIf(!MINI)('lays out batches as padded [batch, length] rows equal to single encodes', async () => {
    const tok = await Tokenizer.fromPretrained(MINI!);
    const texts = ['short', 'a somewhat longer sentence than the first one', LONG];
    const batch = await tok.encodeBatch(texts);
    const singles = await Promise.all(texts.map((t) => tok.encode(t)));
    const width = Math.max(...singles.map((s) => s.length));
    expect(batch.shape).toEqual([3, width]);
    expect(batch.inputIds.length).toBe(3 * width);
    singles.forEach((s, r) => {
      const row = batch.inputIds.subarray(r * width, (r + 1) * width);
      expect(Array.from(row.subarray(0, s.length))).toEqual(Array.from(s.ids));
      expect(Array.from(row.subarray(s.length))).toEqual(new Array<number>(width - s.length).fill(tok.specialIds.pad!));
      const mask = batch.attentionMask.subarray(r * width, (r + 1) * width);
      expect(Array.from(mask)).toEqual([...new Array<number>(s.length).fill(1), ...new Array<number>(width - s.length).fill(0)]);
      expect(batch.lengths[r]).toBe(s.length);
    });
    const fixed = await tok.encodeBatch(['short', 'also short'], { padding: 'max_length', maxLength: 16 });
    expect(fixed.shape).toEqual([2, 16]);
    const pairs = await tok.encodeBatch([['q one', 'd one'], ['q two', '']]);
    expect(Array.from(pairs.tokenTypeIds.subarray(0, pairs.lengths[0]))).toContain(1);
    // in a batch a pair keeps an empty second part (its own [SEP]), as transformers does
    const twoSeps = Array.from(pairs.inputIds.subarray(pairs.seqLength, pairs.seqLength + pairs.lengths[1]!)).filter((x) => x === tok.specialIds.sep);
    expect(twoSeps.length).toBe(2);
  });

  it.skipIf(!MINI)('gives the same ids under concurrent calls with different truncation settings', async () => {
    const tok = await Tokenizer.fromPretrained(MINI!);
    const lengths = [8, 16, 32, 64, 128, 8, 16, 32];
    const out = await Promise.all(lengths.map((m) => tok.encode(LONG, undefined, { maxLength: m })));
    out.forEach((e, i) => {
      expect(e.length).toBe(lengths[i]);
    });
  });

  it.skipIf(!MINI)('honours do_lower_case from tokenizer_config.json', async () => {
    const cased = await Tokenizer.fromPretrained(copyFolder(MINI!, { do_lower_case: false }));
    const lower = await Tokenizer.fromPretrained(MINI!);
    expect(Array.from((await lower.encode('HELLO')).ids)).toEqual(Array.from((await lower.encode('hello')).ids));
    expect(Array.from((await cased.encode('HELLO')).ids)).not.toEqual(Array.from((await cased.encode('hello')).ids));
  });
});

describe('Tokenizer (RoBERTa BPE, XLM-R Unigram fixtures)', () => {
  it('reads special ids from vocab.json and tokenizer.json', async () => {
    const tok = await Tokenizer.fromPretrained(ROBERTA);
    const vocab = readJson(path.join(ROBERTA, 'vocab.json'));
    expect(tok.family).toBe('roberta');
    expect(tok.specialIds).toEqual({ bos: vocab['<s>'], eos: vocab['</s>'], unk: vocab['<unk>'], sep: vocab['</s>'], pad: vocab['<pad>'], cls: vocab['<s>'], mask: vocab['<mask>'] });
    const x = await Tokenizer.fromPretrained(XLMR);
    const tj = readJson(path.join(XLMR, 'tokenizer.json')) as { added_tokens: { id: number; content: string }[] };
    const id = (t: string): number | undefined => tj.added_tokens.find((a) => a.content === t)?.id;
    expect(x.family).toBe('xlm-roberta');
    expect(x.specialIds).toEqual({ bos: id('<s>'), eos: id('</s>'), unk: id('<unk>'), sep: id('</s>'), pad: id('<pad>'), cls: id('<s>'), mask: id('<mask>') });
    // XLM-R pairs: <s> A </s> </s> B </s>, all segment 0
    const p = await x.encode('one', 'two');
    expect(Array.from(p.tokenTypeIds).every((t) => t === 0)).toBe(true);
    expect(Array.from(p.ids).filter((t) => t === x.specialIds.eos).length).toBe(3);
  });

  it('falls back for the max length: caller value or 512 for the HF sentinel, capped by config.json positions', async () => {
    const sentinel = copyFolder(ROBERTA, { model_max_length: 1e30 });
    expect((await Tokenizer.fromPretrained(sentinel)).modelMaxLength).toBe(512);
    expect((await Tokenizer.fromPretrained(sentinel, { fallbackMaxLength: 300 })).modelMaxLength).toBe(300);
    const absent = copyFolder(ROBERTA, { model_max_length: undefined });
    expect((await Tokenizer.fromPretrained(absent, { fallbackMaxLength: 64 })).modelMaxLength).toBe(64);
    const capped = copyFolder(ROBERTA);
    // RoBERTa positions start after pad_token_id, so 100 positions hold 100 - (1 + 1) tokens
    fs.writeFileSync(path.join(capped, 'config.json'), JSON.stringify({ model_type: 'roberta', max_position_embeddings: 100, pad_token_id: 1 }));
    const tok = await Tokenizer.fromPretrained(capped);
    expect(tok.modelMaxLength).toBe(98);
    expect((await tok.encode(LONG)).length).toBe(98);
  });

  it('pads on the left when tokenizer_config.json says so', async () => {
    const tok = await Tokenizer.fromPretrained(copyFolder(ROBERTA, { padding_side: 'left' }));
    const b = await tok.encodeBatch(['hi', 'a longer sentence here']);
    const first = Array.from(b.inputIds.subarray(0, b.seqLength));
    const pads = b.seqLength - b.lengths[0]!;
    expect(pads).toBeGreaterThan(0);
    expect(first.slice(0, pads)).toEqual(new Array<number>(pads).fill(tok.specialIds.pad!));
    expect(Array.from(b.attentionMask.subarray(0, b.seqLength))).toEqual([...new Array<number>(pads).fill(0), ...new Array<number>(b.lengths[0]!).fill(1)]);
  });

  it('rejects bad options', async () => {
    const tok = await Tokenizer.fromPretrained(ROBERTA);
    await expect(tok.encode('x', undefined, { maxLength: 0 })).rejects.toThrow(/maxLength/);
    await expect(tok.encode('x', undefined, { truncation: 'sideways' as 'only_first' })).rejects.toThrow(/truncation strategy/);
  });
});

describe('Tokenizer.fromPretrained errors name the file and what was expected', () => {
  it('missing folder', async () => {
    const dir = path.join(tmpRoot, 'nope');
    await expect(Tokenizer.fromPretrained(dir)).rejects.toThrow(`${dir}: tokenizer folder does not exist`);
  });

  it('no tokenizer.json and no vocabulary files', async () => {
    const dir = copyFolder(ROBERTA, {}, ['tokenizer_config.json']);
    const p = Tokenizer.fromPretrained(dir);
    await expect(p).rejects.toThrow(path.join(dir, 'tokenizer.json'));
    await expect(p).rejects.toThrow(/vocab\.txt.*vocab\.json \+ merges\.txt/);
    await expect(p).rejects.toThrow(/save_pretrained/);
  });

  it('vocab.json without merges.txt', async () => {
    const dir = copyFolder(ROBERTA, {}, ['tokenizer_config.json', 'vocab.json']);
    await expect(Tokenizer.fromPretrained(dir)).rejects.toThrow(`${path.join(dir, 'merges.txt')} is missing`);
  });

  it('XLM-R (SentencePiece) without tokenizer.json says how to produce it', async () => {
    const dir = copyFolder(XLMR, {}, ['tokenizer_config.json', 'special_tokens_map.json']);
    fs.writeFileSync(path.join(dir, 'sentencepiece.bpe.model'), 'not read');
    const p = Tokenizer.fromPretrained(dir);
    await expect(p).rejects.toThrow(/tokenizer\.json is missing: SentencePiece/);
    await expect(p).rejects.toThrow(/save_pretrained/);
  });

  for (const file of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json']) {
    it(`corrupt ${file}`, async () => {
      const dir = copyFolder(ROBERTA, {}, file === 'vocab.json' ? ['vocab.json', 'merges.txt', 'tokenizer_config.json'] : undefined);
      fs.writeFileSync(path.join(dir, file), '{"truncated": ');
      await expect(Tokenizer.fromPretrained(dir)).rejects.toThrow(`${path.join(dir, file)}: not valid JSON`);
    });
  }

  it('tokenizer.json that is JSON but not a tokenizer', async () => {
    const dir = copyFolder(ROBERTA);
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"version": "1.0"}');
    await expect(Tokenizer.fromPretrained(dir)).rejects.toThrow(`${path.join(dir, 'tokenizer.json')}: has no "model" object`);
    const generic = copyFolder(ROBERTA, { tokenizer_class: 'TokenizersBackend' });
    fs.writeFileSync(path.join(generic, 'tokenizer.json'), '{"model": {"type": "Nonsense"}}');
    await expect(Tokenizer.fromPretrained(generic)).rejects.toThrow(/rejected by the tokenizers core/);
  });
});
