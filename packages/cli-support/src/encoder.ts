// Model folders as benchmarks-mteb encoders for the apps: tensor-core's encoder adapter with the
// apps' error type. Commands receive a loader, so tests can pass a fake encoder.
import type { Encoder } from '@prunekit/benchmarks-mteb';
import { ModelFolderError, openEncoder, resolveModelFolder } from '@prunekit/tensor-core';
import { CliError } from './errors.js';

export interface LoadEncoderOptions {
  /** Texts per forward pass. */
  batchSize: number;
  /** Name in results (default: the folder name). */
  name?: string;
  /** Where backend warnings go. */
  warn: (line: string) => void;
}

export type LoadedEncoder = Encoder & { dispose?: () => void };
export type EncoderLoader = (dir: string, options: LoadEncoderOptions) => Promise<LoadedEncoder>;

/** Checks that a model folder exists and has a config.json (a CliError naming the flag instead of a stack). */
export function checkModelDir(dir: string, flag = '--model'): string {
  try {
    return resolveModelFolder(dir);
  } catch (e) {
    throw e instanceof ModelFolderError ? new CliError(`${flag} ${e.message}`) : e;
  }
}

/**
 * Loads a HF / sentence-transformers folder on the native backend (or the pure-JS fallback), or an
 * ONNX export folder (onnx/model.onnx, no safetensors) on onnxruntime-node.
 */
export const loadModelEncoder: EncoderLoader = async (dir, options) => {
  const abs = checkModelDir(dir);
  const enc = await openEncoder(abs, { batchSize: options.batchSize, warn: options.warn, ...(options.name ? { name: options.name } : {}) });
  return {
    name: enc.name,
    fingerprint: enc.fingerprint,
    encode: (texts) => enc.encode(texts),
    dispose: () => {
      void enc.dispose();
    },
  };
};
