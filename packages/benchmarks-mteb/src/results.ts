// Results in MTEB's layout: one JSON per task under <out>/<model>/<revision>/<Task>.json (plus
// model_meta.json), and an aggregate Markdown table.
import fs from 'node:fs';
import path from 'node:path';
import { tableMarkdown, type ReportCell, type ReportTable } from './document.js';
import { writeJsonAtomic } from './io.js';
import type { TaskType } from './tasks.js';

export interface SplitScores {
  hf_subset: string;
  languages: string[];
  main_score: number;
  [metric: string]: unknown;
}

export interface TaskResult {
  task_name: string;
  task_type: TaskType;
  domain: string;
  /** MTEB records the HF dataset revision; data on disk has none, so this is null. */
  dataset_revision: string | null;
  /** split → one entry per subset (always the single "default" subset here). */
  scores: Record<string, SplitScores[]>;
  /** Seconds. */
  evaluation_time: number;
  kg_co2_emissions: null;
  /** Metric key of main_score. */
  main_metric: string;
  model_name: string;
  /** The encoder's fingerprint. */
  model_revision: string;
  prunekit_version: string;
  /** Data problems found while loading (e.g. qrels naming unknown ids), with counts. */
  warnings: string[];
}

function safeSegment(s: string): string {
  const t = s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 100);
  return t === '' ? '_' : t;
}

export function resultFilePath(outputDir: string, modelName: string, modelRevision: string, taskName: string): string {
  return path.join(outputDir, safeSegment(modelName), safeSegment(modelRevision), `${safeSegment(taskName)}.json`);
}

/** Writes the task's results file (atomically) and the model_meta.json beside it. */
export function writeTaskResult(outputDir: string, result: TaskResult): string {
  const file = resultFilePath(outputDir, result.model_name, result.model_revision, result.task_name);
  writeJsonAtomic(path.join(path.dirname(file), 'model_meta.json'), { name: result.model_name, revision: result.model_revision, prunekit_version: result.prunekit_version });
  writeJsonAtomic(file, result);
  return file;
}

export function isTaskResult(v: unknown): v is TaskResult {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.task_name === 'string' && typeof o.model_name === 'string' && typeof o.scores === 'object' && o.scores !== null;
}

/** Reads every task result under a results folder (skips model_meta.json and other JSON). */
export function readResults(outputDir: string): TaskResult[] {
  const out: TaskResult[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.json') && e.name !== 'model_meta.json') {
        let v: unknown;
        try {
          v = JSON.parse(fs.readFileSync(p, 'utf8'));
        } catch (err) {
          throw new Error(`${p}: not valid JSON (${(err as Error).message})`);
        }
        if (isTaskResult(v)) out.push(v);
      }
    }
  };
  if (fs.existsSync(outputDir)) walk(outputDir);
  return out.sort((a, b) => a.task_name.localeCompare(b.task_name) || a.model_name.localeCompare(b.model_name));
}

/** Main score of a result: the mean over its splits of the default subset's main_score. */
export function mainScore(r: TaskResult): number {
  const vals = Object.values(r.scores).map((s) => s[0]?.main_score ?? Number.NaN);
  return vals.reduce((a, b) => a + b, 0) / vals.length;
}

/** A result's model as the report's columns and legends name it: name and short revision. */
export function modelLabel(r: TaskResult): string {
  return `${r.model_name} (${r.model_revision.length <= 16 ? r.model_revision : `${r.model_revision.slice(0, 12)}…`})`;
}

/**
 * The scores table as rows: one row per task (type, domain, main metric), one column per model (name
 * and short revision), values ×100 with two decimals as MTEB's leaderboard shows them, then the mean
 * per domain and overall.
 */
export function aggregateRows(results: readonly TaskResult[]): ReportTable {
  const models = [...new Set(results.map(modelLabel))];
  const tasks = [...new Map(results.map((r) => [r.task_name, r])).values()].sort((a, b) => a.domain.localeCompare(b.domain) || a.task_name.localeCompare(b.task_name));
  const get = (task: string, model: string): number | undefined => {
    const r = results.find((x) => x.task_name === task && modelLabel(x) === model);
    return r ? mainScore(r) : undefined;
  };
  const fmt = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : (100 * v).toFixed(2));
  const avg = (names: string[], m: string): number | undefined => {
    const v = names.map((n) => get(n, m)).filter((x): x is number => x !== undefined);
    return v.length === names.length && v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
  };
  const rows: ReportCell[][] = tasks.map((t) => [t.task_name, t.task_type, t.domain, t.main_metric, ...models.map((m) => fmt(get(t.task_name, m)))]);
  const meanRow = (label: string, names: string[]): ReportCell[] => [{ text: `mean ${label} (${names.length})`, strong: true }, '', '', '', ...models.map((m) => fmt(avg(names, m)))];
  for (const d of [...new Set(tasks.map((t) => t.domain))]) rows.push(meanRow(d, tasks.filter((t) => t.domain === d).map((t) => t.task_name)));
  rows.push(meanRow('all', tasks.map((t) => t.task_name)));
  return { columns: [{ title: 'task' }, { title: 'type' }, { title: 'domain' }, { title: 'metric' }, ...models.map((m) => ({ title: m, align: 'right' as const }))], rows };
}

/** aggregateRows as a Markdown table. */
export function aggregateTable(results: readonly TaskResult[]): string {
  return tableMarkdown(aggregateRows(results)) + '\n';
}
