// @prunekit/benchmarks-mteb: MTEB-style tasks and metrics for any encoder (no TensorFlow).
export type { Encoder, TextRole } from './encoder.js';
export { Rng } from './rng.js';

// tasks and data
export { TASK_TYPES, DEFAULT_MAIN_METRIC, TASK_OPTION_SCHEMAS, taskFileSchema, TaskRegistry, TaskDefinitionError, validateTask, validateSuite, loadTaskFile, loadSuiteFile, builtinTasksDir } from './tasks.js';
export type { TaskType, TaskDefinition, TaskOf, TaskOptions, SuiteDefinition } from './tasks.js';
export { loadRetrieval, loadLabelledTexts, loadSts, loadPairs, loadReranking, taskDataDir } from './data.js';
export type { RetrievalData, LabelledTexts, PairData, RerankingRow } from './data.js';
export { DataError, readJsonl, stringField, numberField, readQrels, readQrelsRows, writeQrels, writeFileAtomic, writeJsonAtomic } from './io.js';
export type { QrelsRow, QrelsFile } from './io.js';

// running
export { evaluateTask, evaluateSuite } from './evaluate.js';
export type { EvaluateOptions, SuiteOptions, SuiteRun, ProgressEvent } from './evaluate.js';
export { EmbeddingCache, encodeTexts, textHash } from './cache.js';
export type { EncodeStats } from './cache.js';

// results and report
export { writeTaskResult, readResults, resultFilePath, aggregateTable, aggregateRows, modelLabel, mainScore, isTaskResult } from './results.js';
export type { TaskResult, SplitScores } from './results.js';
export { renderReport, writeReport, reportSpecs, resultsBlocks } from './report.js';
export { documentMarkdown, documentHtml, tableMarkdown, tableHtml, chartSvg } from './document.js';
export type { ReportDocument, ReportBlock, ReportTable, ReportCell, VegaLiteSpec } from './document.js';
export type { ReportOptions } from './report.js';
export { PRUNEKIT_VERSION } from './version.js';

// metrics
export { exhaustiveSearch, retrievalMetrics, toRun, DEFAULT_K_VALUES } from './metrics/retrieval.js';
export type { Qrels, Run, RankedList, SearchOptions, ScoreFunction, RetrievalMetricsResult } from './metrics/retrieval.js';
export { rerankingMetrics } from './metrics/reranking.js';
export type { RerankingInstance } from './metrics/reranking.js';
export { stsMetrics, pairedSimilarities } from './metrics/sts.js';
export type { StsScores } from './metrics/sts.js';
export { pairClassificationMetrics, thresholdScores } from './metrics/pairClassification.js';
export type { ThresholdScores } from './metrics/pairClassification.js';
export { classificationMetrics, classificationScores, matthewsCorrcoef, f1PerLabel, fitLogisticRegression, predictLogisticRegression, predictKnn, undersample, experimentSamples } from './metrics/classification.js';
export type { ClassificationOptions, ClassificationResult, LogisticRegressionModel, LogisticRegressionOptions } from './metrics/classification.js';
export { clusteringMetrics, miniBatchKMeans, vMeasure, bootstrapSubsets } from './metrics/clustering.js';
export type { ClusteringOptions, MiniBatchKMeansOptions } from './metrics/clustering.js';
export { pearson, spearman, averagePrecision, averageRanks } from './metrics/stats.js';
export { lbfgs } from './metrics/lbfgs.js';
