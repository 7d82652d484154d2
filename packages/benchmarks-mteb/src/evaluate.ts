// Running tasks: load data, encode (through the embedding cache), compute metrics, write results.
import fs from 'node:fs';
import { EmbeddingCache, encodeTexts } from './cache.js';
import type { Encoder, TextRole } from './encoder.js';
import { loadLabelledTexts, loadPairs, loadReranking, loadRetrieval, loadSts } from './data.js';
import { classificationMetrics, experimentSamples, type ClassificationOptions } from './metrics/classification.js';
import { clusteringMetrics } from './metrics/clustering.js';
import { pairClassificationMetrics } from './metrics/pairClassification.js';
import { rerankingMetrics } from './metrics/reranking.js';
import { exhaustiveSearch, retrievalMetrics, toRun } from './metrics/retrieval.js';
import { stsMetrics } from './metrics/sts.js';
import { readResults, resultFilePath, writeTaskResult, isTaskResult, type SplitScores, type TaskResult } from './results.js';
import type { TaskDefinition } from './tasks.js';
import { PRUNEKIT_VERSION } from './version.js';

export interface ProgressEvent {
  task: string;
  split?: string;
  stage: 'load' | 'encode' | 'metrics' | 'done' | 'skipped';
  /** For 'encode': texts encoded so far / to encode (cache hits excluded). */
  done?: number;
  total?: number;
}

export interface EvaluateOptions {
  /** Root that relative task `data` paths are resolved against. */
  datasetsRoot: string;
  /** Embedding cache folder; no cache when absent. */
  cacheDir?: string;
  /** Texts per encoder call (and per cache shard). Default 256. */
  batchSize?: number;
  /** Splits to run instead of the task's own. */
  splits?: string[];
  /** When set, the result is written to <outputDir>/<model>/<fingerprint>/<task>.json (atomically). */
  outputDir?: string;
  /** Data warnings (also stored in the result). Default: console.warn. */
  onWarning?: (message: string) => void;
  onProgress?: (event: ProgressEvent) => void;
}

type Scores = Record<string, unknown> & { main_score: number };

async function evaluateSplit(encoder: Encoder, task: TaskDefinition, split: string, options: EvaluateOptions, cache: EmbeddingCache | undefined, warnings: string[]): Promise<Scores> {
  const progress = (stage: ProgressEvent['stage'], done?: number, total?: number): void => options.onProgress?.({ task: task.name, split, stage, ...(done !== undefined ? { done, total } : {}) });
  const encode = async (texts: string[], role?: TextRole): Promise<Float32Array[]> => {
    progress('encode', 0, texts.length);
    const { vectors } = await encodeTexts(encoder, texts, { ...(cache ? { cache } : {}), ...(role ? { role } : {}), batchSize: options.batchSize ?? 256, onBatch: (d, t) => { progress('encode', d, t); } });
    return vectors;
  };
  progress('load');
  const root = options.datasetsRoot;
  switch (task.type) {
    case 'retrieval': {
      const data = loadRetrieval(task, root, split);
      for (const w of data.warnings) warnings.push(w);
      const { kValues, scoreFunction, ignoreIdenticalIds, queryBlockSize, corpusBlockSize } = task.options;
      const q = await encode(data.queryTexts, 'query');
      const c = await encode(data.corpusTexts, 'document');
      progress('metrics');
      const lists = exhaustiveSearch(q, c, {
        topK: Math.max(...kValues),
        scoreFunction,
        corpusIds: data.corpusIds,
        queryIds: data.queryIds,
        excludeIdenticalIds: ignoreIdenticalIds,
        ...(queryBlockSize !== undefined ? { queryBlockSize } : {}),
        ...(corpusBlockSize !== undefined ? { corpusBlockSize } : {}),
      });
      const res = retrievalMetrics(data.qrels, toRun(data.queryIds, lists, data.corpusIds), kValues);
      return { ...res.scores, main_score: res.scores[task.metric] ?? Number.NaN, evaluated_queries: res.evaluatedQueries };
    }
    case 'reranking': {
      const rows = loadReranking(task, root, split);
      const queries = await encode(rows.map((r) => r.query), 'query');
      const docs = await encode(rows.flatMap((r) => [...r.positive, ...r.negative]), 'document');
      progress('metrics');
      let p = 0;
      const instances = rows.map((r, i) => {
        const query = queries[i]!;
        const positive = r.positive.map(() => docs[p++]!);
        const negative = r.negative.map(() => docs[p++]!);
        return { query, positive, negative };
      });
      const res = rerankingMetrics(instances);
      if (res.skipped > 0) warnings.push(`${task.name}/${split}: ${res.skipped} of ${rows.length} queries have no positive or no negative candidate and are skipped (as MTEB does)`);
      return { ...res, main_score: (res as Record<string, number>)[task.metric] ?? Number.NaN };
    }
    case 'sts': {
      const d = loadSts(task, root, split);
      const a = await encode(d.sentence1);
      const b = await encode(d.sentence2);
      progress('metrics');
      const res = stsMetrics(a, b, d.scores) as unknown as Record<string, number>;
      return { ...res, main_score: res[task.metric] ?? Number.NaN };
    }
    case 'pair-classification': {
      const d = loadPairs(task, root, split);
      if (!d.labels.includes(1) || !d.labels.includes(0)) throw new Error(`${d.file}: pair classification needs both labels 0 and 1 in split "${split}"`);
      const a = await encode(d.sentence1);
      const b = await encode(d.sentence2);
      progress('metrics');
      const res = pairClassificationMetrics(a, b, d.labels);
      return { ...res, main_score: res[task.metric] ?? Number.NaN };
    }
    case 'classification': {
      const { trainSplit, method, nExperiments, samplesPerLabel, seed, maxIter, k } = task.options;
      const train = loadLabelledTexts(task, root, trainSplit);
      const test = loadLabelledTexts(task, root, split);
      const copts: ClassificationOptions = { method, nExperiments, samplesPerLabel, seed, maxIter, k };
      if (new Set(train.labels).size < 2) throw new Error(`${train.file}: classification needs at least 2 labels in the train split "${trainSplit}"`);
      // encode only the train rows some experiment uses
      const rows = [...new Set(experimentSamples(train.labels, { nExperiments, samplesPerLabel, seed }).flat())].sort((x, y) => x - y);
      const trainVecs = await encode(rows.map((r) => train.texts[r]!));
      const byRow = new Map(rows.map((r, i) => [r, trainVecs[i]!]));
      const testVecs = await encode(test.texts);
      progress('metrics');
      const res = classificationMetrics(train.labels, (r) => byRow.get(r)!, testVecs, test.labels, copts);
      return { ...res, main_score: (res as Record<string, unknown>)[task.metric] as number };
    }
    case 'clustering': {
      const d = loadLabelledTexts(task, root, split);
      const vecs = await encode(d.texts);
      progress('metrics');
      const { nSubsets, subsetSize, batchSize, seed } = task.options;
      const res = clusteringMetrics(vecs, d.labels, { nSubsets, subsetSize, batchSize, seed });
      return { ...res, main_score: (res as Record<string, unknown>)[task.metric] as number };
    }
  }
}

