// Structured pruning end to end: gradient statistics (cached like runPrune's), group scores for the chosen
// method, allocation to a fraction of encoder parameters, compaction, optional recovery (retraining the
// compacted model, distillation from the dense one), and the one prunekit artifact layout written
// atomically by tensor-core's writeArtifact: a compacted-model folder with prunekit/manifest.json
// (method, options, fingerprints, achieved sparsity, parameters, lineage) and the report
// prunekit/structured.json (what was removed, settings), so `prunekit inspect` and `export` take it.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SentenceEncoder, compact, layerLinearParameters, layerNames, modelFingerprint, planFromLists, writeArtifact, type EncoderModel, type Manifest } from '@prunekit/tensor-core';
import { statsFor, type PruneRunOptions } from './prune.js';
import { methodNeeds, scoreGroupsWith } from './score.js';
import type { BalancedDaiOptions } from './scorers.js';
import { allocateGroups, structuredParameterNames, type GroupAllocation, type StructuredAllocation, type StructureKind } from './structured.js';
import { recoverStructured, type DistillLoss } from './recover.js';
import type { DaiDiagnostics } from './diagnostics.js';
import { tripletsFingerprint } from './triplets.js';

const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/**
 * Options of a structured run: runPrune's, with the allocation limited to global / per-layer, `targets`
 * ignored (the groups decide which matrices are scored) and these additions.
 */
export interface StructuredRunOptions extends Omit<PruneRunOptions, 'allocation' | 'targets'> {
  /** which groups may be removed (CLI --structure heads,neurons) */
  structure: readonly StructureKind[];
  /** fraction of encoder parameters removed (see structured.ts); PruneRunOptions.sparsity */
  allocation?: StructuredAllocation;
  /** fraction of each layer's heads and of its neurons always kept (at least one); default 0.05 */
  minPerLayer?: number;
  /** settings of gaprune-balanced */
  balanced?: BalancedDaiOptions;
  /** distil from the dense model during recovery (retrainSteps > 0) */
  distill?: DistillLoss;
  /** InfoNCE weight during recovery (default 1 without distillation, 0 with it) */
  contrastiveWeight?: number;
  /** the method name recorded in the manifest (default opts.method) */
  methodName?: string;
  /** the method's validated options as recorded in the manifest (default: the settings of this run) */
  methodOptions?: Record<string, unknown>;
}

export interface StructuredRunResult {
  out: string;
  allocation: GroupAllocation;
  /** parameters of the whole model before and after */
  parameters: { before: number; after: number };
  encoderParameters: { before: number; after: number };
  diagnostics?: DaiDiagnostics;
  recoveryLosses?: number[];
  /** the manifest written to <out>/prunekit/manifest.json */
  manifest: Manifest;
  seconds: Record<string, number>;
}

function countParameters(model: EncoderModel): number {
  let n = 0;
  for (const t of model.params.values()) n += t.size;
  return n;
}

/** Per encoder-layer linear (weight and bias): its size in the dense model and what compaction kept. */
function linearSparsity(dense: EncoderModel, small: EncoderModel): { name: string; numel: number; kept: number; sparsity: number }[] {
  const rows = [];
  for (let l = 0; l < dense.config.numLayers; l++) {
    for (const k of Object.values(layerNames(dense.prefix, l, dense.config.family).linear)) {
      for (const name of [k.weight, k.bias]) {
        const numel = dense.params.get(name)?.size ?? 0;
        if (numel === 0) continue;
        const kept = small.params.get(name)?.size ?? 0;
        rows.push({ name, numel, kept, sparsity: (numel - kept) / numel });
      }
    }
  }
  return rows;
}

