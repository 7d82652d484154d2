// Loading a task's data from disk into plain arrays, with clear errors and counted warnings.
import fs from 'node:fs';
import path from 'node:path';
import { DataError, numberField, readJsonl, readQrels, stringField } from './io.js';
import type { TaskDefinition, TaskOf } from './tasks.js';

export function taskDataDir(task: TaskDefinition, datasetsRoot: string): string {
  return path.isAbsolute(task.data) ? task.data : path.join(datasetsRoot, task.data);
}

function splitFile(dir: string, split: string, ext = '.jsonl'): string {
  const f = path.join(dir, `${split}${ext}`);
  if (!fs.existsSync(f)) throw new DataError(`${f}: split "${split}" not found (expected ${split}${ext} in ${dir})`);
  return f;
}

function nonEmpty<T>(rows: T[], file: string, split: string): T[] {
  if (rows.length === 0) throw new DataError(`${file}: split "${split}" is empty (0 rows)`);
  return rows;
}

export interface RetrievalData {
  corpusIds: string[];
  corpusTexts: string[];
  queryIds: string[];
  queryTexts: string[];
  qrels: Record<string, Record<string, number>>;
  warnings: string[];
}

/**
 * BEIR layout. Document text is (title + " " + text).trim() as MTEB builds it. Only queries that
 * have qrels in the split are evaluated (BEIR's loader keeps those). Qrels rows naming a query
 * absent from queries.jsonl cannot be evaluated and are reported; rows naming a document absent
 * from corpus.jsonl stay in the qrels (they count as relevant documents that can never be
 * retrieved, as trec_eval counts them) and are reported.
 */
export function loadRetrieval(task: TaskOf<'retrieval'>, datasetsRoot: string, split: string): RetrievalData {
  const dir = taskDataDir(task, datasetsRoot);
  const corpusFile = path.join(dir, 'corpus.jsonl');
  const queriesFile = path.join(dir, 'queries.jsonl');
  const qrelsFile = path.join(dir, 'qrels', `${split}.tsv`);
  if (!fs.existsSync(qrelsFile)) throw new DataError(`${qrelsFile}: split "${split}" not found (expected qrels/${split}.tsv in ${dir})`);
  const corpusIds: string[] = [];
  const corpusTexts: string[] = [];
  const seenDocs = new Set<string>();
  for (const { line, row } of readJsonl(corpusFile)) {
    const id = stringField(corpusFile, line, row, '_id', { allowNumber: true });
    if (seenDocs.has(id)) throw new DataError(`${corpusFile}:${line}: duplicate document id "${id}"`);
    seenDocs.add(id);
    const title = stringField(corpusFile, line, row, 'title', { optional: true });
    const text = stringField(corpusFile, line, row, 'text');
    corpusIds.push(id);
    corpusTexts.push(`${title} ${text}`.trim());
  }
  nonEmpty(corpusIds, corpusFile, 'corpus');
  const queries = new Map<string, string>();
  for (const { line, row } of readJsonl(queriesFile)) {
    queries.set(stringField(queriesFile, line, row, '_id', { allowNumber: true }), stringField(queriesFile, line, row, 'text'));
  }
  const { qrels, rows } = readQrels(qrelsFile);
  if (rows === 0) throw new DataError(`${qrelsFile}: split "${split}" is empty (0 qrels rows)`);
  const warnings: string[] = [];
  let unknownQueryRows = 0;
  const unknownQueries = new Set<string>();
  let unknownDocRows = 0;
  const unknownDocs = new Set<string>();
  const evaluated: Record<string, Record<string, number>> = {};
  for (const [qid, docs] of Object.entries(qrels)) {
    const n = Object.keys(docs).length;
    if (!queries.has(qid)) {
      unknownQueries.add(qid);
      unknownQueryRows += n;
      continue;
    }
    for (const d of Object.keys(docs)) {
      if (!seenDocs.has(d)) {
        unknownDocRows++;
        unknownDocs.add(d);
      }
    }
    evaluated[qid] = docs;
  }
  if (unknownQueries.size > 0) warnings.push(`${qrelsFile}: ${unknownQueryRows} qrels rows name ${unknownQueries.size} query ids absent from ${queriesFile} (e.g. "${[...unknownQueries][0]}"); those queries are not evaluated`);
  if (unknownDocRows > 0) warnings.push(`${qrelsFile}: ${unknownDocRows} qrels rows name ${unknownDocs.size} document ids absent from ${corpusFile} (e.g. "${[...unknownDocs][0]}"); they stay in the qrels as relevant documents that cannot be retrieved`);
  const queryIds = Object.keys(evaluated);
  if (queryIds.length === 0) throw new DataError(`${qrelsFile}: none of the ${Object.keys(qrels).length} queries of split "${split}" is in ${queriesFile}`);
  return { corpusIds, corpusTexts, queryIds, queryTexts: queryIds.map((q) => queries.get(q)!), qrels: evaluated, warnings };
}

