// A self-contained HTML report: vega, vega-lite and vega-embed are inlined from their npm builds,
// so the file opens offline. Charts render as SVG; when all have drawn, <body> gets
// data-charts-rendered="<count>" (data-chart-error on failure), which tests and tools can read.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { writeFileAtomic } from './io.js';
import { aggregateTable, mainScore, type TaskResult } from './results.js';

const require = createRequire(import.meta.url);

function packageDir(pkg: string): string {
  // the packages' exports maps hide package.json: resolve the entry point and walk up
  let dir = path.dirname(require.resolve(pkg));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

function inlineScript(code: string): string {
  return `<script>${code.replace(/<\/(script)/gi, '<\\/$1')}</script>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function modelLabel(r: TaskResult): string {
  return `${r.model_name} (${r.model_revision.length <= 16 ? r.model_revision : `${r.model_revision.slice(0, 12)}…`})`;
}

/** The Vega-Lite specs the report draws (exported so callers can reuse or test them). */
export function reportSpecs(results: readonly TaskResult[]): { title: string; spec: Record<string, unknown> }[] {
  const rows = results.map((r) => ({ task: r.task_name, type: r.task_type, domain: r.domain, model: modelLabel(r), metric: r.main_metric, score: mainScore(r) }));
  const specs: { title: string; spec: Record<string, unknown> }[] = [
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

function markdownTableToHtml(md: string): string {
  const lines = md.trim().split('\n').filter((l, i) => i !== 1);
  const cells = (l: string): string[] => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
  const [head, ...body] = lines;
  const fmt = (c: string): string => escapeHtml(c).replace(/\*\*(.+?)\*\*/g, '<b>$1</b>');
  return `<table><thead><tr>${cells(head!).map((c) => `<th>${fmt(c)}</th>`).join('')}</tr></thead><tbody>${body.map((l) => `<tr>${cells(l).map((c) => `<td>${fmt(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export interface ReportOptions {
  title?: string;
}

/** The report as one HTML string (about 850 kB, mostly the inlined chart libraries). */
export function renderReport(results: readonly TaskResult[], options: ReportOptions = {}): string {
  const title = options.title ?? 'prunekit benchmark report';
  const specs = reportSpecs(results);
  const json = JSON.stringify(specs.map((s) => s.spec)).replace(/</g, '\\u003c');
  const libs = [['vega', 'vega.min.js'], ['vega-lite', 'vega-lite.min.js'], ['vega-embed', 'vega-embed.min.js']].map(([pkg, file]) => fs.readFileSync(path.join(packageDir(pkg!), 'build', file!), 'utf8'));
  const models = [...new Set(results.map((r) => `${r.model_name} — revision ${r.model_revision}, prunekit ${r.prunekit_version}`))];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}td:first-child,th:first-child{text-align:left}.chart{margin:1.5em 0}</style>
${libs.map(inlineScript).join('\n')}
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>${results.length} task results. Models:</p><ul>${models.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>
<h2>Main scores (×100)</h2>
${markdownTableToHtml(aggregateTable(results))}
${specs.map((s, i) => `<div class="chart"><h2>${escapeHtml(s.title)}</h2><div id="chart-${i}"></div></div>`).join('\n')}
${inlineScript(`(function(){var specs=${json};Promise.all(specs.map(function(s,i){return vegaEmbed('#chart-'+i,s,{renderer:'svg',actions:false});})).then(function(){document.body.setAttribute('data-charts-rendered',String(specs.length));}).catch(function(e){document.body.setAttribute('data-chart-error',String(e&&e.message||e));});})();`)}
</body></html>
`;
}

/** Writes the report atomically. */
export function writeReport(file: string, results: readonly TaskResult[], options: ReportOptions = {}): void {
  writeFileAtomic(file, renderReport(results, options));
}
