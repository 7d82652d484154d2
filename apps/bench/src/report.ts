// The bench report as one document (models, the aggregate table, notes, suite sections with their
// tables and charts, failures, data warnings), rendered by benchmarks-mteb to Markdown and to its
// self-contained HTML page. Both files are written atomically.
import { aggregateRows, documentHtml, documentMarkdown, resultsBlocks, writeFileAtomic, type ReportBlock, type ReportDocument, type ReportTable, type TaskResult, type VegaLiteSpec } from '@prunekit/benchmarks-mteb';

/** A suite's own part of the report (e.g. gaprune's method × sparsity table and chart). */
export interface ReportSection {
  title: string;
  /** Paragraphs and tables, in order. */
  blocks: ({ kind: 'paragraph'; text: string } | { kind: 'table'; table: ReportTable })[];
  /** Vega-Lite specs: drawn in report.html, given as ```vega-lite blocks in report.md. */
  charts?: { title: string; spec: VegaLiteSpec }[];
}

export interface ReportMeta {
  title: string;
  /** Models with their wall time in this run; when absent, summed task evaluation times are shown. */
  models?: { name: string; fingerprint: string; path?: string; wallTime?: number }[];
  notes?: string[];
  failures?: { model: string; task: string; error: string }[];
  /** Wall time of the whole run (seconds). */
  wallTime?: number;
  /** Suite sections, after the main table. */
  sections?: ReportSection[];
}

/** The report's blocks; `withResultCharts` adds benchmarks-mteb's charts of the results (HTML page). */
export function reportDocument(results: readonly TaskResult[], meta: ReportMeta, withResultCharts: boolean): ReportDocument {
  const blocks: ReportBlock[] = [];
  const models = meta.models ?? [...new Map(results.map((r) => [`${r.model_name}\0${r.model_revision}`, { name: r.model_name, fingerprint: r.model_revision }])).values()];
  blocks.push({
    kind: 'table',
    table: {
      columns: [{ title: 'model' }, { title: 'fingerprint' }, { title: 'tasks', align: 'right' }, { title: 'time (s)', align: 'right' }],
      rows: models.map((m) => {
        const mine = results.filter((r) => r.model_name === m.name && r.model_revision === m.fingerprint);
        const wall = 'wallTime' in m && typeof m.wallTime === 'number' ? m.wallTime : mine.reduce((a, r) => a + r.evaluation_time, 0);
        return [m.name, m.fingerprint, String(mine.length), wall.toFixed(1)];
      }),
    },
  });
  if (meta.wallTime !== undefined) blocks.push({ kind: 'paragraph', text: `Total wall time: ${meta.wallTime.toFixed(1)} s.` });
  if ((meta.notes ?? []).length > 0) blocks.push({ kind: 'list', items: meta.notes! });
  if (withResultCharts && results.length > 0) blocks.push(...resultsBlocks(results));
  else blocks.push({ kind: 'heading', level: 2, text: 'Main scores (×100)' }, results.length > 0 ? { kind: 'table', table: aggregateRows(results) } : { kind: 'paragraph', text: '(no results)' });
  for (const s of meta.sections ?? []) {
    blocks.push({ kind: 'heading', level: 2, text: s.title }, ...s.blocks);
    for (const c of s.charts ?? []) blocks.push({ kind: 'chart', title: c.title, spec: c.spec });
  }
  if ((meta.failures ?? []).length > 0) blocks.push({ kind: 'heading', level: 2, text: 'Failures' }, { kind: 'list', items: meta.failures!.map((f) => `${f.model} / ${f.task}: ${f.error}`) });
  const warnings = results.flatMap((r) => r.warnings.map((w) => `${r.model_name} / ${r.task_name}: ${w}`));
  if (warnings.length > 0) blocks.push({ kind: 'heading', level: 2, text: 'Data warnings' }, { kind: 'list', items: warnings });
  return { title: meta.title, blocks };
}

export function markdownReport(results: readonly TaskResult[], meta: ReportMeta): string {
  return documentMarkdown(reportDocument(results, meta, false));
}

export function writeMarkdownReport(file: string, results: readonly TaskResult[], meta: ReportMeta): void {
  writeFileAtomic(file, markdownReport(results, meta));
}

/** The HTML page: the same blocks plus the result charts; <body> gets data-charts-rendered="<count>" once all have drawn. */
export function htmlReport(results: readonly TaskResult[], meta: ReportMeta): string {
  return documentHtml(reportDocument(results, meta, true));
}

export function writeHtmlReport(file: string, results: readonly TaskResult[], meta: ReportMeta): void {
  writeFileAtomic(file, htmlReport(results, meta));
}
