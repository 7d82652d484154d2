// Classification data: the shared datasets' jsonl formats ({text,label} and
// {sentence1,sentence2,label}), fixed-seed subsampling, tokenisation for the two head variants, and
// padded batches.
import * as tf from '@tensorflow/tfjs-core';
import { createRng, loadJsonl, type EncoderInputs, type Tokenizer } from '@prunekit/tensor-core';
import type { TaskSpec } from './tasks.js';

export interface Example {
  text?: string;
  sentence1?: string;
  sentence2?: string;
  /** class index into task.labels */
  label: number;
  /** 1-based line in the source file */
  line: number;
}

export interface LoadOptions {
  /** keep at most this many examples, chosen by a seeded permutation (file order kept) */
  max?: number;
  /** subsampling seed (default 0; fixed so that every method and run sees the same subset) */
  seed?: number;
}

/** Reads a task's jsonl file; a label outside task.labels is an error naming file:line. */
export async function loadExamples(file: string, task: TaskSpec, options: LoadOptions = {}): Promise<Example[]> {
  const fields: Record<string, 'string' | 'any'> = task.input === 'single' ? { text: 'string', label: 'any' } : { sentence1: 'string', sentence2: 'string', label: 'any' };
  const rows = await loadJsonl(file, { fields });
  const out: Example[] = [];
  rows.forEach((r, i) => {
    const raw = (r as { label: unknown }).label;
    if (typeof raw !== 'string' && typeof raw !== 'number') throw new Error(`${file}:${i + 1}: label must be a string or a number`);
    const label = task.labels.indexOf(String(raw));
    if (label < 0) throw new Error(`${file}:${i + 1}: label "${String(raw)}" is not one of ${task.name}'s labels (${task.labels.join(', ')})`);
    const rec = r as { text?: string; sentence1?: string; sentence2?: string };
    out.push(task.input === 'single' ? { text: rec.text!, label, line: i + 1 } : { sentence1: rec.sentence1!, sentence2: rec.sentence2!, label, line: i + 1 });
  });
  const max = options.max;
  if (max === undefined || max >= out.length) return out;
  if (!(Number.isInteger(max) && max > 0)) throw new Error(`max examples must be a positive integer (got ${max})`);
  const pick = Array.from(createRng(`subsample:${options.seed ?? 0}`).permutation(out.length).subarray(0, max)).sort((a, b) => a - b);
  return pick.map((i) => out[i]!);
}

export type HeadVariant = 'first' | 'prompt';
export const HEAD_VARIANTS: readonly HeadVariant[] = ['first', 'prompt'];

/** A tokenised example: ids, token types, and the position whose hidden state is classified. */
export interface EncodedExample {
  ids: Int32Array;
  typeIds: Int32Array;
  position: number;
  label: number;
}

export interface LabelWords {
  words: string[];
  ids: number[];
}

/** A word's single token id, or null when it is not one token of the vocabulary. */
async function singleTokenId(tokenizer: Tokenizer, word: string): Promise<number | null> {
  const direct = tokenizer.tokenToId(word);
  const enc = await tokenizer.encode(word, null, { addSpecialTokens: false, truncation: false });
  if (enc.ids.length === 1 && !(tokenizer.specialIds.unk !== undefined && enc.ids[0] === tokenizer.specialIds.unk)) return enc.ids[0]!;
  return direct ?? null;
}

/** Resolves each label's word to a token id (first in-vocabulary candidate); errors name the words. */
export async function resolveLabelWords(tokenizer: Tokenizer, task: TaskSpec): Promise<LabelWords> {
  const words: string[] = [];
  const ids: number[] = [];
  for (let c = 0; c < task.labels.length; c++) {
    const candidates = task.labelWords[c]!;
    let found: [string, number] | null = null;
    for (const w of candidates) {
      const id = await singleTokenId(tokenizer, w);
      if (id !== null) {
        found = [w, id];
        break;
      }
    }
    if (!found) {
      const pieces = await Promise.all(candidates.map(async (w) => `"${w}" → [${(await tokenizer.encode(w, null, { addSpecialTokens: false, truncation: false })).tokens.join(' ')}]`));
      throw new Error(`label word for ${task.name} label "${task.labels[c]!}": none of ${candidates.map((w) => `"${w}"`).join(', ')} is a single token of the model's vocabulary (${pieces.join('; ')}); choose another word (--label-words)`);
    }
    if (ids.includes(found[1])) throw new Error(`label words of ${task.name} must differ: "${found[0]}" is used twice`);
    words.push(found[0]);
    ids.push(found[1]);
  }
  return { words, ids };
}

export interface EncodeOptions {
  variant: HeadVariant;
  maxLength: number;
}

function fieldText(e: Example, field: string): string {
  const v = field === 'text' ? e.text : field === 'sentence1' ? e.sentence1 : e.sentence2;
  return v ?? '';
}

