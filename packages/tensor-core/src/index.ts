export { initBackend, backendInfo } from './backend.js';
export type { BackendInfo, BackendName, InitBackendOptions } from './backend.js';

export { SafetensorsFile, SafetensorsError, readSafetensors, writeSafetensors, toFloat32, toInt32 } from './io/safetensors.js';
export type { DType, HostTensor, HostData, TensorEntry } from './io/safetensors.js';
export { writeFileAtomic, writeJsonAtomic, writeDirAtomic, faultPoint } from './io/atomic.js';
export { PrunekitError, OutputError } from './io/errors.js';
export { mkdirBounded } from './io/fsutil.js';
export { readTextFile, decodeUtf8 } from './io/text.js';
export { claimOutput, withOutput, settleOutputs, outputKindOf, workAreaOf, OUTPUT_MARKER } from './io/output.js';
export type { OutputKind, OutputClaim, ClaimOutputOptions } from './io/output.js';

export { readConfig, parseConfig, supportedArchitectures, ConfigError, ARCHITECTURES, architectureOf } from './model/config.js';
export type { EncoderConfig, LayerShape, ModelType, HeadType, Activation, Architecture, ArchitectureFamily, DecoderFields, RopeConfig } from './model/config.js';
export { rmsNorm, ropeInverseFrequencies, lastNonPadToken } from './model/decoder.js';
export { EncoderModel, linear, layerNorm, activation } from './model/model.js';
export type { WeightView, EncoderInputs, ForwardOptions, ForwardOutput } from './model/model.js';
export { loadModel, saveModel, weightFiles, toHost, ModelFolderError, COMPANION_FILES } from './model/load.js';
export type { LoadOptions, SaveOptions } from './model/load.js';
export { layerNames, embeddingNames, decoderNames, poolerNames, headNames, parseLinearName, MATRIX_KINDS, FAMILY_LINEARS } from './model/names.js';
export type { MatrixKind, LayerNames } from './model/names.js';
export { pool, readPoolingConfig } from './model/pooling.js';
export type { PoolingMode, PoolingConfig } from './model/pooling.js';
export { modelFingerprint } from './model/fingerprint.js';
export { checkModelFolder } from './model/check.js';

export { prunableParameters, parsePolicy, ATTENTION_AND_MLP, MLP_ONLY, DEFAULT_POLICY } from './prune/policy.js';
export type { PrunablePolicy, PrunableParam } from './prune/policy.js';
export { MaskSet, readMaskManifest } from './prune/maskset.js';
export type { MaskStats, MatrixMaskStats, MaskManifest } from './prune/maskset.js';
export { maskedView, overrideView } from './prune/views.js';

export * from './tokenizer/index.js';
export { SentenceEncoder, readPrompts, selectPrompt } from './model/encoder.js';
export type { SentenceEncodeOptions, SentenceEncoderOptions, PromptOptions } from './model/encoder.js';

export * from './train/index.js';

export { headQkDims, headVDims, RESIDUAL_READERS } from './model/config.js';
export type { ResidualReader } from './model/config.js';
export { COUPLING, headLayout, headGroup, layerGroups, groupOf } from './structure/coupling.js';
export type { CouplingSpec, CouplingGroup, GroupKind, GroupSlice, HeadLayout } from './structure/coupling.js';
export { planFromMasks, planFromGates, planFromLists, PlanError } from './structure/plan.js';
export type { CompactionPlan, LayerPlan, PlanReport, LayerReport, GateMap, MaskPlanOptions, ExplicitRemoval } from './structure/plan.js';
export { compact, validatePlan, layerLinearParameters } from './structure/compact.js';
export { saveCompacted, toDenseCompatible, shapeFormat, EXPORT_FORMS } from './structure/export.js';
export type { ExportForm, ShapeFormat, SaveCompactedOptions } from './structure/export.js';
export {
  allocateMasks, ALLOCATIONS, keepCount, kthLargest, topVMask, allocateKeep, allocateTopV, scoreMass, smpSFractions, thresholdMask, KEEP_ALLOCATIONS,
} from './prune/allocate.js';
export type { Allocation, ScoredMatrix, AllocateOptions, KeepAllocation, KeepMatrix } from './prune/allocate.js';

export { defineMethod, sparsityOption, seedOption, targetsOption, positiveIntOption } from './method/method.js';
export type { MethodDefinition, MethodContext, MethodArtifact, MethodNeeds, MethodData, MethodFamily, ArtifactKind } from './method/method.js';
export { MethodRegistry, loadPlugins, pluginsFromEnv } from './method/registry.js';
export type { PluginApi } from './method/registry.js';
export { optionSpecs, parseMethodOptions, validateMethodOptions, methodHelp, flagOf, MethodOptionError } from './method/options.js';
export type { OptionSpec, OptionType } from './method/options.js';
export { ManifestSchema, readManifest, ArtifactError, ARTIFACT_FORMAT, ARTIFACT_SCHEMA_VERSION, MANIFEST_FILE, MASKS_FILE, GATES_FILE, HEAD_FILE } from './artifact/manifest.js';
export type { Manifest } from './artifact/manifest.js';
export { writeArtifact, buildManifest, modelCard, PRUNEKIT_VERSION } from './artifact/write.js';
export type { WriteArtifactOptions } from './artifact/write.js';
export { z } from 'zod';
export { inspectArtifact, formatInspection, compactArtifact } from './artifact/inspect.js';
export type { ArtifactInspection, CompactArtifactOptions } from './artifact/inspect.js';
export { writeNpyF32 } from './io/npy.js';
export { loadEncoderAdapter, resolveModelFolder } from './model/encoder-adapter.js';
export type { EncoderAdapter, EncoderAdapterOptions } from './model/encoder-adapter.js';
export { exportOnnx, buildOnnxModel, isOnnxExport, ONNX_OUTPUTS, ONNX_MODEL_PATH } from './export/onnx.js';
export type { OnnxExportOptions, OnnxExportReport } from './export/onnx.js';
export { ONNX_ARCHITECTURES, layerSizes } from './export/architectures.js';
export type { OnnxArchitecture, BuiltGraph } from './export/architectures.js';
export { GraphBuilder, ONNX_OPSET, ONNX_IR_VERSION, EXTERNAL_DATA_THRESHOLD } from './export/graph.js';
export type { GraphIo, ElemType, SerializeOptions, SerializedModel, AttributeValue } from './export/graph.js';
export { OnnxSentenceEncoder, openOnnxSession, runOnnx, onnxModelFile } from './runtime/onnx-encoder.js';
export type { OnnxEncoderOptions, OnnxEncodeOptions, OnnxSessionOptions, OnnxForwardOutput } from './runtime/onnx-encoder.js';
export { openEncoder, folderRuntime } from './runtime/open.js';
export type { OpenEncoderOptions, OpenedEncoder, EncoderRuntime } from './runtime/open.js';
export { encodeInBatches, resolveMaxLength } from './model/batching.js';
export type { PaddedBatch, BatchingOptions } from './model/batching.js';
export { WorkQueue, startWorker, parseRedisUrl, jobIdOf, QueueError } from './queue/queue.js';
export type { JobSpec, JobHandler, JobState, EnqueueOptions, QueueProgress, WaitResult, WorkerOptions, RedisTarget } from './queue/queue.js';
export { CLASSIFICATION_TASKS } from './io/classification-tasks.js';
export type { ClassificationTask, ClassificationMetric } from './io/classification-tasks.js';
