// Measured CPU encode time of a model's encoder forward (no head) on fixed batches, dense versus
// compacted, interleaved so both see the same machine load; fastest of the repeats per batch.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { buildOnnxModel, openOnnxSession, runOnnx, type EncoderModel } from '@prunekit/tensor-core';
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

type OrtSession = Awaited<ReturnType<typeof openOnnxSession>>;

export interface OnnxSpeedResult extends SpeedResult {
  /** onnxruntime-node intra-op threads */
  threads: number;
}

/**
 * The same comparison in onnxruntime-node: both encoders exported with tensor-core's ONNX exporter (into a
 * temporary folder, removed afterwards), sessions with graph optimisation 'all', timed like measureSpeed
 * (interleaved repeats, fastest per batch, mean over batches) on the same rows.
 */
export async function measureOnnxSpeed(dense: EncoderModel, compacted: EncoderModel, set: TokenizedSet, padId: number, options: { batchSize: number; batches?: number; repeats?: number; threads?: number }): Promise<OnnxSpeedResult> {
  const threads = options.threads ?? 2;
  const nb = Math.max(1, Math.min(options.batches ?? 8, Math.floor(set.size / options.batchSize) || 1));
  const repeats = options.repeats ?? 5;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finegates-onnx-speed-'));
  try {
    const sessions: OrtSession[] = [];
    for (const [i, m] of [dense, compacted].entries()) {
      const file = path.join(dir, `model-${i}.onnx`);
      fs.writeFileSync(file, buildOnnxModel(m, { mode: 'cls', normalize: false }).serialized.model);
      sessions.push(await openOnnxSession(file, { intraOpThreads: threads }));
    }
    const batches = Array.from({ length: nb }, (_, k) => hostBatch(set, Int32Array.from({ length: Math.min(options.batchSize, set.size) }, (_, i) => (k * options.batchSize + i) % set.size), padId));
    const time = async (s: OrtSession, b: HostBatch): Promise<number> => {
      const t0 = performance.now();
      await runOnnx(s, b.rows, b.seq, b.ids, b.mask, b.types);
      return performance.now() - t0;
    };
    await time(sessions[0]!, batches[0]!);
    await time(sessions[1]!, batches[0]!);
    let d = 0;
    let c = 0;
    for (const b of batches) {
      let bd = Infinity;
      let bc = Infinity;
      for (let r = 0; r < repeats; r++) {
        bd = Math.min(bd, await time(sessions[0]!, b));
        bc = Math.min(bc, await time(sessions[1]!, b));
      }
      d += bd / batches.length;
      c += bc / batches.length;
    }
    for (const s of sessions) await s.release();
    return { batchSize: options.batchSize, denseMs: d, compactMs: c, speedup: d / c, timeReduction: 1 - c / d, threads };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface HostBatch {
  rows: number;
  seq: number;
  ids: Int32Array;
  mask: Int32Array;
  types: Int32Array;
}

/** Rows `idx` of a set as host arrays padded to their longest row (makeBatch's layout, without tensors). */
function hostBatch(set: TokenizedSet, idx: Int32Array, padId: number): HostBatch {
  const seq = Math.max(...Array.from(idx, (i) => set.ids[i]!.length));
  const ids = new Int32Array(idx.length * seq).fill(padId);
  const mask = new Int32Array(idx.length * seq);
  const types = new Int32Array(idx.length * seq);
  idx.forEach((row, r) => {
    ids.set(set.ids[row]!, r * seq);
    types.set(set.typeIds[row]!, r * seq);
    mask.fill(1, r * seq, r * seq + set.ids[row]!.length);
  });
  return { rows: idx.length, seq, ids, mask, types };
}
