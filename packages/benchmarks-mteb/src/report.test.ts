import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartSvg, documentHtml, documentMarkdown, type ReportDocument } from './document.js';
import { reportSpecs, writeReport } from './report.js';
import { chromiumPath, dumpDom } from '../../../tools/test-support/chromium.js';
import type { TaskResult } from './results.js';

const haveChromium = chromiumPath() !== null;

function result(task: string, type: TaskResult['task_type'], domain: string, model: string, rev: string, score: number): TaskResult {
  const s: Record<string, number> = { main_score: score };
  if (type === 'retrieval') for (const k of [1, 3, 5, 10, 100, 1000]) s[`ndcg_at_${k}`] = Math.min(1, score * (0.6 + 0.1 * Math.log10(k)));
  return { task_name: task, task_type: type, domain, dataset_revision: null, scores: { test: [{ hf_subset: 'default', languages: ['eng-Latn'], ...s, main_score: score }] }, evaluation_time: 1, kg_co2_emissions: null, main_metric: type === 'retrieval' ? 'ndcg_at_10' : 'accuracy', model_name: model, model_revision: rev, prunekit_version: '0.1.0', warnings: [] };
}

describe('HTML report', () => {
  const results = [
    result('SciFact', 'retrieval', 'science', 'dense', 'aaaa', 0.62),
    result('SciFact', 'retrieval', 'science', 'pruned-50 <b>', 'bbbb', 0.55),
    result('Banking77Classification', 'classification', 'finance', 'dense', 'aaaa', 0.81),
    result('Banking77Classification', 'classification', 'finance', 'pruned-50 <b>', 'bbbb', 0.78),
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-report-'));
  const file = path.join(dir, 'report.html');
  writeReport(file, results, { title: 'Toy report' });

  it('is one self-contained file: chart libraries inline, no external scripts, text escaped', () => {
    const html = fs.readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).toContain('vegaEmbed');
    expect(html).toContain('pruned-50 &lt;b&gt;');
    expect(html).toMatch(/<td>SciFact<\/td><td>retrieval<\/td><td>science<\/td><td>ndcg_at_10<\/td><td class="num">62\.00<\/td><td class="num">55\.00<\/td>/);
  });

  it.skipIf(!haveChromium)('renders its three charts as SVG in headless Chromium', () => {
    const dom = dumpDom(file);
    {
      // (the inlined libraries contain "<body>" in strings; the page's own body tag carries the flag)
      expect(/<body[^>]*data-chart-error="([^"]*)"/.exec(dom)?.[1]).toBeUndefined();
      expect(/<body[^>]*data-charts-rendered="(\d+)"/.exec(dom)?.[1]).toBe('3');
      for (let i = 0; i < 3; i++) {
        const start = dom.indexOf(`id="chart-${i}"`);
        expect(start).toBeGreaterThan(0);
        const chunk = dom.slice(start, dom.indexOf('</svg>', start));
        expect(chunk).toContain('<svg');
        // drawn marks: bars are paths with role graphics-symbol; the line chart has a line path and points
        expect((chunk.match(/role="graphics-symbol"/g) ?? []).length).toBeGreaterThanOrEqual(i === 2 ? 2 : 4);
      }
      // the bar chart draws one bar per (task, model) with the task names on its axis
      const bars = dom.slice(dom.indexOf('id="chart-0"'), dom.indexOf('</svg>', dom.indexOf('id="chart-0"')));
      expect((bars.match(/aria-roledescription="bar"/g) ?? []).length).toBe(4);
      expect(bars).toContain('>SciFact</text>');
      expect(bars).toContain('>Banking77Classification</text>');
    }
  });
});

describe('report document', () => {
  const doc: ReportDocument = {
    title: 'Doc <1>',
    blocks: [
      { kind: 'heading', level: 2, text: 'Scores' },
      { kind: 'paragraph', text: 'a | b & c' },
      { kind: 'list', items: ['one', 'two'] },
      { kind: 'table', table: { columns: [{ title: 'method' }, { title: 'score', align: 'right' }], rows: [['smp | s', '81.20'], [{ text: 'mean', strong: true }, '80.00']] } },
    ],
  };
  it('renders the same rows as Markdown and as HTML', () => {
    expect(documentMarkdown(doc)).toBe('# Doc <1>\n\n## Scores\n\na | b & c\n\n- one\n- two\n\n| method | score |\n|---|---:|\n| smp \\| s | 81.20 |\n| **mean** | 80.00 |\n');
    const html = documentHtml(doc);
    expect(html).toContain('<title>Doc &lt;1&gt;</title>');
    expect(html).toContain('<h2>Scores</h2>\n<p>a | b &amp; c</p>\n<ul><li>one</li><li>two</li></ul>\n<table><thead><tr><th>method</th><th class="num">score</th></tr></thead><tbody><tr><td>smp | s</td><td class="num">81.20</td></tr><tr><td><b>mean</b></td><td class="num">80.00</td></tr></tbody></table>');
    // no charts: no chart libraries inlined
    expect(html.length).toBeLessThan(5000);
  });
  it('draws a Vega-Lite chart to SVG with vega in Node: one bar per (task, model)', async () => {
    const svg = await chartSvg(reportSpecs([
      result('SciFact', 'retrieval', 'science', 'dense', 'aaaa', 0.62),
      result('SciFact', 'retrieval', 'science', 'pruned', 'bbbb', 0.55),
      result('Banking77Classification', 'classification', 'finance', 'dense', 'aaaa', 0.81),
    ])[0]!.spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect((svg.match(/aria-roledescription="bar"/g) ?? []).length).toBe(3);
    expect(svg).toContain('>SciFact</text>');
  });
});
