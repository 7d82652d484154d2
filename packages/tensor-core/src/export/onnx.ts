// Portable export: a model folder (dense, masked or compacted) to a folder that onnxruntime (Node
// and Python) and transformers.js load as is:
//   <out>/onnx/model.onnx          graph + weights (inputs input_ids, attention_mask, token_type_ids;
//                                  outputs last_hidden_state, sentence_embedding; dynamic batch/sequence)
//   <out>/onnx/model.onnx_data     weights, when they exceed the external-data threshold (2 GB protobuf limit)
//   <out>/config.json              the source config plus "prunekit_layers" (every layer's real sizes)
//                                  and "prunekit_onnx" (pooling, outputs, parameters, source fingerprint)
//   <out>/tokenizer.json, tokenizer_config.json, ... and the sentence-transformers files
//   <out>/prunekit/manifest.json   {"format": "prunekit-artifact", "schemaVersion": 1, "kind": "onnx-export", ...}
import fs from 'node:fs';
import path from 'node:path';
import { writeDirAtomic, writeJsonAtomic } from '../io/atomic.js';
import { COMPANION_FILES, loadModel } from '../model/load.js';
import type { EncoderModel } from '../model/model.js';
import { modelFingerprint } from '../model/fingerprint.js';
import { readPoolingConfig, type PoolingConfig } from '../model/pooling.js';
import { layerSizes, ONNX_ARCHITECTURES } from './architectures.js';
import { GraphBuilder, ONNX_OPSET, type SerializedModel } from './graph.js';

export interface OnnxExportOptions {
  /** sentence pooling of the second output (default: the folder's sentence-transformers pooling, else mean) */
  pooling?: PoolingConfig;
  /** weights go to onnx/model.onnx_data when they exceed this many bytes (default 1.8 GiB) */
  externalDataThreshold?: number;
}

export interface OnnxExportReport {
  outDir: string;
  modelFile: string;
  externalDataFile: string | null;
  /** float parameters in the graph (the encoder, without task heads or pooler) */
  parameters: number;
  /** bytes of model.onnx plus its external data */
  bytes: number;
  pooling: PoolingConfig;
  sourceFingerprint: string;
  layers: Record<string, unknown>[];
}

export const ONNX_OUTPUTS = ['last_hidden_state', 'sentence_embedding'] as const;
export const ONNX_MODEL_PATH = path.join('onnx', 'model.onnx');

/** Builds the ONNX model of a loaded encoder. */
export function buildOnnxModel(model: EncoderModel, pooling: PoolingConfig, options: { externalDataThreshold?: number; metadata?: Record<string, string> } = {}): { serialized: SerializedModel; parameters: number } {
  const arch = ONNX_ARCHITECTURES[model.config.modelType];
  if (!arch) throw new Error(`ONNX export does not support model_type "${model.config.modelType}" yet (supported: ${Object.keys(ONNX_ARCHITECTURES).join(', ')})`);
  const g = new GraphBuilder();
  for (const input of arch.inputs) g.fresh(input.name);
  const built = arch.build(g, model, pooling);
  const serialized = g.serialize({
    name: `prunekit_${model.config.modelType}`,
    inputs: arch.inputs,
    outputs: [
      { name: built.lastHiddenState, type: 'float32', shape: ['batch_size', 'sequence_length', built.hiddenSize] },
      { name: built.sentenceEmbedding, type: 'float32', shape: ['batch_size', built.hiddenSize] },
    ],
    metadata: {
      'prunekit.model_type': model.config.modelType,
      'prunekit.layers': JSON.stringify(layerSizes(model.config)),
      'prunekit.pooling': JSON.stringify(pooling),
      ...(options.metadata ?? {}),
    },
  }, options.externalDataThreshold !== undefined ? { externalDataThreshold: options.externalDataThreshold } : {});
  return { serialized, parameters: g.floatParameters };
}

/** Whether a folder is one that exportOnnx wrote (so it may be replaced). */
export function isOnnxExport(dir: string): boolean {
  const file = path.join(dir, 'prunekit', 'manifest.json');
  if (!fs.existsSync(file)) return false;
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: unknown; kind?: unknown };
    return m.format === 'prunekit-artifact' && m.kind === 'onnx-export';
  } catch {
    return false;
  }
}

