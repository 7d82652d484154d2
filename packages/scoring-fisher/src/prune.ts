// GAPrune (or a baseline) end to end: gradient statistics on domain and general triplets (resumable,
// cached in a work folder), scores, allocation to an exact sparsity, optional retraining with the
// masks fixed, and an output folder written atomically: a Hugging Face model folder with the masked
// weights, plus prunekit/masks.safetensors, prunekit/masks.json (manifest) and prunekit/diagnostics.json.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  SentenceEncoder, allocateMasks, modelFingerprint, parsePolicy, saveModel,
  type Allocation, type MaskSet, type MaskStats,
} from '@prunekit/tensor-core';
import { computeGradStats, loadGradStats, saveGradStats, type GradStats } from './gradstats.js';
import { methodNeeds, prunableWeights, scoreWeights, type ScoringMethod } from './score.js';
import type { DaiOptions } from './scorers.js';
import type { DaiDiagnostics } from './diagnostics.js';
import { retrainMasked } from './retrain.js';
import { tripletsFingerprint, type Triplet } from './triplets.js';

const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export type PruneStage = 'domain statistics' | 'general statistics' | 'scoring' | 'retraining' | 'saving';

export interface PruneRunOptions {
  /** HF / sentence-transformers model folder */
  model: string;
  /** output model folder (replaced atomically) */
  out: string;
  method: ScoringMethod;
  sparsity: number;
  allocation?: Allocation;
  /** 'mlp' (GAPrune code's default), 'attention+mlp', 'attention', or a list of matrix kinds */
  targets?: string;
  domain?: readonly Triplet[];
  general?: readonly Triplet[];
  /** label for the manifest (e.g. the files the triplets came from) */
  dataSources?: Record<string, string>;
  batchSize?: number;
  /** sequences per backward pass in the statistics (bounds peak memory; same results) */
  microBatch?: number;
  /** cap on statistics batches per data set */
  maxBatches?: number;
  seed?: number;
  dai?: DaiOptions;
  /** retraining steps after pruning (0 = one-shot) */
  retrainSteps?: number;
  retrainLr?: number;
  /**
   * Statistics computed beforehand (`prunekit score`, or merged shards): used instead of computing
   * them; they must be of this model and cover the targeted matrices.
   */
  domainStats?: GradStats;
  generalStats?: GradStats;
  /** where statistics checkpoints and finished statistics are kept (default: <out>.work) */
  workDir?: string;
  onProgress?: (stage: PruneStage, done: number, total: number, detail?: string) => void;
}

export interface PruneRunResult {
  out: string;
  stats: MaskStats;
  diagnostics?: DaiDiagnostics;
  retrainLosses?: number[];
  seconds: Record<string, number>;
}

/** Checks statistics given from outside against the model and the targeted matrices. */
function givenStats(stats: GradStats, label: 'domain' | 'general', encoder: SentenceEncoder, params: readonly string[]): GradStats {
  const fp = modelFingerprint(encoder.model);
  const theirs = stats.meta.modelFingerprint;
  if (theirs !== undefined && theirs !== fp) throw new Error(`--${label}-stats: the statistics are of model ${theirs}, not of this model (${fp})`);
  const missing = params.filter((p) => !stats.fisher.has(p) || !stats.meanGrad.has(p));
  if (missing.length > 0) throw new Error(`--${label}-stats: no statistics for ${missing.length} targeted matrices (first: ${missing[0]}); compute them with the same --targets`);
  return stats;
}

export async function statsFor(encoder: SentenceEncoder, label: 'domain' | 'general', triplets: readonly Triplet[], params: string[], opts: PruneRunOptions, workDir: string): Promise<GradStats> {
  const given = label === 'domain' ? opts.domainStats : opts.generalStats;
  if (given) return givenStats(given, label, encoder, params);
  const key = `${label}-${tripletsFingerprint(triplets)}-${modelFingerprint(encoder.model)}-b${opts.batchSize ?? 16}-m${opts.maxBatches ?? 'all'}-s${opts.seed ?? 0}-${params.length}`;
  const done = path.join(workDir, `${key}.safetensors`);
  if (fs.existsSync(done)) {
    const cached = loadGradStats(done);
    if (params.every((p) => cached.fisher.has(p))) return cached;
  }
  const stats = await computeGradStats(encoder, triplets, {
    params,
    batchSize: opts.batchSize ?? 16,
    seed: opts.seed ?? 0,
    ...(opts.maxBatches === undefined ? {} : { maxBatches: opts.maxBatches }),
    ...(opts.microBatch === undefined ? {} : { microBatch: opts.microBatch }),
    checkpoint: { file: path.join(workDir, `${key}.partial.safetensors`), every: 10 },
    label,
    onBatch: (d, t, loss) => opts.onProgress?.(`${label} statistics`, d, t, `loss ${loss.toFixed(4)}`),
  });
  saveGradStats(stats, done);
  fs.rmSync(path.join(workDir, `${key}.partial.safetensors`), { force: true });
  return stats;
}

