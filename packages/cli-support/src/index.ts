// @prunekit/cli-support: what the prunekit and prunekit-bench apps share (apps never import apps).
export { processIo, memoryIo, printJson, warn } from './io.js';
export type { CliIo } from './io.js';
export { CliError, errorMessage, collect, collectList, positiveInt, numberFlag, oneOf } from './errors.js';
export { suiteProgress } from './progress.js';
export type { SuiteProgress, SuiteProgressOptions } from './progress.js';
export { stageProgress } from './stageProgress.js';
export type { StageProgress } from './stageProgress.js';
export { taskRegistry, selectTasks, checkDataRoot } from './tasks.js';
export { runEvaluation } from './evaluate.js';
export type { EvalRun, EvalRunOptions } from './evaluate.js';
export { loadModelEncoder, checkModelDir, mtebRolePrompts } from './encoder.js';
export type { EncoderLoader, LoadedEncoder, LoadEncoderOptions } from './encoder.js';
export { builtinMethods, pluginArgs } from './methods.js';
