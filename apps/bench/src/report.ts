// The bench report: Markdown (models, the aggregate table, notes, failures, data warnings) and the
// self-contained HTML page of benchmarks-mteb (table and charts). Both files are written atomically.
import { aggregateTable, renderReport, writeFileAtomic, type TaskResult } from '@prunekit/benchmarks-mteb';

/** A suite's own part of the report (e.g. gaprune's method × sparsity table and chart). */
export interface ReportSection {
  title: string;
  /** Markdown body (tables, paragraphs); the HTML report shows its tables as tables, other lines as paragraphs. */
  markdown: string;
  /** Vega-Lite specs: drawn in report.html, given as ```vega-lite blocks in report.md. */
  charts?: { title: string; spec: Record<string, unknown> }[];
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
  for (const s of meta.sections ?? []) {
    lines.push(`## ${s.title}`, '', s.markdown.trimEnd(), '');
    for (const c of s.charts ?? []) lines.push(`### ${c.title}`, '', '```vega-lite', JSON.stringify(c.spec, null, 2), '```', '');
  }
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

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Markdown of a section as HTML: pipe tables become tables, other non-empty lines paragraphs. */
export function sectionHtml(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  const cells = (l: string): string[] => l.trim().slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
  const inline = (t: string): string => escapeHtml(t).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>').replace(/`([^`]+)`/g, '<code>$1</code>');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim().startsWith('|')) {
      const block: string[] = [];
      while (i < lines.length && lines[i]!.trim().startsWith('|')) block.push(lines[i++]!);
      i--;
      const [head, , ...body] = block;
      out.push(`<table><thead><tr>${cells(head!).map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${cells(r).map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
    } else if (l.trim() !== '') out.push(`<p>${inline(l.replace(/^[-*] /, ''))}</p>`);
  }
  return out.join('\n');
}

/**
 * The benchmarks-mteb page, with the suite sections (and their charts, drawn with the libraries the
 * page already inlines) before </body>. When the section charts have drawn, <body> gets
 * data-section-charts-rendered="<count>" (data-section-chart-error on failure).
 */
export function htmlReport(results: readonly TaskResult[], meta: ReportMeta): string {
  const page = renderReport(results, { title: meta.title });
  const sections = meta.sections ?? [];
  if (sections.length === 0) return page;
  const specs = sections.flatMap((s) => (s.charts ?? []).map((c) => c.spec));
  let k = 0;
  const body = sections.map((s) => `<div class="section"><h2>${escapeHtml(s.title)}</h2>\n${sectionHtml(s.markdown)}\n${(s.charts ?? []).map((c) => `<div class="chart"><h3>${escapeHtml(c.title)}</h3><div id="section-chart-${k++}"></div></div>`).join('\n')}</div>`).join('\n');
  const json = JSON.stringify(specs).replace(/</g, '\\u003c');
  const script = `<script>(function(){var specs=${json};Promise.all(specs.map(function(s,i){return vegaEmbed('#section-chart-'+i,s,{renderer:'svg',actions:false});})).then(function(){document.body.setAttribute('data-section-charts-rendered',String(specs.length));}).catch(function(e){document.body.setAttribute('data-section-chart-error',String(e&&e.message||e));});})();</script>`;
  const at = page.lastIndexOf('</body>');
  return `${page.slice(0, at)}${body}\n${script}\n${page.slice(at)}`;
}

export function writeHtmlReport(file: string, results: readonly TaskResult[], meta: ReportMeta): void {
  writeFileAtomic(file, htmlReport(results, meta));
}
