// Training primitives shared by every method: seeded randomness, schedules, AdamW, gradient
// accumulation and clipping, losses, jsonl batches, the trainer every method trains with.
export { Rng, createRng } from './rng.js';
export { dropout, dropoutMask } from './dropout.js';
export type { Seed } from './rng.js';
export {
  constantSchedule,
  constantWithWarmupSchedule,
  linearWarmupSchedule,
  cosineWarmupSchedule,
  cubicSparsitySchedule,
} from './schedules.js';
export type { Schedule, CubicSparsityOptions } from './schedules.js';
export { variableEntries, variableGrads, disposeTensors, globalNorm, clipByGlobalNorm } from './variables.js';
export type { VariableMap, ValueAndGrads, ClipResult } from './variables.js';
export { AdamW, isNoDecayParam } from './adamw.js';
export type { AdamWOptions, AdamWState } from './adamw.js';
export { GradientAccumulator, accumulateInto } from './accumulate.js';
export type { GradientAccumulatorOptions } from './accumulate.js';
export { stopGradient, l2Normalize, cosineSimilarity, crossEntropyLoss, mlmLoss, infoNCELoss, kdLoss } from './losses.js';
export type { Labels, CrossEntropyOptions, InfoNCEOptions, KDOptions } from './losses.js';
export { readJsonl, loadJsonl, jsonlBatches, parseJsonlRecord, batchesPerEpoch } from './jsonl.js';
export type { FieldType, FieldSpec, RecordOf, JsonlReadOptions, JsonlLine, JsonlBatchOptions, Batch } from './jsonl.js';
export { BatchOrder, train, trainSync, CHECKPOINT_FILE } from './trainer.js';
export type {
  BatchOrderOptions, VariableGroup, StepContext, Regulariser, TrainerStepLog, TrainerState, TrainerCheckpointOptions, TrainerOptions, TrainerResult,
} from './trainer.js';
export { writeCheckpoint, readCheckpoint, checkpointTensor, hostTensor } from './checkpoint.js';
export type { CheckpointData } from './checkpoint.js';