export interface LabelledTexts {
  texts: string[];
  labels: string[];
  file: string;
}

/** {text, label} rows (classification, clustering). Labels may be strings or numbers. */
export function loadLabelledTexts(task: TaskOf<'classification' | 'clustering'>, datasetsRoot: string, split: string): LabelledTexts {
  const file = splitFile(taskDataDir(task, datasetsRoot), split);
  const { textField: tf, labelField: lf } = task.options;
  const texts: string[] = [];
  const labels: string[] = [];
  for (const { line, row } of readJsonl(file)) {
    texts.push(stringField(file, line, row, tf));
    labels.push(stringField(file, line, row, lf, { allowNumber: true }));
  }
  nonEmpty(texts, file, split);
  return { texts, labels, file };
}

export interface PairData {
  sentence1: string[];
  sentence2: string[];
  file: string;
}

/** STS rows {sentence1, sentence2, score}. */
export function loadSts(task: TaskOf<'sts'>, datasetsRoot: string, split: string): PairData & { scores: number[] } {
  const file = splitFile(taskDataDir(task, datasetsRoot), split);
  const { sentence1Field: s1, sentence2Field: s2, scoreField: sf } = task.options;
  const out = { sentence1: [] as string[], sentence2: [] as string[], scores: [] as number[], file };
  for (const { line, row } of readJsonl(file)) {
    out.sentence1.push(stringField(file, line, row, s1));
    out.sentence2.push(stringField(file, line, row, s2));
    out.scores.push(numberField(file, line, row, sf));
  }
  nonEmpty(out.scores, file, split);
  return out;
}

/** Pair classification rows {sentence1, sentence2, label ∈ {0, 1}}. */
export function loadPairs(task: TaskOf<'pair-classification'>, datasetsRoot: string, split: string): PairData & { labels: (0 | 1)[] } {
  const file = splitFile(taskDataDir(task, datasetsRoot), split);
  const { sentence1Field: s1, sentence2Field: s2, labelField: lf } = task.options;
  const out = { sentence1: [] as string[], sentence2: [] as string[], labels: [] as (0 | 1)[], file };
  for (const { line, row } of readJsonl(file)) {
    out.sentence1.push(stringField(file, line, row, s1));
    out.sentence2.push(stringField(file, line, row, s2));
    const v = row[lf];
    if (v === undefined || v === null) throw new DataError(`${file}:${line}: field "${lf}" is missing (expected 0 or 1)`);
    const n = v === true || v === 1 || v === '1' ? 1 : v === false || v === 0 || v === '0' ? 0 : null;
    if (n === null) throw new DataError(`${file}:${line}: field "${lf}" must be 0 or 1, got ${JSON.stringify(v)}`);
    out.labels.push(n);
  }
  nonEmpty(out.labels, file, split);
  return out;
}

export interface RerankingRow {
  query: string;
  positive: string[];
  negative: string[];
}

/** Reranking rows {query: string, positive: string[], negative: string[]} (MTEB's reranking format). */
export function loadReranking(task: TaskOf<'reranking'>, datasetsRoot: string, split: string): RerankingRow[] {
  const file = splitFile(taskDataDir(task, datasetsRoot), split);
  const rows: RerankingRow[] = [];
  for (const { line, row } of readJsonl(file)) {
    const query = stringField(file, line, row, 'query');
    const lists: Record<'positive' | 'negative', string[]> = { positive: [], negative: [] };
    for (const f of ['positive', 'negative'] as const) {
      const v = row[f];
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new DataError(`${file}:${line}: field "${f}" must be an array of strings, got ${JSON.stringify(v)}`);
      lists[f] = v as string[];
    }
    rows.push({ query, ...lists });
  }
  return nonEmpty(rows, file, split);
}
