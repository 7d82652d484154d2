// Model folders as benchmarks-mteb encoders for the apps: tensor-core's encoder adapter with the
// apps' error type. Commands receive a loader, so tests can pass a fake encoder.
import type { Encoder, TextRole } from '@prunekit/benchmarks-mteb';
import { ModelFolderError, openEncoder, readPrompts, resolveModelFolder } from '@prunekit/tensor-core';
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
  const rolePrompts = mtebRolePrompts(abs);
  return {
    name: enc.name,
    // the same weights evaluated with role prompts give other scores than before roles were applied
    fingerprint: rolePrompts ? `${enc.fingerprint}-roles` : enc.fingerprint,
    ...(rolePrompts ? { asymmetric: true } : {}),
    encode: (texts, role) => enc.encode(texts, role && rolePrompts ? rolePrompts[role] : {}),
    dispose: () => {
      void enc.dispose();
    },
  };
};

/**
 * The prompts a folder's sentence-transformers config gives queries and documents, chosen as MTEB
 * chooses them for a SentenceTransformer: the prompt named after the prompt type ("query";
 * "document", or the older "passage"), else the folder's default prompt. Null when the config names
 * neither "query" nor "document"/"passage" (the encoder is then symmetric).
 */
export function mtebRolePrompts(dir: string): Record<TextRole, { promptName?: string }> | null {
  const { prompts } = readPrompts(dir);
  const documentName = 'document' in prompts ? 'document' : 'passage' in prompts ? 'passage' : undefined;
  if (!('query' in prompts) && documentName === undefined) return null;
  return {
    query: 'query' in prompts ? { promptName: 'query' } : {},
    document: documentName !== undefined ? { promptName: documentName } : {},
  };
}