/** Tokenises examples for a head variant (truncating longest field first; [MASK] is never cut). */
export async function encodeExamples(tokenizer: Tokenizer, task: TaskSpec, examples: readonly Example[], options: EncodeOptions): Promise<EncodedExample[]> {
  const { variant, maxLength } = options;
  const cls = tokenizer.specialIds.cls;
  const sep = tokenizer.specialIds.sep;
  if (variant === 'first') {
    const out: EncodedExample[] = [];
    for (let i = 0; i < examples.length; i += 256) {
      const chunk = examples.slice(i, i + 256);
      const encs = await Promise.all(chunk.map((e) => (task.input === 'single' ? tokenizer.encode(e.text!, null, { maxLength }) : tokenizer.encode(e.sentence1!, e.sentence2!, { maxLength }))));
      encs.forEach((enc, j) => out.push({ ids: enc.ids, typeIds: enc.tokenTypeIds, position: 0, label: chunk[j]!.label }));
    }
    return out;
  }
  if (!HEAD_VARIANTS.includes(variant)) throw new Error(`unknown head variant "${variant}"; expected ${HEAD_VARIANTS.join(' or ')}`);
  const mask = tokenizer.specialIds.mask;
  if (mask === undefined || cls === undefined || sep === undefined) throw new Error('the prompt variant needs a tokenizer with [CLS], [SEP] and [MASK] tokens');
  // template → parts: literal text, a field, or the mask
  const parts: ({ kind: 'lit'; text: string } | { kind: 'field'; field: string } | { kind: 'mask' })[] = [];
  for (const piece of task.template.split(/(\{[a-z0-9]+\}|\[MASK\])/)) {
    if (piece === '[MASK]') parts.push({ kind: 'mask' });
    else if (/^\{[a-z0-9]+\}$/.test(piece)) parts.push({ kind: 'field', field: piece.slice(1, -1) });
    else if (piece.trim() !== '') parts.push({ kind: 'lit', text: piece.trim() });
  }
  const tok = async (text: string): Promise<Int32Array> => (await tokenizer.encode(text, null, { addSpecialTokens: false, truncation: false })).ids;
  const literal = new Map<string, Int32Array>();
  for (const p of parts) if (p.kind === 'lit' && !literal.has(p.text)) literal.set(p.text, await tok(p.text));
  const fixed = 2 + parts.reduce((a, p) => a + (p.kind === 'mask' ? 1 : p.kind === 'lit' ? literal.get(p.text)!.length : 0), 0);
  if (fixed >= maxLength) throw new Error(`template "${task.template}" alone needs ${fixed} tokens; maxLength ${maxLength} leaves no room for the text`);
  const out: EncodedExample[] = [];
  for (const e of examples) {
    const fieldIds = new Map<string, Int32Array>();
    for (const p of parts) if (p.kind === 'field') fieldIds.set(p.field, await tok(fieldText(e, p.field)));
    // truncate the longest field first, from its end, until everything fits
    let over = fixed + [...fieldIds.values()].reduce((a, f) => a + f.length, 0) - maxLength;
    while (over > 0) {
      let longest = '';
      for (const [f, ids] of fieldIds) if (longest === '' || ids.length > fieldIds.get(longest)!.length) longest = f;
      const ids = fieldIds.get(longest)!;
      fieldIds.set(longest, ids.subarray(0, ids.length - 1));
      over--;
    }
    const ids: number[] = [cls];
    let position = -1;
    for (const p of parts) {
      if (p.kind === 'mask') {
        position = ids.length;
        ids.push(mask);
      } else if (p.kind === 'lit') ids.push(...literal.get(p.text)!);
      else ids.push(...fieldIds.get(p.field)!);
    }
    ids.push(sep);
    out.push({ ids: Int32Array.from(ids), typeIds: new Int32Array(ids.length), position, label: e.label });
  }
  return out;
}

export interface TensorBatch {
  inputs: EncoderInputs;
  /** flat index b·T + position of each row's classified token */
  gatherIndex: tf.Tensor1D;
  labels: Int32Array;
  size: number;
}

/** A right-padded batch of the chosen examples (tensors the caller disposes with disposeBatch). */
export function makeBatch(encoded: readonly EncodedExample[], indices: ArrayLike<number>, padId = 0): TensorBatch {
  const n = indices.length;
  let len = 0;
  for (let i = 0; i < n; i++) len = Math.max(len, encoded[indices[i]!]!.ids.length);
  const ids = new Int32Array(n * len).fill(padId);
  const types = new Int32Array(n * len);
  const att = new Int32Array(n * len);
  const gather = new Int32Array(n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const e = encoded[indices[i]!]!;
    ids.set(e.ids, i * len);
    types.set(e.typeIds, i * len);
    att.fill(1, i * len, i * len + e.ids.length);
    gather[i] = i * len + e.position;
    labels[i] = e.label;
  }
  return {
    inputs: { inputIds: tf.tensor2d(ids, [n, len], 'int32'), attentionMask: tf.tensor2d(att, [n, len], 'int32'), tokenTypeIds: tf.tensor2d(types, [n, len], 'int32') },
    gatherIndex: tf.tensor1d(gather, 'int32'),
    labels,
    size: n,
  };
}

export function disposeBatch(b: TensorBatch): void {
  tf.dispose([b.inputs.inputIds, b.inputs.attentionMask, b.gatherIndex]);
  if (b.inputs.tokenTypeIds) b.inputs.tokenTypeIds.dispose();
}
