// GAPrune and the scoring baselines as registry methods: options (one zod schema per method, shared
// fields below), needs, and run → an in-memory pruned model with its masks. The pipeline writes it.
import {
  ALLOCATIONS, defineMethod, seedOption, sparsityOption, targetsOption, positiveIntOption, z,
  type MethodArtifact, type MethodContext, type MethodDefinition,
} from '@prunekit/tensor-core';
import { pruneModel } from './prune.js';
import { loadGradStats } from './gradstats.js';
import { RESCALES } from './scorers.js';
import { DISTILL_LOSSES } from './recover.js';
import { FISHER_NORMALISATIONS } from './gradstats.js';
import { methodNeeds, SCORING_METHODS, type ScoringMethod } from './score.js';
import { readTriplets, tripletsFingerprint } from './triplets.js';

const DESCRIPTIONS: Record<ScoringMethod, string> = {
  gaprune: 'GAPrune: Fisher importance on domain and general triplets, domain-alignment score (DAI), one-shot masks',
  magnitude: 'baseline: keep the largest |W|',
  random: 'baseline: seeded random scores',
  fisher: 'baseline: diagonal Fisher on domain triplets',
  'fisher-general': 'baseline: diagonal Fisher on general triplets',
  taylor: 'baseline: first-order Taylor |W · mean gradient| on domain triplets',
  wanda: 'baseline: Wanda |W| · ‖input activation‖ on domain texts',
  'gaprune-balanced': "prunekit's GAPrune variant (ours, not the paper's): the DAI terms F_D·|W|, F_G·|W| and √|W| each divided by its per-tensor mean before they are combined, so the domain Fisher can move the ranking",
};

const common = {
  sparsity: sparsityOption(0.5, 'fraction of the prunable weights removed'),
  allocation: z.enum(ALLOCATIONS as unknown as [string, ...string[]]).default('global').describe('how the budget is spread'),
  targets: targetsOption('mlp', 'prunable matrices: mlp (GAPrune default), attention+mlp, attention, or a list of query,key,value,attn_output,ffn_up,ffn_down'),
  batchSize: positiveIntOption('triplets per gradient batch', 16),
  maxBatches: positiveIntOption('cap on statistics batches per data set'),
  microBatch: positiveIntOption('sequences per backward pass in the statistics: bounds peak memory, same results'),
  seed: seedOption('seed (batch order, random scores, retraining)'),
  retrainSteps: z.number().int('must be an integer').min(0, 'must be ≥ 0').default(0).describe('InfoNCE steps on domain data after pruning, masks fixed (0 = one-shot)'),
  retrainLr: z.number().gt(0, 'must be > 0').default(2e-5).describe('retraining learning rate'),
  structure: z.string().optional().describe('structured pruning: remove whole groups (heads, neurons; comma-separated) and write the compacted model; --sparsity is then the fraction of encoder-layer parameters removed'),
  minPerLayer: z.number().min(0, 'must be ≥ 0').lt(1, 'must be < 1').default(0.05).describe("structured: fraction of each layer's heads and of its neurons always kept (at least one)"),
  distill: z.enum(DISTILL_LOSSES as unknown as [string, ...string[]]).optional().describe('structured recovery: distil from the dense model during --retrain-steps'),
};

const daiOptions = {
  beta: z.number().min(0, 'must be ≥ 0').default(1.0).describe('DAI: weight of the general Fisher term'),
  gamma: z.number().min(0, 'must be ≥ 0').default(0.5).describe('DAI: weight of the √|W| term'),
  alignment: z.enum(['per-matrix', 'per-weight']).default('per-matrix').describe('DAI alignment: per-matrix (paper) or per-weight (code)'),
  rescale: z.enum(RESCALES as unknown as [string, ...string[]]).default('none').describe('DAI per-tensor rescaling'),
  fisherNormalisation: z.enum(FISHER_NORMALISATIONS as unknown as [string, ...string[]]).default('batches').describe('DAI: divide Σ g² by batches or samples (the official code: samples)'),
};

const gapruneSchema = z.object({ ...common, ...daiOptions });
const baselineSchema = z.object(common);

type GapruneOptions = z.output<typeof gapruneSchema>;

