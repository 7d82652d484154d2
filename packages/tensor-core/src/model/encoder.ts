// Sentence embeddings from a model folder: tokenizer + encoder + sentence-transformers pooling,
// batched with dynamic padding over length-sorted batches (short texts are not padded to the
// longest text of the whole input), results returned in input order.
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { Tokenizer } from '../tokenizer/index.js';
import { loadModel } from './load.js';
import type { EncoderModel, WeightView } from './model.js';
import { pool, readPoolingConfig, type PoolingConfig } from './pooling.js';
import { l2Normalize } from '../train/losses.js';
import { modelFingerprint } from './fingerprint.js';
import { encodeInBatches, resolveMaxLength } from './batching.js';

export interface SentenceEncodeOptions {
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
  ) {}

  /** Loads a HF / sentence-transformers model folder. */
  static async load(dir: string, options: SentenceEncoderOptions = {}): Promise<SentenceEncoder> {
    const tokenizer = await Tokenizer.fromPretrained(dir);
    const model = loadModel(dir, { encoderOnly: true });
    const pooling = options.pooling ?? readPoolingConfig(dir);
    const maxLength = resolveMaxLength(dir, tokenizer, model.config, options.maxLength);
    return new SentenceEncoder(model, tokenizer, pooling, maxLength, options.name ?? path.basename(path.resolve(dir)));
  }

  /** Identifies weights + pooling + length limit (for embedding caches). */
  get fingerprint(): string {
    if (this.cachedFingerprint === null) {
      const h = createHash('sha256');
      h.update(modelFingerprint(this.model));
      h.update(JSON.stringify([this.pooling, this.maxLength]));
      this.cachedFingerprint = h.digest('hex').slice(0, 16);
    }
    return this.cachedFingerprint;
  }

  /** Embeds texts; one Float32Array per text, in input order. */
  async encode(texts: string[], options: SentenceEncodeOptions = {}): Promise<Float32Array[]> {
    const pad = this.tokenizer.specialIds.pad ?? this.model.config.padTokenId;
    const forwardOptions = options.view ? { view: options.view } : {};
    return encodeInBatches(this.tokenizer, texts, { maxLength: this.maxLength, padId: pad, width: this.model.config.hiddenSize, ...options }, async (batch) => {
      const emb = tf.tidy(() => {
        const inputIds = tf.tensor2d(batch.inputIds, [batch.rows, batch.seq], 'int32');
        const attentionMask = tf.tensor2d(batch.attentionMask, [batch.rows, batch.seq], 'int32');
        const tokenTypeIds = tf.tensor2d(batch.tokenTypeIds, [batch.rows, batch.seq], 'int32');
        const h = this.model.forward({ inputIds, attentionMask, tokenTypeIds }, forwardOptions).lastHiddenState;
        const pooled = pool(h, attentionMask, this.pooling.mode);
        return this.pooling.normalize ? (l2Normalize(pooled) as tf.Tensor2D) : pooled;
      });
      const data = (await emb.data()) as Float32Array;
      emb.dispose();
      return data;
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}
