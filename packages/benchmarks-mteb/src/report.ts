// The results report: the scores table and charts as document blocks (document.ts renders them to
// Markdown and to a self-contained HTML page).
import { documentHtml, type ReportBlock, type VegaLiteSpec } from './document.js';
import { writeFileAtomic } from './io.js';
import { aggregateRows, mainScore, modelLabel, type TaskResult } from './results.js';

/** The Vega-Lite specs the report draws (exported so callers can reuse or test them). */
export function reportSpecs(results: readonly TaskResult[]): { title: string; spec: VegaLiteSpec }[] {
  const rows = results.map((r) => ({ task: r.task_name, type: r.task_type, domain: r.domain, model: modelLabel(r), metric: r.main_metric, score: mainScore(r) }));
  const specs: { title: string; spec: VegaLiteSpec }[] = [
    {
      title: 'Main score per task',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        data: { values: rows },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          y: { field: 'task', type: 'nominal', sort: { field: 'domain' }, title: null },
          yOffset: { field: 'model' },
          x: { field: 'score', type: 'quantitative', title: 'main score', scale: { domain: [0, 1] } },
          color: { field: 'model', type: 'nominal', legend: { orient: 'bottom', columns: 1 } },
        },
        width: 560,
      },
    },
    {
      title: 'Mean main score per domain',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        data: { values: rows },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'domain', type: 'nominal', title: null },
          xOffset: { field: 'model' },
          y: { aggregate: 'mean', field: 'score', type: 'quantitative', title: 'mean main score', scale: { domain: [0, 1] } },
          color: { field: 'model', type: 'nominal', legend: { orient: 'bottom', columns: 1 } },
        },
        width: 400,
      },
    },
  ];
  const curve: { task: string; model: string; k: number; ndcg: number }[] = [];
  for (const r of results) {
    if (r.task_type !== 'retrieval') continue;
    const first = Object.values(r.scores)[0]?.[0];
    if (!first) continue;
    for (const [key, v] of Object.entries(first)) {
      const m = /^ndcg_at_(\d+)$/.exec(key);
      if (m && typeof v === 'number') curve.push({ task: r.task_name, model: modelLabel(r), k: Number(m[1]), ndcg: v });
    }
  }
  if (curve.length > 0) {
    specs.push({
      title: 'Retrieval: nDCG@k',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        data: { values: curve },
        mark: { type: 'line', point: true, tooltip: true },
        encoding: {
          x: { field: 'k', type: 'quantitative', scale: { type: 'log' }, title: 'k' },
          y: { field: 'ndcg', type: 'quantitative', title: 'nDCG@k' },
          color: { field: 'model', type: 'nominal', legend: { orient: 'bottom', columns: 1 } },
          strokeDash: { field: 'task', type: 'nominal' },
        },
        width: 400,
      },
    });
  }
  return specs;
}

/** The report's blocks: models, the scores table (×100) and the charts of reportSpecs. */
export function resultsBlocks(results: readonly TaskResult[]): ReportBlock[] {
  const models = [...new Set(results.map((r) => `${r.model_name} — revision ${r.model_revision}, prunekit ${r.prunekit_version}`))];
  return [
    { kind: 'paragraph', text: `${results.length} task results. Models:` },
    { kind: 'list', items: models },
    { kind: 'heading', level: 2, text: 'Main scores (×100)' },
    { kind: 'table', table: aggregateRows(results) },
    ...reportSpecs(results).map((s): ReportBlock => ({ kind: 'chart', title: s.title, spec: s.spec })),
  ];
}

export interface ReportOptions {
  title?: string;
}

/** The report as one HTML string (about 850 kB, mostly the inlined chart libraries). */
export function renderReport(results: readonly TaskResult[], options: ReportOptions = {}): string {
  return documentHtml({ title: options.title ?? 'prunekit benchmark report', blocks: resultsBlocks(results) });
}

/** Writes the report atomically. */
export function writeReport(file: string, results: readonly TaskResult[], options: ReportOptions = {}): void {
  writeFileAtomic(file, renderReport(results, options));
}
