// `prunekit-bench report`: re-renders a report from stored results (Markdown or HTML by extension).
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { claimOutput } from '@prunekit/tensor-core';
import { readResults } from '@prunekit/benchmarks-mteb';
import { CliError } from '@prunekit/cli-support';
import type { BenchContext } from '../context.js';
import { writeHtmlReport, writeMarkdownReport } from '../report.js';

export function registerReport(program: Command, ctx: BenchContext): void {
  program
    .command('report')
    .description('render a report (Markdown for .md, HTML with charts for .html) from a results folder')
    .requiredOption('--results <dir>', 'results folder in MTEB layout (e.g. <out>/results of a run)')
    .requiredOption('--out <file>', 'report file: *.md or *.html')
    .option('--title <text>', 'report title', 'prunekit-bench report')
    .option('--force', 'replace --out even when it is not an earlier prunekit output of this kind')
    .action((opts: { results: string; out: string; title: string; force?: boolean }) => {
      if (!fs.existsSync(opts.results) || !fs.statSync(opts.results).isDirectory()) throw new CliError(`--results ${opts.results}: no such folder`);
      const ext = path.extname(opts.out).toLowerCase();
      if (ext !== '.md' && ext !== '.html' && ext !== '.htm') throw new CliError(`--out ${opts.out}: expected a .md or .html file name`);
      claimOutput({ out: opts.out, kind: 'report', force: opts.force });
      const results = readResults(opts.results);
      if (results.length === 0) throw new CliError(`--results ${opts.results}: no task results found`);
      (ext === '.md' ? writeMarkdownReport : writeHtmlReport)(opts.out, results, { title: opts.title });
      ctx.io.out(`${opts.out}: ${results.length} results, ${new Set(results.map((r) => `${r.model_name}/${r.model_revision}`)).size} models\n`);
    });
}
