// Batching shared by every sentence encoder (tfjs and onnxruntime): tokenise all texts once, sort
// by length so that a batch is padded only to its own longest text, run each batch, and return the
// embeddings in input order. Also the token limit of a folder, as sentence-transformers derives it.
import fs from 'node:fs';
import path from 'node:path';
import type { Tokenizer } from '../tokenizer/index.js';
import type { EncoderConfig } from './config.js';

export interface PaddedBatch {
  rows: number;
  seq: number;
  /** [rows * seq] row-major; padding positions hold the pad id, mask 0 and type 0 */
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
}

export interface BatchingOptions {
  maxLength: number;
  padId: number;
  /** embedding width */
  width: number;
  /** texts per batch (default 32) */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Runs `embed` over length-sorted padded batches; `embed` returns [rows * width] embeddings. */
export async function encodeInBatches(tokenizer: Tokenizer, texts: string[], options: BatchingOptions, embed: (batch: PaddedBatch) => Promise<Float32Array>): Promise<Float32Array[]> {
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer (got ${batchSize})`);
  const n = texts.length;
  const out: Float32Array[] = new Array<Float32Array>(n);
  if (n === 0) return out;
  // tokenise everything once (unpadded rows), then batch by length
  const rows: { ids: Int32Array; types: Int32Array }[] = new Array<{ ids: Int32Array; types: Int32Array }>(n);
  const chunk = 1024;
  for (let start = 0; start < n; start += chunk) {
    const enc = await tokenizer.encodeBatch(texts.slice(start, start + chunk), { maxLength: options.maxLength, truncation: true, padding: 'longest' });
    for (let i = 0; i < enc.batchSize; i++) {
      const len = enc.lengths[i]!;
      // a left-padding tokenizer puts the row's tokens at the end
      const off = i * enc.seqLength + (enc.attentionMask[i * enc.seqLength] === 0 ? enc.seqLength - len : 0);
      rows[start + i] = { ids: enc.inputIds.slice(off, off + len), types: enc.tokenTypeIds.slice(off, off + len) };
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rows[b]!.ids.length - rows[a]!.ids.length || a - b);
  const width = options.width;
  for (let b = 0; b < n; b += batchSize) {
    const idx = order.slice(b, b + batchSize);
    const seq = rows[idx[0]!]!.ids.length;
    const inputIds = new Int32Array(idx.length * seq).fill(options.padId);
    const attentionMask = new Int32Array(idx.length * seq);
    const tokenTypeIds = new Int32Array(idx.length * seq);
    idx.forEach((r, i) => {
      const row = rows[r]!;
      inputIds.set(row.ids, i * seq);
      tokenTypeIds.set(row.types, i * seq);
      attentionMask.fill(1, i * seq, i * seq + row.ids.length);
    });
    const data = await embed({ rows: idx.length, seq, inputIds, attentionMask, tokenTypeIds });
    if (data.length !== idx.length * width) throw new Error(`encoder returned ${data.length} values for ${idx.length} texts of width ${width}`);
    idx.forEach((r, i) => {
      out[r] = data.slice(i * width, (i + 1) * width);
    });
    options.onProgress?.(Math.min(b + batchSize, n), n);
  }
  return out;
}

/**
 * Token limit per text: `explicit`, else sentence_bert_config.json's max_seq_length (capped by the tokenizer's), else
 * the tokenizer's, and never past the position table (RoBERTa-family positions start after padding).
 */
export function resolveMaxLength(dir: string, tokenizer: Tokenizer, config: EncoderConfig, explicit?: number): number {
  let maxLength = explicit ?? tokenizer.modelMaxLength;
  const stConfig = path.join(dir, 'sentence_bert_config.json');
  if (explicit === undefined && fs.existsSync(stConfig)) {
    const st = JSON.parse(fs.readFileSync(stConfig, 'utf8')) as { max_seq_length?: number };
    if (typeof st.max_seq_length === 'number') maxLength = Math.min(st.max_seq_length, tokenizer.modelMaxLength);
  }
  // RoBERTa/XLM-R positions start after padding_idx; BERT's and the decoders' at 0 (as SentenceEncoder)
  const positionOffset = config.modelType === 'roberta' || config.modelType === 'xlm-roberta' ? config.padTokenId + 1 : 0;
  return Math.min(maxLength, config.maxPositionEmbeddings - positionOffset);
}
