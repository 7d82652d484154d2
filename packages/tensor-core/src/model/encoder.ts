// Sentence embeddings from a model folder: tokenizer + encoder + sentence-transformers pooling,
// batched with dynamic padding over length-sorted batches (short texts are not padded to the
// longest text of the whole input), results returned in input order.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { Tokenizer } from '../tokenizer/index.js';
import { loadModel, ModelFolderError } from './load.js';
import { readConfig } from './config.js';
import type { EncoderModel, WeightView } from './model.js';
import { pool, readPoolingConfig, type PoolingConfig } from './pooling.js';
import { l2Normalize } from '../train/losses.js';
import { modelFingerprint } from './fingerprint.js';
import { architectureOf } from './config.js';

/** prompts and default_prompt_name of config_sentence_transformers.json (none when the file is absent). */
export function readPrompts(dir: string): { prompts: Record<string, string>; defaultPromptName: string | null } {
  const file = path.join(dir, 'config_sentence_transformers.json');
  if (!fs.existsSync(file)) return { prompts: {}, defaultPromptName: null };
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const o = (raw ?? {}) as { prompts?: unknown; default_prompt_name?: unknown };
  const prompts: Record<string, string> = {};
  if (o.prompts !== undefined && o.prompts !== null) {
    if (typeof o.prompts !== 'object' || Array.isArray(o.prompts)) throw new Error(`${file}: field "prompts" must be an object {name: prompt text}`);
    for (const [k, v] of Object.entries(o.prompts as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new Error(`${file}: field "prompts"."${k}" is ${JSON.stringify(v)}; expected a string`);
      prompts[k] = v;
    }
  }
  const def = o.default_prompt_name ?? null;
  if (def !== null && (typeof def !== 'string' || !(def in prompts))) throw new Error(`${file}: field "default_prompt_name" is ${JSON.stringify(def)}; expected null or one of the prompt names`);
  return { prompts, defaultPromptName: def };
}

/** Which prompt to prefix texts with: a literal `prompt`, or `promptName` from config_sentence_transformers.json. */
export interface PromptOptions {
  /** a prompt from the folder's config_sentence_transformers.json "prompts" (e.g. "query"), prefixed to every text */
  promptName?: string;
  /** a literal prompt prefixed to every text (overrides promptName) */
  prompt?: string;
}

/**
 * The prompt sentence-transformers' encode(prompt=..., prompt_name=...) would prefix: the literal prompt, else
 * the named one, else default_prompt_name's, else none. An unknown name is an error naming `file` and the names it defines.
 */
export function selectPrompt(file: string, prompts: Readonly<Record<string, string>>, defaultPromptName: string | null, options: PromptOptions): string {
  if (options.prompt !== undefined) return options.prompt;
  const name = options.promptName ?? defaultPromptName;
  if (name === null) return '';
  const p = prompts[name];
  if (p === undefined) {
    const names = Object.keys(prompts).map((k) => `"${k}"`).join(', ');
    throw new Error(`no prompt named "${name}" in ${file}: ${fs.existsSync(file) ? `it defines ${names || 'none'}` : 'the folder has no such file (no prompts)'}`);
  }
  return p;
}

export interface SentenceEncodeOptions extends PromptOptions {
  /** texts per forward pass (default 32) */
  batchSize?: number;
  /** called after each batch with (texts done, total) */
  onProgress?: (done: number, total: number) => void;
  /** parameter source (e.g. a masked view); default: the model's weights */
  view?: WeightView;
}

export interface SentenceEncoderOptions {
  /** overrides the folder's sentence-transformers pooling (default: mean, no normalisation) */
  pooling?: PoolingConfig;
  /** token limit per text (default: sentence_bert_config.json max_seq_length, else the tokenizer's) */
  maxLength?: number;
  /** name reported in results (default: the folder name) */
  name?: string;
}

export class SentenceEncoder {
  private cachedFingerprint: string | null = null;

  constructor(
    readonly model: EncoderModel,
    readonly tokenizer: Tokenizer,
    readonly pooling: PoolingConfig,
    readonly maxLength: number,
    readonly name: string,
    /** sentence-transformers prompts by name (config_sentence_transformers.json), e.g. {query: "Instruct: ...\nQuery: "} */
    readonly prompts: Readonly<Record<string, string>> = {},
    /** the prompt used when encode() names none (default_prompt_name) */
    readonly defaultPromptName: string | null = null,
    /** where the prompts come from (named in errors) */
    readonly promptsFile = 'config_sentence_transformers.json',
  ) {}

  /** Loads a HF / sentence-transformers model folder. */
  static async load(dir: string, options: SentenceEncoderOptions = {}): Promise<SentenceEncoder> {
    // the model folder and config.json first: an empty folder is reported as "config.json missing"
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelFolderError(dir, 'not a folder');
    readConfig(dir);
    const tokenizer = await Tokenizer.fromPretrained(dir);
    const model = loadModel(dir, { encoderOnly: true });
    checkVocab(tokenizer, model, dir);
    const pooling = options.pooling ?? readPoolingConfig(dir, { mode: architectureOf(model.config).defaultPooling, normalize: false });
    let maxLength = options.maxLength ?? tokenizer.modelMaxLength;
    const stConfig = path.join(dir, 'sentence_bert_config.json');
    if (options.maxLength === undefined && fs.existsSync(stConfig)) {
      const st = JSON.parse(fs.readFileSync(stConfig, 'utf8')) as { max_seq_length?: number };
      if (typeof st.max_seq_length === 'number') maxLength = Math.min(st.max_seq_length, tokenizer.modelMaxLength);
    }
    // RoBERTa-style position ids start after padding_idx; BERT and RoPE decoders count from 0
    const positionOffset = model.config.modelType === 'roberta' || model.config.modelType === 'xlm-roberta' ? model.config.padTokenId + 1 : 0;
    maxLength = Math.min(maxLength, model.config.maxPositionEmbeddings - positionOffset);
    const { prompts, defaultPromptName } = readPrompts(dir);
    return new SentenceEncoder(model, tokenizer, pooling, maxLength, options.name ?? path.basename(path.resolve(dir)), prompts, defaultPromptName, path.join(path.resolve(dir), 'config_sentence_transformers.json'));
  }

  /** The prompt prefixed to texts for encode options (none when neither names one and there is no default). */
  promptFor(options: PromptOptions): string {
    const prompt = selectPrompt(this.promptsFile, this.prompts, this.defaultPromptName, options);
    if (prompt !== '') checkIncludePrompt(path.dirname(this.promptsFile), this.pooling);
    return prompt;
  }

  /** Identifies weights + pooling + length limit (for embedding caches). */
  get fingerprint(): string {
    if (this.cachedFingerprint === null) {
      const h = createHash('sha256');
      h.update(modelFingerprint(this.model));
      const prompted = Object.keys(this.prompts).length > 0 ? [this.prompts, this.defaultPromptName] : [];
      h.update(JSON.stringify([this.pooling, this.maxLength, ...prompted]));
      this.cachedFingerprint = h.digest('hex').slice(0, 16);
    }
    return this.cachedFingerprint;
  }

  /** Embeds texts; one Float32Array per text, in input order. */
  async encode(texts: string[], options: SentenceEncodeOptions = {}): Promise<Float32Array[]> {
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer (got ${batchSize})`);
    const n = texts.length;
    const out: Float32Array[] = new Array<Float32Array>(n);
    if (n === 0) return out;
    const prompt = this.promptFor(options);
    if (prompt !== '') texts = texts.map((t) => prompt + t);
    // tokenise everything once (unpadded rows), then batch by length
    const rows: { ids: Int32Array; types: Int32Array }[] = new Array<{ ids: Int32Array; types: Int32Array }>(n);
    const chunk = 1024;
    for (let start = 0; start < n; start += chunk) {
      const enc = await this.tokenizer.encodeBatch(texts.slice(start, start + chunk), { maxLength: this.maxLength, truncation: true, padding: 'longest' });
      for (let i = 0; i < enc.batchSize; i++) {
        const len = enc.lengths[i]!;
        // the tokenizer pads on its own side; take the real tokens
        const off = i * enc.seqLength + (this.tokenizer.paddingSide === 'left' ? enc.seqLength - len : 0);
        rows[start + i] = { ids: enc.inputIds.slice(off, off + len), types: enc.tokenTypeIds.slice(off, off + len) };
      }
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rows[b]!.ids.length - rows[a]!.ids.length || a - b);
    // padded positions are masked, so a model without a pad token pads with id 0
    const pad = this.tokenizer.specialIds.pad ?? Math.max(this.model.config.padTokenId, 0);
    const width = this.model.config.hiddenSize;
    // decoders pad on the tokenizer's side (sentence-transformers does; Qwen3-Embedding pads left)
    const left = this.model.config.family === 'decoder' && this.tokenizer.paddingSide === 'left';
    for (let b = 0; b < n; b += batchSize) {
      const idx = order.slice(b, b + batchSize);
      const seq = rows[idx[0]!]!.ids.length;
      const ids = new Int32Array(idx.length * seq).fill(pad);
      const mask = new Int32Array(idx.length * seq);
      const types = new Int32Array(idx.length * seq);
      idx.forEach((r, i) => {
        const row = rows[r]!;
        const at = i * seq + (left ? seq - row.ids.length : 0);
        ids.set(row.ids, at);
        types.set(row.types, at);
        mask.fill(1, at, at + row.ids.length);
      });
      const emb = tf.tidy(() => {
        const inputIds = tf.tensor2d(ids, [idx.length, seq], 'int32');
        const attentionMask = tf.tensor2d(mask, [idx.length, seq], 'int32');
        const tokenTypeIds = tf.tensor2d(types, [idx.length, seq], 'int32');
        const forwardOptions = options.view ? { view: options.view } : {};
        const h = this.model.forward({ inputIds, attentionMask, tokenTypeIds }, forwardOptions).lastHiddenState;
        const pooled = pool(h, attentionMask, this.pooling.mode);
        return this.pooling.normalize ? (l2Normalize(pooled) as tf.Tensor2D) : pooled;
      });
      const data = (await emb.data()) as Float32Array;
      emb.dispose();
      idx.forEach((r, i) => {
        out[r] = data.slice(i * width, (i + 1) * width);
      });
      options.onProgress?.(Math.min(b + batchSize, n), n);
    }
    return out;
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * sentence-transformers pools over the prompt's tokens too unless 1_Pooling/config.json says
 * "include_prompt": false; that changes mean and max pooling, which prunekit does not reproduce: refuse a
 * prompt there.
 * (cls and last-token pooling read one token, the same either way.)
 */
export function checkIncludePrompt(dir: string, pooling: PoolingConfig): void {
  if (pooling.mode === 'cls' || pooling.mode === 'lasttoken') return;
  const file = path.join(dir, '1_Pooling', 'config.json');
  if (!fs.existsSync(file)) return;
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as { include_prompt?: unknown };
  if (c.include_prompt === false) throw new Error(`${file}: field "include_prompt" is false with ${pooling.mode} pooling (prompt tokens left out of the pooling) is not supported; prunekit pools over every token`);
}

/** A tokenizer whose ids run past the embedding rows would fail deep inside a gather: say so at load time. */
function checkVocab(tokenizer: Tokenizer, model: EncoderModel, dir: string): void {
  if (tokenizer.vocabSize > model.config.vocabSize) {
    model.dispose();
    throw new ModelFolderError(dir, `the tokenizer has ${tokenizer.vocabSize} tokens but the word embeddings have ${model.config.vocabSize} rows (config.json vocab_size); the tokenizer does not belong to these weights`);
  }
}