/** Runs one pruning method end to end and writes the pruned model folder. */
export async function runPrune(opts: PruneRunOptions): Promise<PruneRunResult> {
  if (!(opts.sparsity >= 0 && opts.sparsity < 1)) throw new Error(`--sparsity must be in [0, 1) (got ${opts.sparsity})`);
  const need = methodNeeds(opts.method);
  if ((need.calibrationTexts || (need.domain && !opts.domainStats)) && (!opts.domain || opts.domain.length === 0)) throw new Error(`method "${opts.method}" needs domain triplets (--domain FILE) or domain statistics (--domain-stats FILE)`);
  if (need.general && !opts.generalStats && (!opts.general || opts.general.length === 0)) throw new Error(`method "${opts.method}" needs general triplets (--general FILE) or general statistics (--general-stats FILE)`);
  if ((opts.retrainSteps ?? 0) > 0 && (!opts.domain || opts.domain.length === 0)) throw new Error('retraining needs domain triplets (--domain FILE)');
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
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
  try {
    const policy = parsePolicy(opts.targets ?? 'mlp');
    const weights = prunableWeights(encoder, policy);
    const params = [...weights.keys()];
    const domain = need.domain ? await timed('domainStatistics', () => statsFor(encoder, 'domain', opts.domain ?? [], params, opts, workDir)) : undefined;
    const general = need.general ? await timed('generalStatistics', () => statsFor(encoder, 'general', opts.general ?? [], params, opts, workDir)) : undefined;
    opts.onProgress?.('scoring', 0, 1);
    const { scores, diagnostics } = await timed('scoring', () =>
      scoreWeights(encoder, opts.method, weights, {
        ...(domain ? { domain } : {}),
        ...(general ? { general } : {}),
        ...(need.calibrationTexts ? { calibrationTexts: opts.domain!.slice(0, 256).map((t) => t.query) } : {}),
        seed: opts.seed ?? 0,
        ...(opts.dai ? { dai: opts.dai } : {}),
      }),
    );
    const allocation = opts.allocation ?? 'global';
    const masks: MaskSet = allocateMasks(scores, opts.sparsity, allocation);
    opts.onProgress?.('scoring', 1, 1);
    let retrainLosses: number[] | undefined;
    const steps = opts.retrainSteps ?? 0;
    if (steps > 0) {
      retrainLosses = await timed('retraining', () =>
        retrainMasked(encoder, masks, opts.domain!, {
          steps, seed: opts.seed ?? 0, ...(opts.retrainLr === undefined ? {} : { lr: opts.retrainLr }), batchSize: opts.batchSize ?? 16,
          onStep: (s, t, loss) => opts.onProgress?.('retraining', s, t, `loss ${loss.toFixed(4)}`),
        }),
      );
    }
    const stats = masks.stats();
    const manifest = {
      method: opts.method,
      targetSparsity: opts.sparsity,
      sparsityDefinition: 'fraction of the prunable weights (targets) that are zero',
      allocation,
      targets: opts.targets ?? 'mlp',
      hyperparameters: { batchSize: opts.batchSize ?? 16, maxBatches: opts.maxBatches ?? null, seed: opts.seed ?? 0, dai: opts.dai ?? {}, retrainSteps: steps, retrainLr: opts.retrainLr ?? 2e-5 },
      dataFingerprints: {
        ...(opts.domain ? { domain: tripletsFingerprint(opts.domain) } : opts.domainStats?.meta.dataFingerprint ? { domain: opts.domainStats.meta.dataFingerprint } : {}),
        ...(opts.general ? { general: tripletsFingerprint(opts.general) } : opts.generalStats?.meta.dataFingerprint ? { general: opts.generalStats.meta.dataFingerprint } : {}),
      },
      dataSources: opts.dataSources ?? {},
      baseModel: path.resolve(opts.model),
      packageVersions: { '@prunekit/scoring-fisher': version },
    };
    opts.onProgress?.('saving', 0, 1);
    const maskView = masks.view(encoder.model);
    await timed('saving', () =>
      saveModel(encoder.model, opts.out, {
        companionsFrom: opts.model,
        override: (name, t) => (masks.masks.has(name) ? maskView.view(name) : t),
        metadata: { pruned_by: `prunekit ${opts.method}`, sparsity: String(opts.sparsity) },
        extra: (dir) => {
          fs.mkdirSync(path.join(dir, 'prunekit'));
          masks.save(path.join(dir, 'prunekit', 'masks.safetensors'), manifest);
          if (diagnostics) fs.writeFileSync(path.join(dir, 'prunekit', 'diagnostics.json'), `${JSON.stringify(diagnostics, null, 2)}\n`);
        },
      }),
    );
    maskView.dispose();
    opts.onProgress?.('saving', 1, 1);
    return { out: opts.out, stats, ...(diagnostics ? { diagnostics } : {}), ...(retrainLosses ? { retrainLosses } : {}), seconds };
  } finally {
    encoder.dispose();
  }
}
