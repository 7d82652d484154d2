// What an artifact folder is, read from the folder itself: the manifest, the masks' sparsity per
// matrix (recounted from prunekit/masks.safetensors, not copied from the manifest), the structure an
// exact compaction would remove (planFromMasks with the default exactness rules), file sizes, lineage.
// Also the one way to compact any artifact.
import fs from 'node:fs';
import path from 'node:path';
import { readSafetensors } from '../io/safetensors.js';
import { loadModel } from '../model/load.js';
import { modelFingerprint } from '../model/fingerprint.js';
import type { EncoderModel } from '../model/model.js';
import { MaskSet, type MatrixMaskStats } from '../prune/maskset.js';
import { planFromMasks } from '../structure/plan.js';
import { compact } from '../structure/compact.js';
import { toDenseCompatible, type ExportForm } from '../structure/export.js';
import type { MethodArtifact } from '../method/method.js';
import { readManifest, type Manifest } from './manifest.js';
import { writeArtifact } from './write.js';

export interface ArtifactInspection {
  dir: string;
  format: string;
  schemaVersion: number;
  kind: string;
  method: string;
  options: Record<string, unknown>;
  source: Manifest['source'];
  /** recounted from the masks file; null without masks */
  masks: { total: number; numel: number; kept: number; perMatrix: MatrixMaskStats[] } | null;
  /** as the manifest records it (masks, or e.g. the gates' removed fraction) */
  sparsity: Manifest['sparsity'];
  parameters: Manifest['parameters'];
  /** what an exact compaction of this folder would remove */
  structure: {
    headsRemoved: number;
    qkDimsRemoved: number;
    vDimsRemoved: number;
    neuronsRemoved: number;
    inputFeaturesRemoved: number;
    parametersBefore: number;
    parametersAfter: number;
    perLayer: { layer: number; headsRemoved: number[]; qkDimsRemoved: number; vDimsRemoved: number; neuronsRemoved: number }[];
  };
  files: { path: string; bytes: number }[];
  bytes: number;
  lineage: Manifest['lineage'];
  metrics: Record<string, unknown>;
}

function listFiles(dir: string, base = dir): { path: string; bytes: number }[] {
  const out: { path: string; bytes: number }[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else if (e.isFile()) out.push({ path: path.relative(base, p), bytes: fs.statSync(p).size });
  }
  return out;
}

function loadMasks(dir: string, m: Manifest): MaskSet | undefined {
  return m.files.masks ? MaskSet.load(path.join(dir, m.files.masks)).masks : undefined;
}

/** Describes an artifact folder (throws ArtifactError on a folder that is not one). */
export function inspectArtifact(dir: string): ArtifactInspection {
  const m = readManifest(dir);
  const masks = loadMasks(dir, m);
  const model = loadModel(dir);
  try {
    const plan = planFromMasks(model, masks);
    const small = compact(model, plan);
    const parametersAfter = small.numParameters();
    small.dispose();
    const perLayer = plan.report.perLayer.map((l) => ({ layer: l.layer, headsRemoved: l.headsRemoved, qkDimsRemoved: l.qkDimsRemoved, vDimsRemoved: l.vDimsRemoved, neuronsRemoved: l.neuronsRemoved }));
    const sum = (f: (l: (typeof plan.report.perLayer)[number]) => number): number => plan.report.perLayer.reduce((a, l) => a + f(l), 0);
    const ms = masks?.stats();
    const files = listFiles(dir);
    return {
      dir: path.resolve(dir), format: m.format, schemaVersion: m.schemaVersion, kind: m.kind, method: m.method, options: m.options, source: m.source,
      masks: ms ? { total: ms.sparsity, numel: ms.numel, kept: ms.kept, perMatrix: ms.perMatrix } : null,
      sparsity: m.sparsity, parameters: m.parameters,
      structure: {
        headsRemoved: sum((l) => l.headsRemoved.length), qkDimsRemoved: sum((l) => l.qkDimsRemoved), vDimsRemoved: sum((l) => l.vDimsRemoved),
        neuronsRemoved: sum((l) => l.neuronsRemoved), inputFeaturesRemoved: sum((l) => Object.values(l.inputFeaturesRemoved).reduce((a, b) => a + b, 0)),
        parametersBefore: model.numParameters(), parametersAfter, perLayer,
      },
      files, bytes: files.reduce((a, f) => a + f.bytes, 0), lineage: m.lineage, metrics: m.metrics,
    };
  } finally {
    model.dispose();
  }
}