/** Exports the model folder `sourceDir` to `outDir` (written atomically; the source is only read). */
export async function exportOnnx(sourceDir: string, outDir: string, options: OnnxExportOptions = {}): Promise<OnnxExportReport> {
  const src = path.resolve(sourceDir);
  const out = path.resolve(outDir);
  if (src === out || out.startsWith(`${src}${path.sep}`)) throw new Error(`${outDir}: the export folder must not be the source folder or inside it (${sourceDir})`);
  if (fs.existsSync(out) && !(fs.statSync(out).isDirectory() && (fs.readdirSync(out).length === 0 || isOnnxExport(out)))) {
    throw new Error(`${outDir}: exists and is not an ONNX export written by prunekit (no prunekit/manifest.json with "kind": "onnx-export"); choose another --out or remove it`);
  }
  if (!fs.existsSync(path.join(src, 'tokenizer.json'))) {
    throw new Error(`${path.join(src, 'tokenizer.json')}: missing; onnxruntime and transformers.js users need the fast tokenizer file beside the model`);
  }
  const model = loadModel(src, { encoderOnly: true });
  try {
    const pooling = options.pooling ?? readPoolingConfig(src);
    const sourceFingerprint = modelFingerprint(model);
    const layers = layerSizes(model.config);
    const { serialized, parameters } = buildOnnxModel(model, pooling, {
      ...(options.externalDataThreshold !== undefined ? { externalDataThreshold: options.externalDataThreshold } : {}),
      metadata: { 'prunekit.source_fingerprint': sourceFingerprint },
    });
    const external = serialized.externalData;
    const bytes = serialized.model.byteLength + (external?.bytes ?? 0);
    const config: Record<string, unknown> = {
      ...model.config.raw,
      prunekit_layers: layers,
      prunekit_onnx: {
        file: 'onnx/model.onnx',
        opset: ONNX_OPSET,
        outputs: [...ONNX_OUTPUTS],
        pooling: pooling.mode,
        normalize: pooling.normalize,
        parameters,
        source_fingerprint: sourceFingerprint,
      },
    };
    // transformers.js reads weights from a side file only when told
    if (external) config['transformers.js_config'] = { use_external_data_format: true };
    await writeDirAtomic(out, (tmp) => {
      fs.mkdirSync(path.join(tmp, 'onnx'));
      fs.writeFileSync(path.join(tmp, ONNX_MODEL_PATH), serialized.model);
      if (external) {
        const fd = fs.openSync(path.join(tmp, 'onnx', external.name), 'w');
        try {
          for (const chunk of external.chunks) fs.writeSync(fd, chunk);
        } finally {
          fs.closeSync(fd);
        }
      }
      writeJsonAtomic(path.join(tmp, 'config.json'), config);
      for (const f of COMPANION_FILES) if (fs.existsSync(path.join(src, f))) fs.copyFileSync(path.join(src, f), path.join(tmp, f));
      for (const d of fs.readdirSync(src)) {
        // sentence-transformers module folders (1_Pooling, 2_Normalize, ...)
        if (/^\d+_/.test(d) && fs.statSync(path.join(src, d)).isDirectory()) fs.cpSync(path.join(src, d), path.join(tmp, d), { recursive: true });
      }
      fs.mkdirSync(path.join(tmp, 'prunekit'));
      writeJsonAtomic(path.join(tmp, 'prunekit', 'manifest.json'), {
        format: 'prunekit-artifact',
        schemaVersion: 1,
        kind: 'onnx-export',
        source: { path: src, fingerprint: sourceFingerprint },
        onnx: { file: 'onnx/model.onnx', externalData: external ? `onnx/${external.name}` : null, opset: ONNX_OPSET, outputs: [...ONNX_OUTPUTS] },
        parameters,
        bytes,
        pooling,
        layers,
      });
    });
    return {
      outDir: out,
      modelFile: path.join(out, ONNX_MODEL_PATH),
      externalDataFile: external ? path.join(out, 'onnx', external.name) : null,
      parameters,
      bytes,
      pooling,
      sourceFingerprint,
      layers,
    };
  } finally {
    model.dispose();
  }
}
