// Measured CPU encode time of a model's encoder forward (no head) on fixed batches, dense versus
// compacted, interleaved so both see the same machine load; fastest of the repeats per batch.
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderModel } from '@prunekit/tensor-core';
import { disposeBatch, makeBatch, type TokenizedSet } from './data.js';

export interface SpeedResult {
  batchSize: number;
  /** milliseconds per batch (fastest repeat, mean over batches) */
  denseMs: number;
  compactMs: number;
  /** denseMs / compactMs */
  speedup: number;
  /** 1 − compactMs / denseMs */
  timeReduction: number;
}

function timeForward(model: EncoderModel, set: TokenizedSet, idx: Int32Array, padId: number): number {
  const b = makeBatch(set, idx, padId);
  try {
    const t0 = performance.now();
    tf.tidy(() => {
      model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds }).lastHiddenState.dataSync();
    });
    return performance.now() - t0;
  } finally {
    disposeBatch(b);
  }
}

/**
 * Encode speed of `compacted` versus `dense` over `batches` batches of `batchSize` rows of `set`: each batch
 * is timed `repeats` times per model, alternating; a batch's time is its fastest repeat (the least
 * disturbed by other load on the machine) and a model's time the mean over batches.
 */
export function measureSpeed(dense: EncoderModel, compacted: EncoderModel, set: TokenizedSet, padId: number, options: { batchSize: number; batches?: number; repeats?: number }): SpeedResult {
  const nb = Math.max(1, Math.min(options.batches ?? 8, Math.floor(set.size / options.batchSize) || 1));
  const repeats = options.repeats ?? 5;
  const idx = Array.from({ length: nb }, (_, k) => Int32Array.from({ length: Math.min(options.batchSize, set.size) }, (_, i) => (k * options.batchSize + i) % set.size));
  // warm-up
  timeForward(dense, set, idx[0]!, padId);
  timeForward(compacted, set, idx[0]!, padId);
  let d = 0;
  let c = 0;
  for (const i of idx) {
    let bd = Infinity;
    let bc = Infinity;
    for (let r = 0; r < repeats; r++) {
      bd = Math.min(bd, timeForward(dense, set, i, padId));
      bc = Math.min(bc, timeForward(compacted, set, i, padId));
    }
    d += bd / idx.length;
    c += bc / idx.length;
  }
  return { batchSize: options.batchSize, denseMs: d, compactMs: c, speedup: d / c, timeReduction: 1 - c / d };
}
