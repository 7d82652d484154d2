// A report as data: headings, paragraphs, lists, tables (rows of cells) and Vega-Lite charts. Markdown
// and HTML are both rendered from the same blocks, so neither is parsed back from the other.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A table cell: text, or text shown in bold (mean rows and the like). */
export type ReportCell = string | { text: string; strong: true };

export interface ReportTable {
  columns: { title: string; align?: 'left' | 'right' }[];
  rows: ReportCell[][];
}

/** A Vega-Lite specification (kept loose: specs are data, checked by vega-lite when compiled). */
export type VegaLiteSpec = Record<string, unknown>;

export type ReportBlock =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; table: ReportTable }
  | { kind: 'chart'; title: string; spec: VegaLiteSpec };

export interface ReportDocument {
  title: string;
  blocks: ReportBlock[];
}

const cellText = (c: ReportCell): string => (typeof c === 'string' ? c : c.text);

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A GitHub-flavoured Markdown pipe table. */
export function tableMarkdown(table: ReportTable): string {
  const cell = (c: ReportCell): string => {
    const t = cellText(c).replace(/\|/g, '\\|');
    return typeof c === 'string' || t === '' ? t : `**${t}**`;
  };
  return [
    `| ${table.columns.map((c) => cell(c.title)).join(' | ')} |`,
    `|${table.columns.map((c) => (c.align === 'right' ? '---:|' : '---|')).join('')}`,
    ...table.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

export function tableHtml(table: ReportTable): string {
  const td = (tag: 'td' | 'th', c: ReportCell, i: number): string => {
    const text = escapeHtml(cellText(c));
    const align = table.columns[i]?.align === 'right' ? ' class="num"' : '';
    return `<${tag}${align}>${typeof c === 'string' ? text : `<b>${text}</b>`}</${tag}>`;
  };
  return `<table><thead><tr>${table.columns.map((c, i) => td('th', c.title, i)).join('')}</tr></thead><tbody>${table.rows.map((r) => `<tr>${r.map((c, i) => td('td', c, i)).join('')}</tr>`).join('')}</tbody></table>`;
}

/** The document as Markdown; charts become ```vega-lite blocks (rendered by viewers that know them). */
export function documentMarkdown(doc: ReportDocument): string {
  const out: string[] = [`# ${doc.title}`, ''];
  for (const b of doc.blocks) {
    switch (b.kind) {
      case 'heading':
        out.push(`${'#'.repeat(b.level)} ${b.text}`, '');
        break;
      case 'paragraph':
        out.push(b.text, '');
        break;
      case 'list':
        out.push(...b.items.map((i) => `- ${i}`), '');
        break;
      case 'table':
        out.push(tableMarkdown(b.table), '');
        break;
      case 'chart':
        out.push(`**${b.title}**`, '', '```vega-lite', JSON.stringify(b.spec, null, 2), '```', '');
        break;
    }
  }
  return out.join('\n');
}

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

/**
 * The document as one self-contained HTML page: vega, vega-lite and vega-embed are inlined from
 * their npm builds, so it opens offline. Charts render as SVG in the page; when all have drawn,
 * <body> gets data-charts-rendered="<count>" (data-chart-error on failure), which tests and tools read.
 */
export function documentHtml(doc: ReportDocument): string {
  const specs: VegaLiteSpec[] = [];
  const body = doc.blocks.map((b) => {
    switch (b.kind) {
      case 'heading':
        return `<h${b.level}>${escapeHtml(b.text)}</h${b.level}>`;
      case 'paragraph':
        return `<p>${escapeHtml(b.text)}</p>`;
      case 'list':
        return `<ul>${b.items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
      case 'table':
        return tableHtml(b.table);
      case 'chart':
        specs.push(b.spec);
        return `<div class="chart"><h3>${escapeHtml(b.title)}</h3><div id="chart-${specs.length - 1}"></div></div>`;
    }
  });
  const libs = specs.length === 0 ? [] : [['vega', 'vega.min.js'], ['vega-lite', 'vega-lite.min.js'], ['vega-embed', 'vega-embed.min.js']].map(([pkg, file]) => fs.readFileSync(path.join(packageDir(pkg!), 'build', file!), 'utf8'));
  const json = JSON.stringify(specs).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(doc.title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}.num{text-align:right}.chart{margin:1.5em 0}</style>
${libs.map(inlineScript).join('\n')}
</head><body>
<h1>${escapeHtml(doc.title)}</h1>
${body.join('\n')}
${inlineScript(`(function(){var specs=${json};Promise.all(specs.map(function(s,i){return vegaEmbed('#chart-'+i,s,{renderer:'svg',actions:false});})).then(function(){document.body.setAttribute('data-charts-rendered',String(specs.length));}).catch(function(e){document.body.setAttribute('data-chart-error',String(e&&e.message||e));});})();`)}
</body></html>
`;
}

/** A Vega-Lite chart drawn to a standalone SVG string with vega's Node API (no browser). */
export async function chartSvg(spec: VegaLiteSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec as unknown as TopLevelSpec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
