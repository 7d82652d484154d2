// prunekit/manifest.json: what an artifact folder is and how it was made. One zod schema gives the
// validation and the types; `format`, `schemaVersion` and `kind` are the stable contract by which
// other tools recognise a prunekit output.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const ARTIFACT_FORMAT = 'prunekit-artifact';
export const ARTIFACT_SCHEMA_VERSION = 1;
export const MANIFEST_FILE = path.join('prunekit', 'manifest.json');
export const MASKS_FILE = path.join('prunekit', 'masks.safetensors');
export const GATES_FILE = path.join('prunekit', 'gates.safetensors');
export const HEAD_FILE = path.join('prunekit', 'head.safetensors');

const matrixSparsity = z.object({ name: z.string(), numel: z.number().int().nonnegative(), kept: z.number().int().nonnegative(), sparsity: z.number().min(0).max(1) });

export const ManifestSchema = z.object({
  format: z.literal(ARTIFACT_FORMAT),
  schemaVersion: z.literal(ARTIFACT_SCHEMA_VERSION),
  /** pruned-model, compacted-model, fine-tuned-model, onnx-export, ... */
  kind: z.string().min(1),
  method: z.string().min(1),
  /** the method's validated options */
  options: z.record(z.string(), z.unknown()),
  prunekitVersion: z.string(),
  createdAt: z.string(),
  source: z.object({ model: z.string(), fingerprint: z.string(), parameters: z.number().int().nonnegative() }),
  data: z.record(z.string(), z.object({ fingerprint: z.string(), path: z.string().optional() })),
  sparsity: z.object({ definition: z.string(), total: z.number().min(0).max(1), numel: z.number().int().nonnegative(), kept: z.number().int().nonnegative(), perMatrix: z.array(matrixSparsity) }).nullable(),
  parameters: z.object({
    /** parameters stored in the written model */
    stored: z.number().int().nonnegative(),
    /** stored parameters that are not pruned away (stored − masked-out weights) */
    effective: z.number().int().nonnegative(),
    /** parameters of the source model */
    source: z.number().int().nonnegative(),
  }),
  files: z.object({ masks: z.string().optional(), gates: z.string().optional(), head: z.string().optional(), reports: z.array(z.string()).default([]) }),
  metrics: z.record(z.string(), z.unknown()).default({}),
  /** the artifacts this one was made from, nearest first */
  lineage: z.array(z.object({ kind: z.string(), method: z.string(), path: z.string(), createdAt: z.string().optional() })).default([]),
});

export type Manifest = z.output<typeof ManifestSchema>;

/** A folder that is not a (current) prunekit artifact, with the reason and what to do. */
export class ArtifactError extends Error {
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(`${dir}: ${message}`);
    this.name = 'ArtifactError';
  }
}

/** What an older prunekit wrote there, if it was one of the pre-manifest layouts. */
function legacyLayout(dir: string): string | null {
  if (fs.existsSync(path.join(dir, 'prunekit', 'masks.json'))) return 'a GAPrune/baseline folder from prunekit before the artifact manifest (prunekit/masks.json)';
  if (fs.existsSync(path.join(dir, 'masks.bin'))) return 'an SMP output folder from prunekit before the artifact manifest (masks.bin + masks.json)';
  if (fs.existsSync(path.join(dir, 'gates')) || fs.existsSync(path.join(dir, 'head.safetensors'))) return 'a FineGates output folder from prunekit before the artifact manifest (gates/, head.safetensors, report.json)';
  return null;
}

/** Reads and validates <dir>/prunekit/manifest.json; old, foreign or damaged manifests are clear errors. */
export function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ArtifactError(dir, 'not a folder');
  if (!fs.existsSync(file)) {
    const legacy = legacyLayout(dir);
    if (legacy) throw new ArtifactError(dir, `${legacy}; this prunekit reads only folders with ${MANIFEST_FILE}: run the method again with \`prunekit prune --method ...\``);
    throw new ArtifactError(dir, `not a prunekit artifact (no ${MANIFEST_FILE})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ArtifactError(dir, `${MANIFEST_FILE} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ArtifactError(dir, `${MANIFEST_FILE}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  if (o.format !== ARTIFACT_FORMAT) throw new ArtifactError(dir, `${MANIFEST_FILE}: field "format" is ${JSON.stringify(o.format)}, expected "${ARTIFACT_FORMAT}" (not a prunekit manifest)`);
  if (o.schemaVersion !== ARTIFACT_SCHEMA_VERSION) {
    const newer = typeof o.schemaVersion === 'number' && o.schemaVersion > ARTIFACT_SCHEMA_VERSION;
    throw new ArtifactError(dir, `${MANIFEST_FILE}: field "schemaVersion" is ${JSON.stringify(o.schemaVersion)}, expected ${ARTIFACT_SCHEMA_VERSION}${newer ? ' (written by a newer prunekit: upgrade)' : ''}`);
  }
  const r = ManifestSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ArtifactError(dir, `${MANIFEST_FILE}: field "${i.path.join('.')}": ${i.message}`);
  }
  return r.data;
}
