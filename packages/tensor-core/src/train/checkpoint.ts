// One checkpoint file format for every resumable loop (the trainer, gradient statistics): a
// safetensors file of float32 tensors plus string metadata, written atomically (temp file, fsync,
// rename: writeSafetensors), tagged with a format name so a file of another kind is refused.
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { SafetensorsFile, toFloat32, writeSafetensors, type HostTensor } from '../io/safetensors.js';

export interface CheckpointData {
  tensors: Map<string, HostTensor>;
  /** string metadata (the format tag is under "format") */
  meta: Record<string, string>;
}

/** A float32 host copy of a tensor (synchronous read). */
export function hostTensor(t: tf.Tensor): HostTensor {
  return { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.dataSync()) };
}

/** Writes `tensors` and `meta` (plus `format`) to `file` atomically, creating its folder. */
export function writeCheckpoint(file: string, format: string, tensors: ReadonlyMap<string, HostTensor>, meta: Record<string, string> = {}): void {
  writeSafetensors(file, new Map(tensors), { ...meta, format });
}

/**
 * Reads a checkpoint written by writeCheckpoint with the same `format`; null when `file` does not
 * exist. A file of another format is an error naming both.
 */
export function readCheckpoint(file: string, format: string): CheckpointData | null {
  if (!fs.existsSync(file)) return null;
  const f = SafetensorsFile.open(file);
  try {
    const meta = f.metadata;
    if (meta.format !== format) throw new Error(`${file}: not a ${format} checkpoint (its metadata "format" is ${meta.format ?? 'missing'}); delete it or choose another work folder`);
    const tensors = new Map<string, HostTensor>();
    for (const name of f.names()) tensors.set(name, f.read(name));
    return { tensors, meta: { ...meta } };
  } finally {
    f.close();
  }
}

/** A tf tensor from a checkpoint tensor (float32), or an error naming the file and tensor. */
export function checkpointTensor(data: CheckpointData, name: string, file: string): tf.Tensor {
  const t = data.tensors.get(name);
  if (!t) throw new Error(`${file}: the checkpoint has no tensor "${name}"`);
  return tf.tensor(toFloat32(t, name), t.shape, 'float32');
}
