// Writes a method's in-memory artifact as the one prunekit layout, atomically:
//   <out>/config.json, model.safetensors, tokenizer + sentence-transformers files   (a HF folder)
//   <out>/README.md                      model card saying what was done (not the dense card)
//   <out>/prunekit/manifest.json         ManifestSchema
//   <out>/prunekit/masks.safetensors     BOOL keep-masks (pruned-model with masks)
//   <out>/prunekit/gates.safetensors     learned gates (gating methods)
//   <out>/prunekit/head.safetensors      a task head outside the encoder
//   <out>/prunekit/<report>.json         the method's further reports
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { writeSafetensors, type HostTensor } from '../io/safetensors.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { saveModel } from '../model/load.js';
import type { MethodArtifact } from '../method/method.js';
import { ARTIFACT_FORMAT, ARTIFACT_SCHEMA_VERSION, GATES_FILE, HEAD_FILE, MANIFEST_FILE, MASKS_FILE, ManifestSchema, readManifest, type Manifest } from './manifest.js';

export const PRUNEKIT_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export interface WriteArtifactOptions {
  /** output folder (replaced atomically) */
  out: string;
  method: string;
  /** the method's validated options (recorded verbatim) */
  options: Record<string, unknown>;
  /** the source model folder: companions are copied from it; its manifest (if any) becomes lineage */
  sourceModel: string;
  /** paths of the data, by the same roles as artifact.data */
  dataPaths?: Record<string, string>;
}

/** The lineage of an artifact made from `source`: the source itself (when it is an artifact) and its lineage. */
function lineageOf(source: string): Manifest['lineage'] {
  if (!fs.existsSync(path.join(source, MANIFEST_FILE))) return [];
  const m = readManifest(source);
  return [{ kind: m.kind, method: m.method, path: path.resolve(source), createdAt: m.createdAt }, ...m.lineage];
}

/** The manifest an artifact will get (without writing anything). */
export function buildManifest(artifact: MethodArtifact, o: WriteArtifactOptions): Manifest {
  let sparsity: Manifest['sparsity'] = null;
  let masked = 0;
  if (artifact.masks) {
    const s = artifact.masks.stats();
    masked = s.numel - s.kept;
    sparsity = { definition: 'fraction of the masked (prunable) weights that are zero', total: s.sparsity, numel: s.numel, kept: s.kept, perMatrix: s.perMatrix };
  } else if (artifact.sparsity) {
    const numel = artifact.sparsity.perMatrix.reduce((a, m) => a + m.numel, 0);
    const kept = artifact.sparsity.perMatrix.reduce((a, m) => a + m.kept, 0);
    sparsity = { definition: artifact.sparsity.definition, total: artifact.sparsity.total, numel, kept, perMatrix: artifact.sparsity.perMatrix };
  }
  const stored = artifact.model.numParameters();
  const data: Manifest['data'] = {};
  for (const [role, d] of Object.entries(artifact.data)) {
    const p = d.path ?? o.dataPaths?.[role];
    data[role] = { fingerprint: d.fingerprint, ...(p ? { path: path.resolve(p) } : {}) };
  }
  return ManifestSchema.parse({
    format: ARTIFACT_FORMAT,
    schemaVersion: ARTIFACT_SCHEMA_VERSION,
    kind: artifact.kind,
    method: o.method,
    options: o.options,
    prunekitVersion: PRUNEKIT_VERSION,
    createdAt: new Date().toISOString(),
    source: { model: path.resolve(o.sourceModel), fingerprint: artifact.source.fingerprint, parameters: artifact.source.parameters },
    data,
    sparsity,
    parameters: { stored, effective: stored - masked, source: artifact.source.parameters },
    files: {
      ...(artifact.masks ? { masks: MASKS_FILE } : {}),
      ...(artifact.gates ? { gates: GATES_FILE } : {}),
      ...(artifact.head ? { head: HEAD_FILE } : {}),
      reports: Object.keys(artifact.reports ?? {}).map((r) => path.join('prunekit', `${r}.json`)),
    },
    metrics: artifact.metrics ?? {},
    lineage: lineageOf(o.sourceModel),
  });
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

/** The model card: what was done to which model, in words and numbers. */
export function modelCard(m: Manifest, summary: string): string {
  const lines = [
    '---',
    'library_name: prunekit',
    'tags: [prunekit, pruning]',
    '---',
    '',
    `# ${m.kind} made with prunekit (${m.method})`,
    '',
    summary,
    '',
    `- **Method:** ${m.method} with options \`${JSON.stringify(m.options)}\``,
    `- **Source model:** ${m.source.model} (fingerprint ${m.source.fingerprint}, ${m.source.parameters.toLocaleString('en-US')} parameters)`,
    m.sparsity
      ? `- **Sparsity achieved:** ${pct(m.sparsity.total)} (${m.sparsity.definition}; ${(m.sparsity.numel - m.sparsity.kept).toLocaleString('en-US')} of ${m.sparsity.numel.toLocaleString('en-US')})`
      : '- **Sparsity:** none (dense weights)',
    `- **Parameters kept:** ${m.parameters.effective.toLocaleString('en-US')} of ${m.parameters.source.toLocaleString('en-US')} (${pct(m.parameters.source ? m.parameters.effective / m.parameters.source : 0)}); ${m.parameters.stored.toLocaleString('en-US')} stored`,
    ...Object.entries(m.data).map(([role, d]) => `- **Data (${role}):** ${d.path ?? '(in memory)'} (fingerprint ${d.fingerprint})`),
    ...m.lineage.map((l, i) => `- **Made from${i ? ' (earlier)' : ''}:** ${l.kind} by ${l.method} at ${l.path}`),
    `- **Written by:** prunekit ${m.prunekitVersion} on ${m.createdAt}`,
    '',
    `How it was made is recorded in \`${MANIFEST_FILE}\`. \`prunekit inspect <this folder>\` summarises it; \`prunekit compact\` removes the pruned structure exactly where the masks or gates allow it.`,
    '',
  ];
  return lines.join('\n');
}

/** Files and folders get normal permissions (a copied read-only companion stays writable for its owner). */
function normalPermissions(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      fs.chmodSync(p, 0o755);
      normalPermissions(p);
    } else if (e.isFile()) fs.chmodSync(p, 0o644);
  }
}

