// A MaskSet: binary keep-masks keyed by HF parameter names, with sparsity statistics, stored as
// safetensors (BOOL, readable by PyTorch) next to a JSON manifest.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { SafetensorsFile, writeSafetensors, type HostTensor } from '../io/safetensors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import type { EncoderModel, WeightView } from '../model/model.js';
import { maskedView } from './views.js';
import { PrunekitError } from '../io/errors.js';
import { readTextFile } from '../io/text.js';

export interface MatrixMaskStats {
  name: string;
  numel: number;
  kept: number;
  sparsity: number;
}

export interface MaskStats {
  perMatrix: MatrixMaskStats[];
  numel: number;
  kept: number;
  /** fraction of masked (prunable) weights that are zero */
  sparsity: number;
}

export interface MaskManifest {
  format: 'prunekit-masks';
  version: 1;
  /** scorer / method that produced the masks */
  method: string;
  /** target sparsity (fraction of prunable weights removed) */
  targetSparsity?: number;
  hyperparameters?: Record<string, unknown>;
  dataFingerprints?: Record<string, string>;
  modelFingerprint?: string;
  packageVersions?: Record<string, string>;
  createdAt?: string;
  stats?: Omit<MaskStats, 'perMatrix'> & { perMatrix?: MatrixMaskStats[] };
  [key: string]: unknown;
}

export class MaskSet {
  /** 1 = keep, 0 = pruned; row-major [out, in] */
  readonly masks = new Map<string, { shape: number[]; data: Uint8Array }>();

  set(name: string, shape: number[], data: Uint8Array): this {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`mask "${name}": ${data.length} values for shape [${shape.join(', ')}]`);
    this.masks.set(name, { shape: [...shape], data });
    return this;
  }

  names(): string[] {
    return [...this.masks.keys()];
  }

  stats(): MaskStats {
    const perMatrix: MatrixMaskStats[] = [];
    let numel = 0;
    let kept = 0;
    for (const [name, { data }] of this.masks) {
      let k = 0;
      for (let i = 0; i < data.length; i++) k += data[i]! ? 1 : 0;
      perMatrix.push({ name, numel: data.length, kept: k, sparsity: data.length ? 1 - k / data.length : 0 });
      numel += data.length;
      kept += k;
    }
    return { perMatrix, numel, kept, sparsity: numel ? 1 - kept / numel : 0 };
  }

  /** float32 0/1 tensors, for views (caller disposes) */
  toTensors(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, { shape, data }] of this.masks) out.set(name, tf.tensor(Float32Array.from(data), shape, 'float32'));
    return out;
  }

  /** W ⊙ M over a model's weights; returns the view and a dispose for the mask tensors. */
  view(model: EncoderModel, base: WeightView = model.denseView): { view: WeightView; dispose: () => void } {
    for (const [name, { shape }] of this.masks) {
      const t = model.params.get(name);
      if (!t) throw new Error(`mask names "${name}", which the model does not have`);
      if (t.shape.join() !== shape.join()) throw new Error(`mask "${name}" has shape [${shape.join(', ')}] but the weight is [${t.shape.join(', ')}]`);
    }
    const tensors = this.toTensors();
    return {
      view: maskedView(base, tensors),
      dispose: () => {
        for (const t of tensors.values()) t.dispose();
      },
    };
  }

  /** Writes <file> (.safetensors, BOOL masks) and <file minus extension>.json (manifest with stats). */
  save(file: string, manifest: Omit<MaskManifest, 'format' | 'version'> & { method: string }): void {
    const host = new Map<string, HostTensor>();
    for (const [name, { shape, data }] of this.masks) host.set(name, { dtype: 'BOOL', shape, data });
    const stats = this.stats();
    const full: MaskManifest = { ...manifest, format: 'prunekit-masks', version: 1, createdAt: new Date().toISOString(), method: manifest.method, stats };
    writeSafetensors(file, host, { format: 'prunekit-masks', method: manifest.method });
    writeJsonAtomic(manifestPath(file), full);
  }

  static load(file: string): { masks: MaskSet; manifest: MaskManifest | null } {
    const st = SafetensorsFile.open(file);
    const masks = new MaskSet();
    try {
      for (const name of st.names()) {
        const t = st.read(name);
        if (!['BOOL', 'U8', 'I8'].includes(t.dtype) && !t.dtype.startsWith('F')) throw new PrunekitError(file, `mask "${name}" has dtype ${t.dtype}; expected BOOL or U8`);
        const data = new Uint8Array(t.data.length);
        for (let i = 0; i < data.length; i++) data[i] = Number((t.data as ArrayLike<number>)[i]) !== 0 ? 1 : 0;
        masks.set(name, t.shape, data);
      }
    } finally {
      st.close();
    }
    const mf = manifestPath(file);
    return { masks, manifest: fs.existsSync(mf) ? readMaskManifest(mf) : null };
  }
}

/** Reads masks.json; anything but a JSON object of format "prunekit-masks" is a PrunekitError naming the file and field. */
export function readMaskManifest(file: string): MaskManifest {
  let v: unknown;
  try {
    v = JSON.parse(readTextFile(file));
  } catch (err) {
    if (err instanceof PrunekitError) throw err;
    throw new PrunekitError(file, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PrunekitError(file, 'expected a JSON object (the masks manifest)');
  const m = v as Record<string, unknown>;
  if (m.format !== 'prunekit-masks') throw new PrunekitError(file, `field "format" is ${JSON.stringify(m.format)}; expected "prunekit-masks"`);
  if (typeof m.method !== 'string') throw new PrunekitError(file, `field "method" is ${JSON.stringify(m.method)}; expected a string`);
  return m as unknown as MaskManifest;
}

function manifestPath(file: string): string {
  const ext = path.extname(file);
  return `${ext ? file.slice(0, -ext.length) : file}.json`;
}
