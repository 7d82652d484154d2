// Measured CPU encode time of a model's encoder forward (no head) on fixed batches, dense versus
// compacted, interleaved so both see the same machine load; medians of the repeats.
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderModel } from '@prunekit/tensor-core';
import { disposeBatch, makeBatch, type TokenizedSet } from './data.js';

export interface SpeedResult {
  batchSize: number;
  /** median milliseconds per batch */
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

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Encode speed of `compacted` versus `dense` over batches of `batchSize` rows of `set` (`batches` batches, `repeats` passes). */
export function measureSpeed(dense: EncoderModel, compacted: EncoderModel, set: TokenizedSet, padId: number, options: { batchSize: number; batches?: number; repeats?: number }): SpeedResult {
  const nb = Math.max(1, Math.min(options.batches ?? 8, Math.floor(set.size / options.batchSize) || 1));
  const repeats = options.repeats ?? 3;
  const idx = Array.from({ length: nb }, (_, k) => Int32Array.from({ length: Math.min(options.batchSize, set.size) }, (_, i) => (k * options.batchSize + i) % set.size));
  // warm-up
  timeForward(dense, set, idx[0]!, padId);
  timeForward(compacted, set, idx[0]!, padId);
  const d: number[] = [];
  const c: number[] = [];
  for (let r = 0; r < repeats; r++) {
    for (const i of idx) {
      d.push(timeForward(dense, set, i, padId));
      c.push(timeForward(compacted, set, i, padId));
    }
  }
  const denseMs = median(d);
  const compactMs = median(c);
  return { batchSize: options.batchSize, denseMs, compactMs, speedup: denseMs / compactMs, timeReduction: 1 - compactMs / denseMs };
}
