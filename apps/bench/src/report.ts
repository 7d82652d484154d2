// The bench report: Markdown (models, the aggregate table, notes, failures, data warnings) and the
// self-contained HTML page of benchmarks-mteb (table and charts). Both files are written atomically.
import { aggregateTable, writeFileAtomic, writeReport, type TaskResult } from '@prunekit/benchmarks-mteb';

export interface ReportMeta {
  title: string;
  /** Models with their wall time in this run; when absent, summed task evaluation times are shown. */
  models?: { name: string; fingerprint: string; path?: string; wallTime?: number }[];
  notes?: string[];
  failures?: { model: string; task: string; error: string }[];
  /** Wall time of the whole run (seconds). */
  wallTime?: number;
}

const esc = (s: string): string => s.replace(/\|/g, '\\|');

export function markdownReport(results: readonly TaskResult[], meta: ReportMeta): string {
  const lines = [`# ${meta.title}`, ''];
  const models = meta.models ?? [...new Map(results.map((r) => [`${r.model_name}\0${r.model_revision}`, { name: r.model_name, fingerprint: r.model_revision }])).values()];
  lines.push('| model | fingerprint | tasks | time (s) |', '|---|---|---:|---:|');
  for (const m of models) {
    const mine = results.filter((r) => r.model_name === m.name && r.model_revision === m.fingerprint);
    const wall = 'wallTime' in m && typeof m.wallTime === 'number' ? m.wallTime : mine.reduce((a, r) => a + r.evaluation_time, 0);
    lines.push(`| ${esc(m.name)} | ${esc(m.fingerprint)} | ${mine.length} | ${wall.toFixed(1)} |`);
  }
  lines.push('');
  if (meta.wallTime !== undefined) lines.push(`Total wall time: ${meta.wallTime.toFixed(1)} s.`, '');
  for (const n of meta.notes ?? []) lines.push(`- ${n}`);
  if ((meta.notes ?? []).length > 0) lines.push('');
  lines.push('## Main scores (×100)', '', results.length > 0 ? aggregateTable(results).trimEnd() : '(no results)', '');
  if ((meta.failures ?? []).length > 0) {
    lines.push('## Failures', '');
    for (const f of meta.failures!) lines.push(`- ${esc(f.model)} / ${f.task}: ${f.error}`);
    lines.push('');
  }
  const warnings = results.flatMap((r) => r.warnings.map((w) => `${r.model_name} / ${r.task_name}: ${w}`));
  if (warnings.length > 0) {
    lines.push('## Data warnings', '');
    for (const w of warnings) lines.push(`- ${w}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function writeMarkdownReport(file: string, results: readonly TaskResult[], meta: ReportMeta): void {
  writeFileAtomic(file, markdownReport(results, meta));
}

export function writeHtmlReport(file: string, results: readonly TaskResult[], meta: ReportMeta): void {
  writeReport(file, results, { title: meta.title });
}
