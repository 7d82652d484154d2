// Loading and saving Hugging Face model folders.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { SafetensorsFile, toInt32, writeSafetensors, type HostTensor } from '../io/safetensors.js';
import { writeDirAtomic, writeJsonAtomic } from '../io/atomic.js';
import { headQkDims, headVDims, readConfig, RESIDUAL_READERS, type EncoderConfig } from './config.js';
import { EncoderModel } from './model.js';
import { decoderNames, detectPrefix, embeddingNames, headNames, layerNames, poolerNames } from './names.js';

export class ModelFolderError extends Error {
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'ModelFolderError';
  }
}

/** The safetensors files of a folder: model.safetensors, or the shards named by model.safetensors.index.json. */
export function weightFiles(dir: string): string[] {
  const single = path.join(dir, 'model.safetensors');
  if (fs.existsSync(single)) return [single];
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  if (fs.existsSync(indexFile)) {
    let index: unknown;
    try {
      index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
    } catch (err) {
      throw new ModelFolderError(indexFile, `not valid JSON (${(err as Error).message})`);
    }
    const map = (index as { weight_map?: unknown }).weight_map;
    if (typeof map !== 'object' || map === null) throw new ModelFolderError(indexFile, 'field "weight_map" is missing (expected {tensor name: shard file})');
    const shards = [...new Set(Object.values(map as Record<string, unknown>))];
    return shards.map((s) => {
      if (typeof s !== 'string' || s.includes('/') || s.includes('\\')) throw new ModelFolderError(indexFile, `field "weight_map" names shard ${JSON.stringify(s)}; expected a file name in the folder`);
      const p = path.join(dir, s);
      if (!fs.existsSync(p)) throw new ModelFolderError(indexFile, `names shard "${s}", which is missing from ${dir}`);
      return p;
    });
  }
  const pickles = ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack'].filter((f) => fs.existsSync(path.join(dir, f)));
  if (pickles.length > 0) {
    throw new ModelFolderError(
      path.join(dir, pickles[0]!),
      'prunekit reads only safetensors (it never unpickles). Convert once in Python: ' +
        '`AutoModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)` writes model.safetensors.',
    );
  }
  throw new ModelFolderError(dir, 'no weights: expected model.safetensors or model.safetensors.index.json with its shards');
}

export interface LoadOptions {
  /** keep only the encoder (drop MLM / classification heads); default false */
  encoderOnly?: boolean;
}

/** Loads config.json and the weights of a Hugging Face BERT / RoBERTa / XLM-R folder. */
export function loadModel(dir: string, options: LoadOptions = {}): EncoderModel {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelFolderError(dir, 'not a folder');
  const config = readConfig(dir);
  const files = weightFiles(dir);
  const params = new Map<string, tf.Tensor>();
  const sources = new Map<string, string>();
  try {
    for (const file of files) {
      const st = SafetensorsFile.open(file);
      try {
        for (const name of st.names()) {
          const e = st.entry(name);
          const isIndex = name.endsWith('.input_index') && ['I32', 'I64'].includes(e.dtype);
          if (!isIndex && !['F32', 'F16', 'BF16', 'F64'].includes(e.dtype)) continue; // e.g. int64 position_ids buffers
          if (params.has(name)) throw new ModelFolderError(file, `tensor "${name}" also appears in ${sources.get(name)}`);
          // compacted linears' residual feature indices (prunekit_layers input_features) stay int32
          params.set(name, isIndex ? tf.tensor(toInt32(st.read(name), name), e.shape, 'int32') : tf.tensor(st.readFloat32(name), e.shape, 'float32'));
          sources.set(name, file);
        }
      } finally {
        st.close();
      }
    }
    const prefix = detectPrefix(config.modelType, new Set(params.keys()));
    if (prefix === null) {
      throw new ModelFolderError(files[0]!, config.family === 'decoder'
        ? `no embed_tokens.weight tensor (with or without a model. prefix): not a ${config.modelType} checkpoint`
        : 'no embeddings.word_embeddings.weight tensor (with or without a bert./roberta. prefix): not a BERT-family checkpoint');
    }
    const effective = options.encoderOnly ? { ...config, head: 'base' as const } : config;
    validateShapes(effective, params, prefix, files[0]!);
    return new EncoderModel(effective, params, prefix);
  } catch (err) {
    for (const t of params.values()) t.dispose();
    throw err;
  }
}

