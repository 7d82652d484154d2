// `prunekit-bench run`: one suite over a list of models; writes <out>/results (MTEB layout),
// <out>/report.md and <out>/report.html.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { claimOutput } from '@prunekit/tensor-core';
import { aggregateTable, readResults, resultFilePath, writeTaskResult } from '@prunekit/benchmarks-mteb';
import { checkDataRoot, checkModelDir, CliError, collect, collectList, positiveInt } from '@prunekit/cli-support';
import type { BenchContext } from '../context.js';
import type { BenchOutcome, BenchSuite } from '../suites/index.js';
import { writeHtmlReport, writeMarkdownReport } from '../report.js';
import { runSuiteOnQueue } from '../queue.js';
import type { BenchRunContext } from '../suites/types.js';

interface RunOptions {
  suite: string;
  models: string[];
  dataRoot: string;
  out: string;
  quick?: boolean;
  cache?: string | false;
  batchSize: number;
  tasksDir?: string[];
  title?: string;
  force?: boolean;
  queue?: string;
  queueName: string;
  attempts: number;
  json?: boolean;
}

export function registerRun(program: Command, ctx: BenchContext): void {
  program
    .command('run')
    .description('run a suite over models; writes <out>/results/, <out>/report.md and <out>/report.html')
    .requiredOption('--suite <name>', 'suite to run (`prunekit-bench suites` lists them)')
    .requiredOption('--models <dirs>', 'comma-separated model folders (repeatable)', collectList)
    .requiredOption('--data-root <dir>', 'datasets root')
    .requiredOption('--out <dir>', 'output folder')
    .option('--quick', 'a faster, smaller run (the suite says in the report what it reduced)')
    .option('--cache <dir>', 'embedding cache folder (default: <out>/cache/embeddings)')
    .option('--no-cache', 'do not cache embeddings')
    .option('--batch-size <n>', 'texts per forward pass', positiveInt('--batch-size'), 32)
    .option('--tasks-dir <dir>', 'also read task files (and suites/) from this folder; repeatable', collect)
    .option('--title <text>', 'report title')
    .option('--force', 'write into --out even when it is not an earlier prunekit output of this kind')
    .option('--queue <url>', 'run the cells as jobs on a BullMQ queue at redis://HOST:PORT[/DB]; `prunekit-bench worker` processes run them (same --out and model paths on a shared filesystem)')
    .option('--queue-name <name>', 'queue name in Redis', 'prunekit')
    .option('--attempts <n>', 'with --queue: tries per cell (retries back off exponentially from 2 s)', positiveInt('--attempts'), 3)
    .option('--json', 'machine-readable output on stdout: queue progress as JSON lines, then a summary object')
    .action(async (opts: RunOptions) => {
      const { io } = ctx;
      const suite = ctx.suites.get(opts.suite, { tasksDirs: opts.tasksDir ?? [] });
      checkDataRoot(opts.dataRoot);
      if (opts.models.length === 0) throw new CliError('--models: give at least one model folder');
      const models = opts.models.map((m) => checkModelDir(m, '--models'));
      const seen = new Map<string, string>();
      for (const [i, m] of models.entries()) {
        const real = fs.realpathSync(m);
        const twin = seen.get(real);
        if (twin !== undefined) throw new CliError(`--models names the same model twice (${twin} and ${opts.models[i]}); each model runs once`);
        seen.set(real, opts.models[i]!);
      }
      // every model is checked before any cell runs: a broken folder is found at once, not after hours
      for (const [i, m] of models.entries()) {
        try {
          await ctx.validateModel(m);
        } catch (e) {
          throw new CliError(`--models ${opts.models[i]}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      const out = path.resolve(opts.out);
      claimOutput({ out, kind: 'bench-results', inputs: models, force: opts.force });
      const t0 = performance.now();
      const runCtx: BenchRunContext = {
        io,
        loadEncoder: ctx.loadEncoder,
        models,
        dataRoot: path.resolve(opts.dataRoot),
        outDir: out,
        resultsDir: path.join(out, 'results'),
        cacheDir: opts.cache === false ? undefined : path.resolve(opts.cache ?? path.join(out, 'cache', 'embeddings')),
        batchSize: opts.batchSize,
        quick: opts.quick ?? false,
        tasksDirs: (opts.tasksDir ?? []).map((d) => path.resolve(d)),
        methods: ctx.methods,
      };
      const outcome = opts.queue
        ? await runSuiteOnQueue(io, suite, runCtx, { url: opts.queue, name: opts.queueName, json: opts.json ?? false, attempts: opts.attempts, backoffMs: 2000 })
        : await runSuite(suite, runCtx);
      const wallTime = (performance.now() - t0) / 1000;
      // eval-based kinds write results as they go; the training kinds (smp, finegates) return theirs
      // (averaged over seeds): every result lands in <out>/results so `report` can redraw them
      const resultsDir = path.join(out, 'results');
      for (const r of outcome.results) {
        if (!fs.existsSync(resultFilePath(resultsDir, r.model_name, r.model_revision, r.task_name))) writeTaskResult(resultsDir, r);
      }
      const meta = {
        title: opts.title ?? `prunekit-bench: suite ${suite.name}${opts.quick ? ' (quick)' : ''}`,
        models: outcome.models,
        notes: outcome.notes,
        failures: outcome.failures,
        wallTime,
        ...(outcome.sections ? { sections: outcome.sections } : {}),
      };
      writeMarkdownReport(path.join(out, 'report.md'), outcome.results, meta);
      writeHtmlReport(path.join(out, 'report.html'), outcome.results, meta);
      if (opts.json) {
        // one line, like the progress lines before it (JSON lines)
        io.out(`${JSON.stringify({ event: 'done', results: outcome.results.length, models: outcome.models.length, failures: outcome.failures, wallTime, report: [path.join(out, 'report.md'), path.join(out, 'report.html')] })}\n`);
      } else {
        io.out(outcome.results.length > 0 ? aggregateTable(outcome.results) : '(no results)\n');
        io.out(`\n${outcome.results.length} results, ${outcome.models.length} models, wall time ${wallTime.toFixed(1)} s\n`);
        io.out(`report: ${path.join(out, 'report.md')}, ${path.join(out, 'report.html')}\n`);
      }
      if (outcome.failures.length > 0) throw new CliError(`${outcome.failures.length} task runs failed (${outcome.failures.map((f) => `${f.model}/${f.task}`).join(', ')}); see report.md`);
    });
}

/**
 * Runs the suite; a failure that escapes it (e.g. a model that fails to load mid-run) is recorded as
 * a failed cell and the results written so far are kept, so the report is still written.
 */
async function runSuite(suite: BenchSuite, ctx: BenchRunContext): Promise<BenchOutcome> {
  try {
    return await suite.run(ctx);
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    ctx.io.err(`prunekit-bench: suite ${suite.name} stopped: ${message}\n`);
    const results = readResults(ctx.resultsDir);
    const models = [...new Map(results.map((r) => [`${r.model_name}\0${r.model_revision}`, { path: '', name: r.model_name, fingerprint: r.model_revision, wallTime: 0 }])).values()];
    return { results, models, failures: [{ model: '(suite)', task: suite.name, error: message }], notes: [`the suite stopped early: ${message}; the results below are the cells finished before it`] };
  }
}
