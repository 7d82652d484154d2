// Test helpers: reading PyTorch reference files (tools/fixtures) and comparing tensors.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, toFloat32, toInt32, type HostTensor } from '../io/safetensors.js';
import { workspaceRoot } from '../../../../tools/test-support/shared.js';

export const fixturesDir = path.join(workspaceRoot, 'tools', 'fixtures', 'data');

export interface Reference {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
  float(name: string): Float32Array;
  int2d(name: string): tf.Tensor2D;
  shape(name: string): number[];
}

export function readReference(file: string): Reference {
  const { tensors, metadata } = readSafetensors(file);
  const get = (name: string): HostTensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`${file}: no reference tensor "${name}"`);
    return t;
  };
  return {
    tensors,
    metadata,
    float: (name) => toFloat32(get(name)),
    int2d: (name) => tf.tensor2d(toInt32(get(name)), get(name).shape as [number, number], 'int32'),
    shape: (name) => get(name).shape,
  };
}

/** max |a - b| */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** max |a - b| / max |b|: relative error for a whole tensor (robust to entries near zero) */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  return maxAbsDiff(a, b) / (scale || 1);
}

/**
 * Runs tools/fixtures/reference_outputs.py (PyTorch transformers / sentence-transformers) on a model
 * folder for given inputs and reads the outputs it wrote; throws with Python's stderr on failure.
 */
export function runReferenceTool(python: string, tmp: string, modelDir: string, inputs: Record<string, unknown>, args: string[]): Reference {
  const inFile = path.join(tmp, `in-${path.basename(modelDir)}.json`);
  const outFile = path.join(tmp, `out-${path.basename(modelDir)}.safetensors`);
  fs.writeFileSync(inFile, JSON.stringify(inputs));
  const r = spawnSync(python, [path.join(workspaceRoot, 'tools/fixtures/reference_outputs.py'), '--model', modelDir, '--inputs', inFile, '--out', outFile, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reference_outputs.py failed (${r.status}): ${r.stderr}`);
  return readReference(outFile);
}
