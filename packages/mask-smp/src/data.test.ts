import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '@prunekit/tensor-core';
import { encodeExamples, loadExamples, resolveLabelWords } from './data.js';
import { resolveTask } from './tasks.js';
import { tinySetup } from './test-support/tiny.js';

const tiny = tinySetup();
afterAll(() => {
  tiny.cleanup();
});

describe('classification data and label words', () => {
  it('reads {text,label} and {sentence1,sentence2,label} files and subsamples with a fixed seed', async () => {
    const sst = resolveTask('glue_sst2');
    const all = await loadExamples(path.join(tiny.datasets, 'glue_sst2', 'train.jsonl'), sst);
    expect(all).toHaveLength(96);
    expect(all[0]).toMatchObject({ line: 1 });
    const a = await loadExamples(path.join(tiny.datasets, 'glue_sst2', 'train.jsonl'), sst, { max: 10, seed: 3 });
    const b = await loadExamples(path.join(tiny.datasets, 'glue_sst2', 'train.jsonl'), sst, { max: 10, seed: 3 });
    expect(a.map((e) => e.line)).toEqual(b.map((e) => e.line));
    expect(a.map((e) => e.line)).toEqual([...a.map((e) => e.line)].sort((x, y) => x - y));
    const rte = await loadExamples(path.join(tiny.datasets, 'glue_rte', 'dev.jsonl'), resolveTask('glue_rte'));
    expect(rte[0]!.sentence2).toMatch(/^the story was/);
  });

  it('names file:line for a label outside the task', async () => {
    const f = path.join(tiny.root, 'bad.jsonl');
    fs.writeFileSync(f, '{"text":"a","label":"1"}\n{"text":"b","label":"7"}\n');
    await expect(loadExamples(f, resolveTask('glue_sst2'))).rejects.toThrow(/bad\.jsonl:2: label "7" is not one of glue_sst2's labels/);
  });

  it('resolves label words to single tokens, with the task\'s substitutes, and errors clearly otherwise', async () => {
    const tok = await Tokenizer.fromPretrained(tiny.model);
    const lw = await resolveLabelWords(tok, resolveTask('glue_sst2'));
    expect(lw.words).toEqual(['terrible', 'great']);
    expect(lw.ids).toEqual([tok.tokenToId('terrible'), tok.tokenToId('great')]);
    const fpb = await resolveLabelWords(tok, resolveTask('financial_phrasebank'));
    expect(fpb.words).toEqual(['terrible', 'okay', 'great']);
    await expect(resolveLabelWords(tok, resolveTask('glue_sst2', { labelWords: ['dreadful', 'great'] }))).rejects.toThrow(/none of "dreadful" is a single token/);
    expect(() => resolveTask('glue_sst2', { labelWords: ['bad'] })).toThrow(/2 labels/);
    expect(() => resolveTask('glue_stsb')).toThrow(/regression/);
    expect(() => resolveTask('glue_sst2', { template: '{text} no mask' })).toThrow(/exactly one \[MASK\]/);
  });

  it('builds prompt inputs with the [MASK] position, truncating the text and never the mask', async () => {
    const tok = await Tokenizer.fromPretrained(tiny.model);
    const task = resolveTask('glue_rte');
    const ex = [{ sentence1: 'the movie was good', sentence2: 'it is fun', label: 1, line: 1 }];
    const [e] = await encodeExamples(tok, task, ex, { variant: 'prompt', maxLength: 64 });
    const toks = Array.from(e!.ids, (id) => tok.idToToken(id));
    expect(toks).toEqual(['[CLS]', 'the', 'movie', 'was', 'good', '?', '[MASK]', ',', 'it', 'is', 'fun', '[SEP]']);
    expect(e!.position).toBe(6);
    const long = [{ sentence1: Array(40).fill('movie').join(' '), sentence2: 'it is fun', label: 0, line: 1 }];
    const [t] = await encodeExamples(tok, task, long, { variant: 'prompt', maxLength: 16 });
    expect(t!.ids.length).toBe(16);
    expect(tok.idToToken(t!.ids[t!.position]!)).toBe('[MASK]');
    expect(Array.from(t!.ids.slice(-4), (id) => tok.idToToken(id))).toEqual(['it', 'is', 'fun', '[SEP]']);
    const [f] = await encodeExamples(tok, task, ex, { variant: 'first', maxLength: 64 });
    expect(f!.position).toBe(0);
    expect(tok.idToToken(f!.ids[0]!)).toBe('[CLS]');
    expect(Array.from(f!.typeIds).includes(1)).toBe(true);
  });
});
