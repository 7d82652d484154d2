// The InfoNCE objective GAPrune's statistics are taken under: cosine similarity × 20 between pooled
// query embeddings and every positive and hard negative of the batch (in-batch + hard negatives).
import * as tf from '@tensorflow/tfjs-core';
import { infoNCELoss, pool, type EncoderInputs, type EncoderModel, type PoolingMode, type Tokenizer, type WeightView } from '@prunekit/tensor-core';
import type { Triplet } from './triplets.js';

export interface TripletInputs {
  query: EncoderInputs;
  positive: EncoderInputs;
  negative?: EncoderInputs;
}

async function encodeTexts(tokenizer: Tokenizer, texts: string[], maxLength: number): Promise<EncoderInputs> {
  const b = await tokenizer.encodeBatch(texts, { maxLength, truncation: true, padding: 'longest' });
  return {
    inputIds: tf.tensor2d(b.inputIds, b.shape, 'int32'),
    attentionMask: tf.tensor2d(b.attentionMask, b.shape, 'int32'),
    tokenTypeIds: tf.tensor2d(b.tokenTypeIds, b.shape, 'int32'),
  };
}

/** Tokenises a batch of triplets (hard negatives only when every triplet has one). Dispose with disposeTripletInputs. */
export async function tokenizeTriplets(tokenizer: Tokenizer, triplets: readonly Triplet[], maxLength: number): Promise<TripletInputs> {
  const query = await encodeTexts(tokenizer, triplets.map((t) => t.query), maxLength);
  const positive = await encodeTexts(tokenizer, triplets.map((t) => t.positive), maxLength);
  const negs = triplets.map((t) => t.negative);
  if (negs.every((n): n is string => n !== undefined)) return { query, positive, negative: await encodeTexts(tokenizer, negs, maxLength) };
  return { query, positive };
}

export function disposeTripletInputs(b: TripletInputs): void {
  for (const part of [b.query, b.positive, b.negative]) if (part) tf.dispose([part.inputIds, part.attentionMask, ...(part.tokenTypeIds ? [part.tokenTypeIds] : [])]);
}

/** The similarity scale of GAPrune's InfoNCE (cosine × 20). */
export const INFONCE_SCALE = 20;

/**
 * InfoNCE (scale 20) over pooled embeddings of a triplet batch, through an optional weight view.
 * With a dropoutSeed the forward runs in training mode (dropout on, seeded); otherwise eval mode.
 */
export function tripletInfoNCE(model: EncoderModel, pooling: PoolingMode, batch: TripletInputs, view?: WeightView, scale = INFONCE_SCALE, dropoutSeed?: number): tf.Scalar {
  return tf.tidy(() => {
    let part = 0;
    const embed = (x: EncoderInputs): tf.Tensor2D => {
      const opts = { ...(view ? { view } : {}), ...(dropoutSeed === undefined ? {} : { training: true, dropoutSeed: dropoutSeed * 3 + part++ }) };
      return pool(model.forward(x, opts).lastHiddenState, x.attentionMask, pooling);
    };
    const q = embed(batch.query);
    const p = embed(batch.positive);
    return batch.negative ? infoNCELoss(q, p, embed(batch.negative), { scale }) : infoNCELoss(q, p, undefined, { scale });
  });
}
