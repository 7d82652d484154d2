// A model folder as an embedding encoder with the shape of benchmarks-mteb's `Encoder` interface
// ({ name, fingerprint, encode(texts) }), structurally: tensor-core does not import benchmarks-mteb.
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../backend.js';
import { ModelFolderError } from './load.js';
import { SentenceEncoder } from './encoder.js';

export interface EncoderAdapter {
  name: string;
  fingerprint: string;
  encode(texts: string[]): Promise<Float32Array[]>;
  dispose(): void;
}

export interface EncoderAdapterOptions {
  /** texts per forward pass (default 32) */
  batchSize?: number;
  /** name in results (default: the folder name) */
  name?: string;
  /** where backend warnings go */
  warn?: (line: string) => void;
}

/** The absolute folder when it exists and has a config.json; a ModelFolderError otherwise. */
export function resolveModelFolder(dir: string): string {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new ModelFolderError(dir, 'no such folder');
  if (!fs.existsSync(path.join(abs, 'config.json'))) throw new ModelFolderError(dir, 'not a model folder (no config.json)');
  return abs;
}

/** Loads a HF / sentence-transformers folder (its pooling and normalisation) as an encoder. */
export async function loadEncoderAdapter(dir: string, options: EncoderAdapterOptions = {}): Promise<EncoderAdapter> {
  const abs = resolveModelFolder(dir);
  await initBackend(options.warn ? { warn: options.warn } : {});
  const se = await SentenceEncoder.load(abs, options.name ? { name: options.name } : {});
  return {
    name: se.name,
    fingerprint: se.fingerprint,
    encode: (texts) => se.encode(texts, { batchSize: options.batchSize ?? 32 }),
    dispose: () => {
      se.model.dispose();
    },
  };
}