/** Human-readable summary of an inspection. */
export function formatInspection(r: ArtifactInspection): string {
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  const lines = [
    `${r.dir}: ${r.kind} made by ${r.method} (prunekit artifact, schema ${r.schemaVersion})`,
    `  source: ${r.source.model} (fingerprint ${r.source.fingerprint}, ${r.source.parameters} parameters)`,
    `  parameters: ${r.parameters.stored} stored, ${r.parameters.effective} effective (${pct(r.parameters.source ? r.parameters.effective / r.parameters.source : 0)} of the source)`,
  ];
  if (r.masks) {
    lines.push(`  masks: ${pct(r.masks.total)} of ${r.masks.numel} masked weights are zero`);
    for (const p of r.masks.perMatrix) lines.push(`    ${p.name}: ${pct(p.sparsity)} (${p.numel - p.kept} of ${p.numel})`);
  } else if (r.sparsity) lines.push(`  sparsity: ${pct(r.sparsity.total)} (${r.sparsity.definition})`);
  const s = r.structure;
  lines.push(`  exact compaction would remove: ${s.headsRemoved} heads, ${s.qkDimsRemoved} query/key dims, ${s.vDimsRemoved} value dims, ${s.neuronsRemoved} FFN neurons, ${s.inputFeaturesRemoved} input features: ${s.parametersBefore} → ${s.parametersAfter} parameters`);
  lines.push(`  size: ${r.bytes} bytes in ${r.files.length} files`);
  for (const l of r.lineage) lines.push(`  made from: ${l.kind} by ${l.method} at ${l.path}`);
  return `${lines.join('\n')}\n`;
}

export interface CompactArtifactOptions {
  out: string;
  /** 'prunekit' (compacted shapes, default) or 'dense-compatible' (zero-padded standard shapes) */
  form?: ExportForm;
}

/** Removes, exactly, every row/column/head/neuron the artifact's masks (or zero weights) allow; writes a compacted-model artifact. */
export async function compactArtifact(dir: string, o: CompactArtifactOptions): Promise<Manifest> {
  const m = readManifest(dir);
  const masks = loadMasks(dir, m);
  const model = loadModel(dir);
  let small: EncoderModel | undefined;
  try {
    const plan = planFromMasks(model, masks);
    const compacted = compact(model, plan);
    small = o.form === 'dense-compatible' ? toDenseCompatible(compacted) : compacted;
    if (small !== compacted) compacted.dispose();
    const before = model.numParameters();
    const after = small.numParameters();
    const headFile = m.files.head ? path.join(dir, m.files.head) : undefined;
    const head = headFile ? readSafetensors(headFile) : undefined;
    const out = small;
    const artifact: MethodArtifact = {
      kind: 'compacted-model',
      model: out,
      ...(head ? { head: { tensors: head.tensors, metadata: head.metadata } } : {}),
      source: { fingerprint: modelFingerprint(model), parameters: before },
      data: m.data,
      sparsity: { definition: 'fraction of the source artifact\'s parameters removed by exact compaction', total: before ? (before - after) / before : 0, perMatrix: [] },
      metrics: { droppedNonzero: plan.report.droppedNonzero, parametersBefore: before, parametersAfter: after },
      summary: `Compacted ${dir} (${m.kind} by ${m.method}): ${before} → ${after} parameters, removing exactly the heads, dims and neurons its ${masks ? 'masks' : 'zero weights'} leave without effect (outputs unchanged).`,
      dispose: () => undefined,
    };
    return await writeArtifact(artifact, { out: o.out, method: 'compact', options: { form: o.form ?? 'prunekit' }, sourceModel: dir });
  } finally {
    small?.dispose();
    model.dispose();
  }
}