async function runScoring(method: ScoringMethod, ctx: MethodContext<GapruneOptions | z.output<typeof baselineSchema>>): Promise<MethodArtifact> {
  const o = ctx.options;
  // structured pruning writes a compacted folder of its own (runStructuredPrune); a registry run
  // returns masks, so it refuses rather than silently giving an unstructured model
  if (o.structure !== undefined) throw new Error(`${method}: option "structure" (${o.structure}) is applied by runStructuredPrune (prunekit prune --structure), which writes the compacted model; the registry's run gives masked weights only`);
  if (o.distill !== undefined) throw new Error(`${method}: option "distill" applies to structured pruning (runStructuredPrune, prunekit prune --structure)`);
  const need = methodNeeds(method);
  const domain = ctx.data.domain && (need.domain || need.calibrationTexts || o.retrainSteps > 0) ? await readTriplets(ctx.data.domain) : undefined;
  const general = ctx.data.general && need.general ? await readTriplets(ctx.data.general) : undefined;
  const domainStats = ctx.data.domainStats ? loadGradStats(ctx.data.domainStats) : undefined;
  const generalStats = ctx.data.generalStats ? loadGradStats(ctx.data.generalStats) : undefined;
  const dai = 'gamma' in o ? { beta: o.beta, gamma: o.gamma, alignment: o.alignment as 'per-matrix' | 'per-weight', rescale: o.rescale as (typeof RESCALES)[number], fisherNormalisation: o.fisherNormalisation as (typeof FISHER_NORMALISATIONS)[number] } : undefined;
  const r = await pruneModel({
    model: ctx.model, method, sparsity: o.sparsity, allocation: o.allocation as (typeof ALLOCATIONS)[number], targets: o.targets,
    ...(domain ? { domain } : {}), ...(general ? { general } : {}),
    ...(domainStats ? { domainStats } : {}), ...(generalStats ? { generalStats } : {}),
    batchSize: o.batchSize, ...(o.maxBatches ? { maxBatches: o.maxBatches } : {}), ...(o.microBatch ? { microBatch: o.microBatch } : {}), seed: o.seed,
    ...(dai ? { dai } : {}), retrainSteps: o.retrainSteps, retrainLr: o.retrainLr, workDir: ctx.workDir,
    onProgress: (stage, done, total, detail) => { ctx.onProgress(stage, done, total, detail); },
  });
  const { encoder, masks } = r;
  const maskView = masks.view(encoder.model);
  const stats = masks.stats();
  return {
    kind: 'pruned-model',
    model: encoder.model,
    override: (name, t) => (masks.masks.has(name) ? maskView.view(name) : t),
    masks,
    source: { fingerprint: r.sourceFingerprint, parameters: encoder.model.numParameters() },
    data: {
      ...(domain ? { domain: { fingerprint: tripletsFingerprint(domain) } } : {}),
      ...(general ? { general: { fingerprint: tripletsFingerprint(general) } } : {}),
      ...(domainStats && !domain ? { domainStats: { fingerprint: domainStats.meta.dataFingerprint ?? 'unknown', path: ctx.data.domainStats! } } : {}),
      ...(generalStats && !general ? { generalStats: { fingerprint: generalStats.meta.dataFingerprint ?? 'unknown', path: ctx.data.generalStats! } } : {}),
    },
    metrics: { seconds: r.seconds, ...(r.retrainLosses ? { retrainLosses: r.retrainLosses } : {}) },
    ...(r.diagnostics ? { reports: { diagnostics: r.diagnostics } } : {}),
    summary: `Pruned ${stats.numel - stats.kept} of ${stats.numel} prunable weights (${(100 * stats.sparsity).toFixed(2)}%) with ${method}${o.retrainSteps > 0 ? `, then retrained ${o.retrainSteps} steps with the masks fixed` : ''}; pruned weights are stored as zeros.`,
    dispose: () => {
      maskView.dispose();
      encoder.dispose();
    },
  };
}

function scoringMethod(method: ScoringMethod): MethodDefinition {
  const need = methodNeeds(method);
  const needs = { domainTriplets: need.domain || need.calibrationTexts, generalTriplets: need.general };
  const def = method === 'gaprune'
    ? defineMethod({ name: method, description: DESCRIPTIONS[method], family: 'scoring', options: gapruneSchema, needs, run: (ctx) => runScoring(method, ctx) })
    : defineMethod({ name: method, description: DESCRIPTIONS[method], family: 'scoring', options: baselineSchema, needs, run: (ctx) => runScoring(method, ctx) });
  return def as unknown as MethodDefinition;
}

/** GAPrune and its scoring baselines, for a MethodRegistry. */
export const scoringMethods: readonly MethodDefinition[] = SCORING_METHODS.map(scoringMethod);
