// @prunekit/mask-smp: Static Model Pruning (learned Top-v masks over frozen weights) and its
// baselines (movement pruning, magnitude pruning with fine-tuning, dense fine-tuning).
// Top-v and the SMP-L / SMP-S keep counts live in tensor-core's allocator module (re-exported here)
export { keepCount, kthLargest, topVMask, allocateKeep, scoreMass, smpSFractions } from '@prunekit/tensor-core';
export type { KeepAllocation as Allocation, KeepMatrix as AllocMatrix } from '@prunekit/tensor-core';
export { packBits, unpackBits } from './maskio.js';
export { steMaskedWeight } from './ste.js';
export { keepSchedule, regulariserWeight } from './schedule.js';
export type { KeepScheduleOptions } from './schedule.js';
export { TASKS, resolveTask, checkTemplate } from './tasks.js';
export type { TaskSpec, Metric } from './tasks.js';
export { loadExamples, encodeExamples, resolveLabelWords, makeBatch, disposeBatch, HEAD_VARIANTS } from './data.js';
export type { Example, EncodedExample, HeadVariant, LabelWords, TensorBatch, LoadOptions as ExampleLoadOptions, EncodeOptions } from './data.js';
export { labelWordLogits } from './head.js';
export { classificationScores, matthewsCorrcoef, mainScore } from './metrics.js';
export type { Scores } from './metrics.js';
export { trainMethod, evaluate, teacherLogits, PRUNE_METHODS, LAMBDA_SCALES, BERT_BASE_SCORES, authorsTemperature, effectiveLambda } from './train.js';
export type { PruneMethod, LambdaScale, RegulariserCheck, TrainConfig, TrainData, TrainResult, TrainHooks, StepLog, EvalLog } from './train.js';
export { saveBitMasks, loadBitMasks, BITMASK_FILE, MANIFEST_FILE } from './maskio.js';
export type { BitMaskEntry, BitMaskManifest } from './maskio.js';
export { runSmp, teacherFolder, trainHoldout } from './run.js';
export type { RunOptions, RunResult } from './run.js';
export { smpMethods, keepFromSparsity } from './methods.js';
export { trainSmp } from './run.js';
export type { SmpTrained } from './run.js';