/**
 * Evaluates one task on its splits and returns its result in MTEB's layout. The results file (when
 * outputDir is given) is written only after every split succeeded, atomically: a failed or
 * interrupted run leaves no partial file.
 */
export async function evaluateTask(encoder: Encoder, task: TaskDefinition, options: EvaluateOptions): Promise<TaskResult> {
  const t0 = performance.now();
  const cache = options.cacheDir ? EmbeddingCache.open(options.cacheDir, encoder.fingerprint) : undefined;
  const warnings: string[] = [];
  const scores: Record<string, SplitScores[]> = {};
  for (const split of options.splits ?? task.splits) {
    const before = warnings.length;
    const s = await evaluateSplit(encoder, task, split, options, cache, warnings);
    if (typeof s.main_score !== 'number' || Number.isNaN(s.main_score)) throw new Error(`${task.source ?? task.name}: metric "${task.metric}" is not a score of ${task.type} tasks (or is undefined for split "${split}")`);
    for (const w of warnings.slice(before)) (options.onWarning ?? ((m: string) => { console.warn(`warning: ${m}`); }))(w);
    scores[split] = [{ hf_subset: 'default', languages: ['eng-Latn'], ...s }];
  }
  const result: TaskResult = {
    task_name: task.name,
    task_type: task.type,
    domain: task.domain,
    dataset_revision: null,
    scores,
    evaluation_time: (performance.now() - t0) / 1000,
    kg_co2_emissions: null,
    main_metric: task.metric,
    model_name: encoder.name,
    model_revision: encoder.fingerprint,
    prunekit_version: PRUNEKIT_VERSION,
    warnings,
  };
  if (options.outputDir) writeTaskResult(options.outputDir, result);
  options.onProgress?.({ task: task.name, stage: 'done' });
  return result;
}

export interface SuiteOptions extends EvaluateOptions {
  /** Reuse a task's existing results file for this model and fingerprint instead of re-running it (default true). */
  reuseResults?: boolean;
  /** Keep going after a task fails, collecting the error (default false: the first failure throws). */
  continueOnError?: boolean;
}

export interface SuiteRun {
  results: TaskResult[];
  failures: { task: string; error: Error }[];
}

/**
 * Evaluates tasks in order. With outputDir, finished tasks are skipped on a re-run (their results
 * files are read back), and the embedding cache makes an interrupted task resume without
 * re-encoding what it had finished.
 */
export async function evaluateSuite(encoder: Encoder, tasks: readonly TaskDefinition[], options: SuiteOptions): Promise<SuiteRun> {
  const results: TaskResult[] = [];
  const failures: { task: string; error: Error }[] = [];
  for (const task of tasks) {
    if (options.outputDir && (options.reuseResults ?? true)) {
      const file = resultFilePath(options.outputDir, encoder.name, encoder.fingerprint, task.name);
      if (fs.existsSync(file)) {
        const prev: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (isTaskResult(prev) && prev.model_revision === encoder.fingerprint) {
          results.push(prev);
          options.onProgress?.({ task: task.name, stage: 'skipped' });
          continue;
        }
      }
    }
    try {
      results.push(await evaluateTask(encoder, task, options));
    } catch (e) {
      if (!options.continueOnError) throw e;
      failures.push({ task: task.name, error: e as Error });
    }
  }
  return { results, failures };
}

export { readResults };
