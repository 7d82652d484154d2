export { readTriplets, readBeir, tripletsFromRetrieval, tripletsFromPairs, tripletsFingerprint } from './triplets.js';
export type { Triplet, RetrievalData, NegativeMining, MiningOptions } from './triplets.js';
export { Bm25Index } from './bm25.js';
export { tokenizeTriplets, disposeTripletInputs, tripletInfoNCE } from './loss.js';
export type { TripletInputs } from './loss.js';
export { computeGradStats, computeGradStatsShard, GradStatsAccumulator, tripletBatches, saveGradStats, loadGradStats, fisherOf, FISHER_EPS, FISHER_NORMALISATIONS } from './gradstats.js';
export type { GradStats, GradStatsOptions, FisherNormalisation } from './gradstats.js';
export { mergeGradStatsShards, parseShard, readShardFile, shardBatchIndices, writeShardFile, runScoreShardJob, SHARD_FORMAT, SCORE_SHARD_JOB } from './shard.js';
export type { ShardSpec, ShardSums, ScoreShardJob } from './shard.js';
export { alignment, matrixCosine, perWeightAlignment } from './alignment.js';
export type { AlignmentMode } from './alignment.js';
export { daiScores, balancedDaiScores, magnitudeScores, randomScores, fisherScores, taylorScores, taylorProducts, wandaScores, rescale, RESCALES } from './scorers.js';
export type { DaiOptions, BalancedDaiOptions, DaiTerms, Rescale, Weights } from './scorers.js';
export { daiDiagnostics, formatDiagnostics, spearman, ranks } from './diagnostics.js';
export type { DaiDiagnostics, LayerDiagnostics } from './diagnostics.js';
export { inputActivationNorms } from './activations.js';
export { scoreWeights, scoreGroupsWith, prunableWeights, methodNeeds, SCORING_METHODS, GROUP_AGGREGATES } from './score.js';
export type { ScoringMethod, ScoreInputs, ScoreResult } from './score.js';
export { retrainMasked } from './retrain.js';
export type { RetrainOptions } from './retrain.js';
export { runPrune } from './prune.js';
export type { PruneRunOptions, PruneRunResult, PruneStage } from './prune.js';
export {
  scoreGroups, randomGroupScores, allocateGroups, pruneStructured, groupMasks, groupParameters, structuredParameterNames, parseStructure,
  STRUCTURE_KINDS, STRUCTURED_ALLOCATIONS,
} from './structured.js';
export type { StructureKind, StructuredAllocation, GroupAggregate, GroupScore, GroupScoreOptions, GroupAllocation, GroupAllocationOptions, StructuredPruneOptions, StructuredPruneResult } from './structured.js';
export { runStructuredPrune } from './structured-run.js';
export type { StructuredRunOptions, StructuredRunResult } from './structured-run.js';
export { recoverStructured, distillDistance, DISTILL_LOSSES } from './recover.js';
export type { RecoverOptions, DistillLoss } from './recover.js';