/** Runs structured pruning end to end and writes the compacted model folder. */
export async function runStructuredPrune(opts: StructuredRunOptions): Promise<StructuredRunResult> {
  if (!(opts.sparsity >= 0 && opts.sparsity < 1)) throw new Error(`--sparsity must be in [0, 1) (got ${opts.sparsity})`);
  const need = methodNeeds(opts.method);
  if ((need.calibrationTexts || (need.domain && !opts.domainStats)) && (!opts.domain || opts.domain.length === 0)) throw new Error(`method "${opts.method}" needs domain triplets (--domain FILE) or domain statistics (--domain-stats FILE)`);
  if (need.general && !opts.generalStats && (!opts.general || opts.general.length === 0)) throw new Error(`method "${opts.method}" needs general triplets (--general FILE) or general statistics (--general-stats FILE)`);
  const steps = opts.retrainSteps ?? 0;
  if (steps > 0 && (!opts.domain || opts.domain.length === 0)) throw new Error('recovery needs domain triplets (--domain FILE)');
  if (opts.distill && steps === 0) throw new Error('--distill needs --retrain-steps > 0');
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      seconds[name] = (performance.now() - t0) / 1000;
    }
  };
  const workDir = opts.workDir ?? `${path.resolve(opts.out)}.work`;
  fs.mkdirSync(workDir, { recursive: true });
  const encoder = await SentenceEncoder.load(opts.model);
  let student: SentenceEncoder | null = null;
  try {
    const params = structuredParameterNames(encoder.model, opts.structure);
    const weights = new Map(params.map((n) => {
      const t = encoder.model.params.get(n)!;
      return [n, { shape: [...t.shape], data: t.dataSync() as Float32Array }];
    }));
    const domain = need.domain ? await timed('domainStatistics', () => statsFor(encoder, 'domain', opts.domain ?? [], params, opts, workDir)) : undefined;
    const general = need.general ? await timed('generalStatistics', () => statsFor(encoder, 'general', opts.general ?? [], params, opts, workDir)) : undefined;
    opts.onProgress?.('scoring', 0, 1);
    const { groups, diagnostics } = await timed('scoring', () => scoreGroupsWith(encoder, opts.method, weights, {
      ...(domain ? { domain } : {}), ...(general ? { general } : {}),
      ...(need.calibrationTexts ? { calibrationTexts: opts.domain!.slice(0, 256).map((t) => t.query) } : {}),
      seed: opts.seed ?? 0, ...(opts.dai ? { dai: opts.dai } : {}), ...(opts.balanced ? { balanced: opts.balanced } : {}),
    }, opts.structure));
    const allocation = allocateGroups(encoder.model, groups, { sparsity: opts.sparsity, ...(opts.allocation ? { allocation: opts.allocation } : {}), ...(opts.minPerLayer === undefined ? {} : { minPerLayer: opts.minPerLayer }) });
    const compacted = await timed('compaction', () => compact(encoder.model, planFromLists(encoder.model, allocation.removal)));
    student = new SentenceEncoder(compacted, encoder.tokenizer, encoder.pooling, encoder.maxLength, `${encoder.name} (structured ${opts.method})`);
    opts.onProgress?.('scoring', 1, 1);
    let recoveryLosses: number[] | undefined;
    if (steps > 0) {
      recoveryLosses = await timed('retraining', () => recoverStructured(student!, opts.domain!, {
        steps, seed: opts.seed ?? 0, batchSize: opts.batchSize ?? 16, ...(opts.retrainLr === undefined ? {} : { lr: opts.retrainLr }),
        ...(opts.distill ? { distill: opts.distill, teacher: encoder, ...(opts.general ? { general: opts.general } : {}) } : {}),
        ...(opts.contrastiveWeight === undefined ? {} : { contrastiveWeight: opts.contrastiveWeight }),
        onStep: (s, t, loss) => opts.onProgress?.('retraining', s, t, `loss ${loss.toFixed(4)}`),
      }));
    }
    const removedLists = (m: ReadonlyMap<number, readonly number[]> | undefined): Record<string, number[]> => Object.fromEntries([...(m ?? new Map<number, number[]>())].map(([l, v]) => [String(l), [...v]]));
    const manifest = {
      method: opts.method,
      structure: opts.structure,
      sparsity: opts.sparsity,
      sparsityDefinition: 'fraction of encoder-layer linear parameters (Q, K, V, attention output, FFN up/down weights and biases) removed; target floor(s·N), never exceeded',
      allocation: opts.allocation ?? 'global',
      minPerLayer: opts.minPerLayer ?? 0.05,
      encoderParameters: { total: allocation.totalParams, target: allocation.targetParams, removed: allocation.removedParams, achievedSparsity: allocation.achievedSparsity },
      removedHeads: removedLists(allocation.removal.heads as ReadonlyMap<number, readonly number[]>),
      removedNeurons: removedLists(allocation.removal.neurons as ReadonlyMap<number, readonly number[]>),
      hyperparameters: {
        batchSize: opts.batchSize ?? 16, maxBatches: opts.maxBatches ?? null, seed: opts.seed ?? 0, dai: opts.dai ?? {}, balanced: opts.balanced ?? {},
        retrainSteps: steps, retrainLr: opts.retrainLr ?? 2e-5, distill: opts.distill ?? null, contrastiveWeight: opts.contrastiveWeight ?? null,
      },
      dataFingerprints: {
        ...(opts.domain ? { domain: tripletsFingerprint(opts.domain) } : opts.domainStats?.meta.dataFingerprint ? { domain: opts.domainStats.meta.dataFingerprint } : {}),
        ...(opts.general ? { general: tripletsFingerprint(opts.general) } : opts.generalStats?.meta.dataFingerprint ? { general: opts.generalStats.meta.dataFingerprint } : {}),
      },
      dataSources: opts.dataSources ?? {},
      baseModel: path.resolve(opts.model),
      packageVersions: { '@prunekit/scoring-fisher': version },
    };
    const parametersBefore = countParameters(encoder.model);
    const parametersAfter = countParameters(student.model);
    const hp = manifest.hyperparameters;
    const methodOptions = opts.methodOptions ?? {
      sparsity: opts.sparsity, structure: opts.structure.join(','), allocation: manifest.allocation, minPerLayer: manifest.minPerLayer,
      batchSize: hp.batchSize, ...(opts.maxBatches ? { maxBatches: opts.maxBatches } : {}), seed: hp.seed, ...(opts.dai ?? {}),
      retrainSteps: steps, retrainLr: hp.retrainLr, ...(opts.distill ? { distill: opts.distill } : {}),
    };
    const removedHeads = allocation.removed.filter((g) => g.kind === 'head').length;
    const removedNeurons = allocation.removed.filter((g) => g.kind === 'ffn_neuron').length;
    const recovery = steps > 0 ? `, then ${steps} recovery steps${opts.distill ? ` distilling (${opts.distill}) from the dense model` : ' of InfoNCE on the domain triplets'}` : '';
    opts.onProgress?.('saving', 0, 1);
    const written = await timed('saving', () => writeArtifact({
      kind: 'compacted-model',
      model: student!.model,
      source: { fingerprint: modelFingerprint(encoder.model), parameters: parametersBefore },
      data: Object.fromEntries(Object.entries(manifest.dataFingerprints).map(([role, fingerprint]) => [role, { fingerprint, ...(opts.dataSources?.[role] ? { path: opts.dataSources[role] } : {}) }])),
      sparsity: { definition: manifest.sparsityDefinition, total: allocation.achievedSparsity, perMatrix: linearSparsity(encoder.model, student!.model) },
      metrics: {
        encoderParameters: { before: allocation.totalParams, after: layerLinearParameters(student!.model), target: allocation.targetParams },
        removedHeads, removedNeurons, ...(recoveryLosses ? { recoveryLosses } : {}), seconds,
      },
      reports: { structured: manifest, ...(diagnostics ? { diagnostics } : {}) },
      summary: `Structured ${opts.method}: removed ${removedHeads} attention heads and ${removedNeurons} FFN neurons, ${(100 * allocation.achievedSparsity).toFixed(2)}% of the encoder-layer linear parameters (target ${(100 * opts.sparsity).toFixed(2)}%)${recovery}; this folder holds the compacted (physically smaller) model, ${parametersBefore.toLocaleString('en-US')} -> ${parametersAfter.toLocaleString('en-US')} parameters.`,
      dispose: () => undefined,
    }, { out: opts.out, method: opts.methodName ?? opts.method, options: methodOptions, sourceModel: opts.model, ...(opts.dataSources ? { dataPaths: opts.dataSources } : {}) }));
    opts.onProgress?.('saving', 1, 1);
    return {
      out: opts.out, allocation,
      parameters: { before: parametersBefore, after: parametersAfter },
      encoderParameters: { before: layerLinearParameters(encoder.model), after: layerLinearParameters(student.model) },
      ...(diagnostics ? { diagnostics } : {}), ...(recoveryLosses ? { recoveryLosses } : {}), manifest: written, seconds,
    };
  } finally {
    student?.model.dispose();
    encoder.dispose();
  }
}