function validateShapes(cfg: EncoderConfig, params: Map<string, tf.Tensor>, prefix: string, file: string): void {
  const expect = (name: string, shape: number[]): void => {
    const t = params.get(name);
    if (!t) throw new ModelFolderError(file, `missing tensor "${name}" (expected shape [${shape.join(', ')}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFolderError(file, `tensor "${name}" has shape [${t.shape.join(', ')}]; config.json implies [${shape.join(', ')}]`);
    }
  };
  if (cfg.family === 'decoder') {
    validateDecoderShapes(cfg, params, prefix, file, expect);
    return;
  }
  const H = cfg.hiddenSize;
  const emb = embeddingNames(prefix);
  expect(emb.word, [cfg.vocabSize, H]);
  expect(emb.position, [cfg.maxPositionEmbeddings, H]);
  expect(emb.tokenType, [cfg.typeVocabSize, H]);
  expect(emb.lnWeight, [H]);
  expect(emb.lnBias, [H]);
  for (let l = 0; l < cfg.numLayers; l++) {
    const n = layerNames(prefix, l);
    const s = cfg.layers[l]!;
    const sum = (d: number[]): number => d.reduce((a, b) => a + b, 0);
    const qk = sum(headQkDims(s));
    const vd = sum(headVDims(s));
    const inputs = (kind: (typeof RESIDUAL_READERS)[number]): number => s.inputFeatures?.[kind] ?? H;
    for (const kind of ['query', 'key', 'value'] as const) {
      const rows = kind === 'value' ? vd : qk;
      expect(n.linear[kind].weight, [rows, inputs(kind)]);
      expect(n.linear[kind].bias, [rows]);
    }
    expect(n.linear.attn_output.weight, [H, vd]);
    expect(n.linear.attn_output.bias, [H]);
    expect(n.linear.ffn_up.weight, [s.intermediateSize, inputs('ffn_up')]);
    expect(n.linear.ffn_up.bias, [s.intermediateSize]);
    expect(n.linear.ffn_down.weight, [H, s.intermediateSize]);
    for (const kind of RESIDUAL_READERS) {
      const count = s.inputFeatures?.[kind];
      if (count === undefined) continue;
      const name = n.linear[kind].inputIndex;
      expect(name, [count]);
      const idx = params.get(name)!.dataSync();
      for (let i = 0; i < idx.length; i++) {
        if (!(idx[i]! >= 0 && idx[i]! < H) || (i > 0 && idx[i]! <= idx[i - 1]!)) {
          throw new ModelFolderError(file, `tensor "${name}" must hold increasing feature indices in 0..${H - 1} (entry ${i} is ${idx[i]})`);
        }
      }
    }
    expect(n.linear.ffn_down.bias, [H]);
    for (const ln of [n.attnLayerNorm, n.outLayerNorm]) {
      expect(ln.weight, [H]);
      expect(ln.bias, [H]);
    }
  }
  if (cfg.head === 'mlm') {
    const h = headNames(cfg.modelType, 'mlm');
    expect(`${h.dense}.weight`, [H, H]);
    expect(`${h.ln}.weight`, [H]);
    if (!params.has(h.bias!) && !params.has(h.decoderBias!)) throw new ModelFolderError(file, `missing tensor "${h.bias}" (the MLM output bias, shape [${cfg.vocabSize}])`);
  } else if (cfg.head === 'cls') {
    const h = headNames(cfg.modelType, 'cls');
    if (cfg.modelType === 'bert') expect(poolerNames(prefix).weight, [H, H]);
    else expect(`${h.dense}.weight`, [H, H]);
    const out = params.get(`${h.out}.weight`);
    if (!out) throw new ModelFolderError(file, `missing tensor "${h.out}.weight" (the classifier, shape [num_labels, ${H}])`);
  }
}

function validateDecoderShapes(cfg: EncoderConfig, params: Map<string, tf.Tensor>, prefix: string, file: string, expect: (name: string, shape: number[]) => void): void {
  const H = cfg.hiddenSize;
  const dec = cfg.decoder!;
  const emb = decoderNames(prefix);
  expect(emb.word, [cfg.vocabSize, H]);
  expect(emb.finalNorm, [H]);
  for (let l = 0; l < cfg.numLayers; l++) {
    const n = layerNames(prefix, l, 'decoder');
    const s = cfg.layers[l]!;
    const q = s.numHeads * s.headDim;
    const kv = (s.numKvHeads ?? s.numHeads) * s.headDim;
    const rows: [keyof typeof n.linear, number, number, boolean][] = [
      ['query', q, H, dec.attentionBias], ['key', kv, H, dec.attentionBias], ['value', kv, H, dec.attentionBias], ['attn_output', H, q, dec.attentionBias],
      ['ffn_gate', s.intermediateSize, H, dec.mlpBias], ['ffn_up', s.intermediateSize, H, dec.mlpBias], ['ffn_down', H, s.intermediateSize, dec.mlpBias],
    ];
    for (const [kind, out, inp, bias] of rows) {
      expect(n.linear[kind].weight, [out, inp]);
      if (bias) expect(n.linear[kind].bias, [out]);
    }
    expect(n.attnLayerNorm.weight, [H]);
    expect(n.outLayerNorm.weight, [H]);
    if (dec.qkNorm) {
      expect(n.qNorm!, [s.headDim]);
      expect(n.kNorm!, [s.headDim]);
    }
  }
  if (cfg.head === 'cls') expect(`${headNames(cfg.modelType, 'cls').out}.weight`, [cfg.numLabels, H]);
  if (cfg.head === 'lm' && !cfg.tieWordEmbeddings) {
    const lm = headNames(cfg.modelType, 'lm').decoder!;
    if (!params.has(lm)) throw new ModelFolderError(file, `missing tensor "${lm}" (config.json sets tie_word_embeddings false, so the LM head has its own [${cfg.vocabSize}, ${H}] matrix)`);
    expect(lm, [cfg.vocabSize, H]);
  }
}

/** Files copied along when a model folder is saved (tokenizer and sentence-transformers files). */
export const COMPANION_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'vocab.json', 'merges.txt',
  'sentencepiece.bpe.model', 'added_tokens.json', 'chat_template.jinja', 'generation_config.json', 'modules.json', 'sentence_bert_config.json', 'config_sentence_transformers.json',
  'README.md', 'MODEL_CARD.md',
];
const COMPANION_DIRS = ['1_Pooling', '2_Normalize', '2_Dense'];

export interface SaveOptions {
  /** folder to copy tokenizer / sentence-transformers files from */
  companionsFrom?: string;
  /** fields to set in config.json (merged over the model's config) */
  configUpdates?: Record<string, unknown>;
  /** parameters to write instead of the model's own (e.g. masked weights), by HF name */
  override?: (name: string, tensor: tf.Tensor) => tf.Tensor;
  /** string metadata for model.safetensors (format: pt is always set) */
  metadata?: Record<string, string>;
  /** extra JSON files to write in the folder, e.g. a pruning manifest */
  extraJson?: Record<string, unknown>;
  /** writes further files into the folder before it is moved into place (e.g. masks) */
  extra?: (dir: string) => void | Promise<void>;
}

/** Host copy of a tensor for safetensors. */
export async function toHost(t: tf.Tensor): Promise<HostTensor> {
  const data = await t.data();
  if (t.dtype === 'float32') return { dtype: 'F32', shape: [...t.shape], data: data as Float32Array };
  if (t.dtype === 'int32') return { dtype: 'I32', shape: [...t.shape], data: data as Int32Array };
  if (t.dtype === 'bool') return { dtype: 'BOOL', shape: [...t.shape], data: Uint8Array.from(data as ArrayLike<number>) };
  throw new Error(`cannot store a ${t.dtype} tensor`);
}

/**
 * Saves a model folder in HF layout (config.json, model.safetensors, companion files), atomically:
 * the folder is built beside the target and renamed into place.
 */
export async function saveModel(model: EncoderModel, dir: string, options: SaveOptions = {}): Promise<void> {
  const host = new Map<string, HostTensor>();
  for (const [name, t] of model.params) {
    const src = options.override ? options.override(name, t) : t;
    host.set(name, await toHost(src));
    if (src !== t) src.dispose();
  }
  const config = { ...model.config.raw, ...(options.configUpdates ?? {}) };
  await writeDirAtomic(dir, async (tmp) => {
    writeSafetensors(path.join(tmp, 'model.safetensors'), host, { format: 'pt', ...(options.metadata ?? {}) });
    writeJsonAtomic(path.join(tmp, 'config.json'), config);
    for (const [file, value] of Object.entries(options.extraJson ?? {})) writeJsonAtomic(path.join(tmp, file), value);
    const from = options.companionsFrom;
    if (from) {
      for (const f of COMPANION_FILES) if (fs.existsSync(path.join(from, f))) fs.copyFileSync(path.join(from, f), path.join(tmp, f));
      for (const d of COMPANION_DIRS) if (fs.existsSync(path.join(from, d))) fs.cpSync(path.join(from, d), path.join(tmp, d), { recursive: true });
    }
    if (options.extra) await options.extra(tmp);
  });
}