/** −0 written as +0 (W ⊙ M of a negative weight is −0 in IEEE arithmetic; x + 0 = x otherwise). */
function positiveZero(override?: (name: string, t: tf.Tensor) => tf.Tensor): (name: string, t: tf.Tensor) => tf.Tensor {
  return (name, t) => {
    const o = override ? override(name, t) : t;
    if (o.dtype !== 'float32') return o;
    const z = tf.tidy(() => tf.add(o, tf.scalar(0)));
    if (o !== t) o.dispose();
    return z;
  };
}

/** Writes the artifact to o.out (atomically) and returns its manifest; the artifact is not disposed. */
export async function writeArtifact(artifact: MethodArtifact, o: WriteArtifactOptions): Promise<Manifest> {
  const manifest = buildManifest(artifact, o);
  await saveModel(artifact.model, o.out, {
    companionsFrom: o.sourceModel,
    override: positiveZero(artifact.override),
    metadata: { prunekit_kind: artifact.kind, prunekit_method: o.method },
    extra: (dir) => {
      // an artifact made from an artifact: the source's prunekit/ and card are not carried over
      fs.rmSync(path.join(dir, 'prunekit'), { recursive: true, force: true });
      fs.rmSync(path.join(dir, 'MODEL_CARD.md'), { force: true });
      fs.mkdirSync(path.join(dir, 'prunekit'));
      if (artifact.masks) {
        const host = new Map<string, HostTensor>();
        for (const [name, { shape, data }] of artifact.masks.masks) host.set(name, { dtype: 'BOOL', shape, data });
        writeSafetensors(path.join(dir, MASKS_FILE), host, { format: 'prunekit-masks', method: o.method });
      }
      if (artifact.gates) writeSafetensors(path.join(dir, GATES_FILE), artifact.gates.tensors, { format: 'prunekit-gates', method: o.method, ...(artifact.gates.metadata ?? {}) });
      if (artifact.head) writeSafetensors(path.join(dir, HEAD_FILE), artifact.head.tensors, { format: 'prunekit-head', ...(artifact.head.metadata ?? {}) });
      for (const [name, value] of Object.entries(artifact.reports ?? {})) writeJsonAtomic(path.join(dir, 'prunekit', `${name}.json`), value);
      writeJsonAtomic(path.join(dir, MANIFEST_FILE), manifest);
      writeFileAtomic(path.join(dir, 'README.md'), modelCard(manifest, artifact.summary));
      normalPermissions(dir);
    },
  });
  return manifest;
}
