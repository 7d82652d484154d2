// One entry point for every scorer: GAPrune's DAI and the baselines, over the prunable weights a
// policy selects. Allocation (global / per-layer / per-matrix) is applied afterwards by the caller
// with tensor-core's allocateMasks, so any scorer pairs with any allocator.
import { prunableParameters, type PrunablePolicy, type ScoredMatrix, type SentenceEncoder } from '@prunekit/tensor-core';
import { balancedDaiScores, daiScores, fisherScores, magnitudeScores, randomScores, taylorProducts, taylorScores, wandaScores, type BalancedDaiOptions, type DaiOptions, type DaiTerms, type Weights } from './scorers.js';
import { randomGroupScores, scoreGroups, type GroupAggregate, type GroupScore, type StructureKind } from './structured.js';
import { daiDiagnostics, type DaiDiagnostics } from './diagnostics.js';
import { inputActivationNorms } from './activations.js';
import type { GradStats } from './gradstats.js';

/** 'gaprune' is the published DAI; 'gaprune-balanced' is prunekit's variant (balancedDaiScores). */
export type ScoringMethod = 'gaprune' | 'gaprune-balanced' | 'magnitude' | 'random' | 'fisher' | 'fisher-general' | 'taylor' | 'wanda';
export const SCORING_METHODS: readonly ScoringMethod[] = ['gaprune', 'gaprune-balanced', 'magnitude', 'random', 'fisher', 'fisher-general', 'taylor', 'wanda'];

/** Which inputs each method needs. */
export function methodNeeds(method: ScoringMethod): { domain: boolean; general: boolean; calibrationTexts: boolean } {
  return {
    domain: method === 'gaprune' || method === 'gaprune-balanced' || method === 'fisher' || method === 'taylor',
    general: method === 'gaprune' || method === 'gaprune-balanced' || method === 'fisher-general',
    calibrationTexts: method === 'wanda',
  };
}

export interface ScoreInputs {
  domain?: GradStats;
  general?: GradStats;
  /** for Wanda: domain texts to take activation norms over */
  calibrationTexts?: readonly string[];
  seed?: number;
  dai?: DaiOptions;
  /** settings of gaprune-balanced */
  balanced?: BalancedDaiOptions;
}

export interface ScoreResult {
  scores: Map<string, ScoredMatrix>;
  diagnostics?: DaiDiagnostics;
}

/** Host copies of the weights a policy makes prunable. */
export function prunableWeights(encoder: SentenceEncoder, policy?: PrunablePolicy): Weights {
  return new Map(prunableParameters(encoder.model, policy).map((p) => [p.name, { shape: [...p.shape], data: encoder.model.params.get(p.name)!.dataSync() as Float32Array }]));
}

export async function scoreWeights(encoder: SentenceEncoder, method: ScoringMethod, weights: Weights, inputs: ScoreInputs): Promise<ScoreResult> {
  const need = methodNeeds(method);
  if (need.domain && !inputs.domain) throw new Error(`method "${method}" needs domain gradient statistics (--domain)`);
  if (need.general && !inputs.general) throw new Error(`method "${method}" needs general gradient statistics (--general)`);
  switch (method) {
    case 'gaprune': {
      const terms = new Map<string, DaiTerms>();
      const scores = daiScores(weights, inputs.domain!, inputs.general!, inputs.dai ?? {}, terms);
      return { scores, diagnostics: daiDiagnostics(weights, scores, terms) };
    }
    case 'gaprune-balanced':
      return { scores: balancedDaiScores(weights, inputs.domain!, inputs.general!, inputs.balanced ?? {}) };
    case 'magnitude':
      return { scores: magnitudeScores(weights) };
    case 'random':
      return { scores: randomScores(weights, inputs.seed ?? 0) };
    case 'fisher':
      return { scores: fisherScores(weights, inputs.domain!) };
    case 'fisher-general':
      return { scores: fisherScores(weights, inputs.general!) };
    case 'taylor':
      return { scores: taylorScores(weights, inputs.domain!) };
    case 'wanda': {
      if (!inputs.calibrationTexts || inputs.calibrationTexts.length === 0) throw new Error('method "wanda" needs calibration texts (domain data)');
      const norms = await inputActivationNorms(encoder, inputs.calibrationTexts, [...weights.keys()]);
      return { scores: wandaScores(weights, norms) };
    }
  }
}

/** How each method's per-weight values become a group score (structured.ts GroupAggregate). */
export const GROUP_AGGREGATES: Readonly<Record<Exclude<ScoringMethod, 'random'>, GroupAggregate>> = {
  gaprune: 'sum', 'gaprune-balanced': 'sum', fisher: 'sum', 'fisher-general': 'sum', wanda: 'sum',
  // group L2 norm of the weights
  magnitude: 'l2',
  // |Σ ḡ·W| over the group
  taylor: 'abs-sum',
};

/**
 * Group scores for structured pruning with any method: the method's per-weight scores summed over each
 * group, except magnitude (group L2 of W), Taylor (first-order group Taylor |Σ ḡ·W|) and random (one
 * seeded draw per group). `weights` must cover every matrix of the groups (structuredParameterNames).
 */
export async function scoreGroupsWith(encoder: SentenceEncoder, method: ScoringMethod, weights: Weights, inputs: ScoreInputs, structure: readonly StructureKind[]): Promise<{ groups: GroupScore[]; diagnostics?: DaiDiagnostics }> {
  if (method === 'random') return { groups: randomGroupScores(encoder.model, inputs.seed ?? 0, structure) };
  const aggregate = GROUP_AGGREGATES[method];
  if (method === 'magnitude') return { groups: scoreGroups(encoder.model, new Map([...weights].map(([n, w]) => [n, { shape: w.shape, scores: w.data }])), { structure, aggregate }) };
  if (method === 'taylor') {
    if (!inputs.domain) throw new Error('method "taylor" needs domain gradient statistics (--domain)');
    return { groups: scoreGroups(encoder.model, taylorProducts(weights, inputs.domain), { structure, aggregate }) };
  }
  const { scores, diagnostics } = await scoreWeights(encoder, method, weights, inputs);
  return { groups: scoreGroups(encoder.model, scores, { structure, aggregate }), ...(diagnostics ? { diagnostics } : {}) };
}
