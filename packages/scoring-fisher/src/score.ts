// One entry point for every scorer: GAPrune's DAI and the baselines, over the prunable weights a
// policy selects. Allocation (global / per-layer / per-matrix) is applied afterwards by the caller
// with tensor-core's allocateMasks, so any scorer pairs with any allocator.
import { prunableParameters, type PrunablePolicy, type ScoredMatrix, type SentenceEncoder } from '@prunekit/tensor-core';
import { daiScores, fisherScores, magnitudeScores, randomScores, taylorScores, wandaScores, type DaiOptions, type DaiTerms, type Weights } from './scorers.js';
import { daiDiagnostics, type DaiDiagnostics } from './diagnostics.js';
import { inputActivationNorms } from './activations.js';
import type { GradStats } from './gradstats.js';

export type ScoringMethod = 'gaprune' | 'magnitude' | 'random' | 'fisher' | 'fisher-general' | 'taylor' | 'wanda';
export const SCORING_METHODS: readonly ScoringMethod[] = ['gaprune', 'magnitude', 'random', 'fisher', 'fisher-general', 'taylor', 'wanda'];

/** Which inputs each method needs. */
export function methodNeeds(method: ScoringMethod): { domain: boolean; general: boolean; calibrationTexts: boolean } {
  return {
    domain: method === 'gaprune' || method === 'fisher' || method === 'taylor',
    general: method === 'gaprune' || method === 'fisher-general',
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
