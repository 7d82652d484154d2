// One loader for whatever a user deploys: a model folder with safetensors weights runs on tfjs
// (SentenceEncoder), an exported ONNX folder (onnx/model.onnx, no safetensors) on onnxruntime-node.
// The result has the shape of benchmarks-mteb's Encoder plus dispose, so eval and embed take either.
import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../backend.js';
import { SentenceEncoder, type PromptOptions } from '../model/encoder.js';
import { OnnxSentenceEncoder, onnxModelFile, type OnnxSessionOptions } from './onnx-encoder.js';

export type EncoderRuntime = 'tfjs' | 'onnxruntime';

export interface OpenEncoderOptions extends OnnxSessionOptions {
  /** texts per forward pass (default 32) */
  batchSize?: number;
  /** name in results (default: the folder name) */
  name?: string;
  /** token limit per text (default: the folder's) */
  maxLength?: number;
  /** force a runtime; default: onnxruntime when the folder has onnx/model.onnx and no safetensors weights */
  runtime?: EncoderRuntime;
  /** where backend warnings go (tfjs) */
  warn?: (line: string) => void;
}

export interface OpenedEncoder {
  runtime: EncoderRuntime;
  name: string;
  fingerprint: string;
  /** embeddings in input order; a prompt (literal, or named in config_sentence_transformers.json) is prefixed to every text */
  encode(texts: string[], prompt?: PromptOptions): Promise<Float32Array[]>;
  /** the prompt encode() would prefix (throws for an unknown name, naming the file and the names it has) */
  promptFor(prompt: PromptOptions): string;
  dispose(): Promise<void>;
}

/** Which runtime a folder is for. */
export function folderRuntime(dir: string): EncoderRuntime {
  const hasWeights = fs.existsSync(path.join(dir, 'model.safetensors')) || fs.existsSync(path.join(dir, 'model.safetensors.index.json'));
  return !hasWeights && onnxModelFile(dir) !== null ? 'onnxruntime' : 'tfjs';
}

/** Opens a model folder (tfjs) or an ONNX export folder (onnxruntime-node) as a sentence encoder. */
export async function openEncoder(dir: string, options: OpenEncoderOptions = {}): Promise<OpenedEncoder> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: no such folder`);
  const runtime = options.runtime ?? folderRuntime(dir);
  const batchSize = options.batchSize ?? 32;
  const common = { ...(options.name ? { name: options.name } : {}), ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}) };
  if (runtime === 'onnxruntime') {
    const enc = await OnnxSentenceEncoder.load(dir, {
      ...common,
      ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
      ...(options.graphOptimizationLevel ? { graphOptimizationLevel: options.graphOptimizationLevel } : {}),
    });
    return {
      runtime, name: enc.name, fingerprint: enc.fingerprint,
      encode: (texts, prompt = {}) => enc.encode(texts, { ...prompt, batchSize }),
      promptFor: (prompt) => enc.promptFor(prompt),
      dispose: () => enc.dispose(),
    };
  }
  await initBackend(options.warn ? { warn: options.warn } : {});
  const enc = await SentenceEncoder.load(dir, common);
  return {
    runtime,
    name: enc.name,
    fingerprint: enc.fingerprint,
    encode: (texts, prompt = {}) => enc.encode(texts, { ...prompt, batchSize }),
    promptFor: (prompt) => enc.promptFor(prompt),
    dispose: () => {
      enc.dispose();
      return Promise.resolve();
    },
  };
}
