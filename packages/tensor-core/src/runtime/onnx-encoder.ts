// Sentence embeddings from an exported ONNX folder through onnxruntime-node: the same tokenizer and
// length-sorted batching as the tfjs SentenceEncoder, the graph's own `sentence_embedding` output
// (pooling and normalisation are inside the graph). onnxruntime-node is imported only when an ONNX
// folder is opened, so tfjs-only users never load its native library.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { InferenceSession as OrtSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { readConfig, type EncoderConfig } from '../model/config.js';
import { encodeInBatches, resolveMaxLength } from '../model/batching.js';
import { readPrompts, selectPrompt, type PromptOptions } from '../model/encoder.js';
import { Tokenizer } from '../tokenizer/index.js';

export interface OnnxSessionOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice, one per core) */
  intraOpThreads?: number;
  /** onnxruntime graph optimisation level (default 'all') */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
}

export interface OnnxEncoderOptions extends OnnxSessionOptions {
  /** token limit per text (default as the tfjs encoder: sentence_bert_config.json, tokenizer, positions) */
  maxLength?: number;
  /** name reported in results (default: the folder name) */
  name?: string;
}

export interface OnnxEncodeOptions extends PromptOptions {
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface OnnxForwardOutput {
  /** [rows, seq, hidden] row-major */
  lastHiddenState: Float32Array;
  /** [rows, hidden] */
  sentenceEmbedding: Float32Array;
}

/** The ONNX model file of an exported folder, or null when the folder has none. */
export function onnxModelFile(dir: string): string | null {
  const file = path.join(dir, 'onnx', 'model.onnx');
  return fs.existsSync(file) ? file : null;
}

/** Opens an onnxruntime-node session (dynamic import: the native library loads only here). */
export async function openOnnxSession(file: string, options: OnnxSessionOptions = {}): Promise<OrtSession> {
  const ort = await import('onnxruntime-node');
  return ort.InferenceSession.create(file, {
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    ...(options.intraOpThreads !== undefined ? { intraOpNumThreads: options.intraOpThreads, interOpNumThreads: 1 } : {}),
  });
}

/** Runs an exported graph on int32 host arrays ([rows * seq] each). */
export async function runOnnx(session: OrtSession, rows: number, seq: number, inputIds: Int32Array, attentionMask: Int32Array, tokenTypeIds: Int32Array): Promise<OnnxForwardOutput> {
  const ort = await import('onnxruntime-node');
  const int64 = (a: Int32Array): OrtTensor => new ort.Tensor('int64', BigInt64Array.from(a, (v) => BigInt(v)), [rows, seq]);
  const feeds: Record<string, OrtTensor> = { input_ids: int64(inputIds), attention_mask: int64(attentionMask) };
  // decoder graphs have no token types
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = int64(tokenTypeIds);
  const result = await session.run(feeds);
  const last = result.last_hidden_state;
  const sentence = result.sentence_embedding;
  if (!last || !sentence) throw new Error(`the ONNX graph has no last_hidden_state / sentence_embedding outputs (got ${Object.keys(result).join(', ')})`);
  return { lastHiddenState: last.data as Float32Array, sentenceEmbedding: sentence.data as Float32Array };
}

export class OnnxSentenceEncoder {
  private cachedFingerprint: string | null = null;

  constructor(
    readonly session: OrtSession,
    readonly dir: string,
    readonly config: EncoderConfig,
    readonly tokenizer: Tokenizer,
    readonly maxLength: number,
    readonly name: string,
    /** sentence-transformers prompts by name (config_sentence_transformers.json, kept by the export) */
    readonly prompts: Readonly<Record<string, string>> = {},
    /** the prompt used when encode() names none (default_prompt_name) */
    readonly defaultPromptName: string | null = null,
  ) {}

  /** Loads a folder written by exportOnnx (or any folder with onnx/model.onnx of the same interface). */
  static async load(dir: string, options: OnnxEncoderOptions = {}): Promise<OnnxSentenceEncoder> {
    const file = onnxModelFile(dir);
    if (!file) throw new Error(`${path.join(dir, 'onnx', 'model.onnx')}: missing; not an ONNX export folder`);
    const config = readConfig(dir);
    const tokenizer = await Tokenizer.fromPretrained(dir);
    const session = await openOnnxSession(file, options);
    for (const name of ['input_ids', 'attention_mask', ...(config.family === 'decoder' ? [] : ['token_type_ids'])]) {
      if (!session.inputNames.includes(name)) throw new Error(`${file}: graph input "${name}" is missing (inputs: ${session.inputNames.join(', ')})`);
    }
    if (!session.outputNames.includes('sentence_embedding')) throw new Error(`${file}: graph output "sentence_embedding" is missing (outputs: ${session.outputNames.join(', ')}); export with prunekit export --format onnx`);
    const maxLength = resolveMaxLength(dir, tokenizer, config, options.maxLength);
    const { prompts, defaultPromptName } = readPrompts(dir);
    return new OnnxSentenceEncoder(session, dir, config, tokenizer, maxLength, options.name ?? path.basename(path.resolve(dir)), prompts, defaultPromptName);
  }

  /** The prompt prefixed to texts for encode options, as the tfjs SentenceEncoder picks it. */
  promptFor(options: PromptOptions): string {
    return selectPrompt(path.join(path.resolve(this.dir), 'config_sentence_transformers.json'), this.prompts, this.defaultPromptName, options);
  }

  /** sha256 of the graph and weight files plus the length limit (pooling is inside the graph). */
  get fingerprint(): string {
    if (this.cachedFingerprint === null) {
      const h = createHash('sha256');
      const onnxDir = path.join(this.dir, 'onnx');
      for (const f of fs.readdirSync(onnxDir).filter((n) => n.startsWith('model.onnx')).sort()) {
        h.update(`${f}:`);
        h.update(fs.readFileSync(path.join(onnxDir, f)));
      }
      const prompted = Object.keys(this.prompts).length > 0 ? [this.prompts, this.defaultPromptName] : [];
      h.update(JSON.stringify(['onnx', this.maxLength, ...prompted]));
      this.cachedFingerprint = h.digest('hex').slice(0, 16);
    }
    return this.cachedFingerprint;
  }

  /** Embeds texts; one Float32Array per text, in input order. */
  async encode(texts: string[], options: OnnxEncodeOptions = {}): Promise<Float32Array[]> {
    const padId = this.tokenizer.specialIds.pad ?? this.config.padTokenId;
    const prompt = this.promptFor(options);
    if (prompt !== '') texts = texts.map((t) => prompt + t);
    return encodeInBatches(this.tokenizer, texts, { maxLength: this.maxLength, padId, width: this.config.hiddenSize, ...options }, async (b) => {
      const out = await runOnnx(this.session, b.rows, b.seq, b.inputIds, b.attentionMask, b.tokenTypeIds);
      return out.sentenceEmbedding;
    });
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
