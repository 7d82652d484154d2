// `prunekit eval`: one model over tasks or a suite; results in MTEB's layout under --out, an
// embedding cache (so an interrupted run resumes without re-encoding), a summary table.
import path from 'node:path';
import type { Command } from 'commander';
import { claimOutput } from '@prunekit/tensor-core';
import { aggregateTable, resultFilePath } from '@prunekit/benchmarks-mteb';
import type { CliContext } from '../util/context.js';
import { CliError, collect, collectList, positiveInt } from '@prunekit/cli-support';
import { runEvaluation } from '@prunekit/cli-support';
import { printJson } from '@prunekit/cli-support';
import { checkDataRoot, selectTasks, taskRegistry } from '@prunekit/cli-support';

interface EvalOptions {
  model: string;
  tasks?: string[];
  suite?: string;
  tasksDir?: string[];
  dataRoot: string;
  out: string;
  /** a folder, or false for --no-cache */
  cache?: string | false;
  batchSize: number;
  name?: string;
  keepGoing?: boolean;
  force?: boolean;
  json?: boolean;
}

/** Texts per cache shard: a shard per forward pass would make thousands of tiny files. */
const CACHE_CHUNK = 256;

export function registerEval(program: Command, ctx: CliContext): void {
  program
    .command('eval')
    .description('evaluate a model folder on MTEB-style tasks; writes results in MTEB layout and prints a summary table')
    .requiredOption('--model <dir>', 'HF / sentence-transformers model folder')
    .option('--tasks <names>', 'comma-separated task names (see `prunekit tasks`)', collectList)
    .option('--suite <name>', 'a suite of tasks: general, finance, science, chemistry, all, or one from --tasks-dir')
    .option('--tasks-dir <dir>', 'also read task files (and suites/) from this folder; repeatable', collect)
    .requiredOption('--data-root <dir>', 'datasets root that task data paths are relative to')
    .requiredOption('--out <dir>', 'results folder (<out>/<model>/<fingerprint>/<Task>.json)')
    .option('--cache <dir>', 'embedding cache folder (default: <out>/.cache/embeddings)')
    .option('--no-cache', 'do not cache embeddings')
    .option('--batch-size <n>', 'texts per forward pass', positiveInt('--batch-size'), 32)
    .option('--name <name>', 'model name in results (default: the folder name)')
    .option('--keep-going', 'run the remaining tasks after one fails (exit status is still non-zero)')
    .option('--force', 'write into --out even when it is not an earlier prunekit output of this kind')
    .option('--json', 'print the results as JSON on stdout (progress and warnings stay on stderr)')
    .action(async (opts: EvalOptions) => {
      const { io } = ctx;
      const tasks = selectTasks(taskRegistry(opts.tasksDir), { ...(opts.tasks ? { tasks: opts.tasks } : {}), ...(opts.suite !== undefined ? { suite: opts.suite } : {}) });
      checkDataRoot(opts.dataRoot);
      const out = path.resolve(opts.out);
      claimOutput({ out, kind: 'eval-results', inputs: [opts.model], force: opts.force });
      const cacheDir = opts.cache === false ? undefined : path.resolve(opts.cache ?? path.join(out, '.cache', 'embeddings'));
      const encoder = await ctx.loadEncoder(opts.model, { batchSize: opts.batchSize, ...(opts.name ? { name: opts.name } : {}), warn: (l) => { io.err(`${l}\n`); } });
      try {
        const run = await runEvaluation(io, encoder, tasks, {
          datasetsRoot: path.resolve(opts.dataRoot),
          outputDir: out,
          ...(cacheDir ? { cacheDir } : {}),
          chunkSize: Math.max(CACHE_CHUNK, opts.batchSize),
          keepGoing: opts.keepGoing ?? false,
        });
        const table = run.results.length > 0 ? aggregateTable(run.results) : '';
        const resultsDir = path.dirname(resultFilePath(out, encoder.name, encoder.fingerprint, 'x'));
        if (opts.json) {
          printJson(io, {
            model: { name: encoder.name, fingerprint: encoder.fingerprint, path: path.resolve(opts.model) },
            resultsDir,
            wallTimeSeconds: run.wallTime,
            table,
            results: run.results,
            failures: run.failures.map((f) => ({ task: f.task, error: f.error.message })),
          });
        } else {
          io.out(table);
          io.out(`\n${run.results.length} of ${tasks.length} tasks, wall time ${run.wallTime.toFixed(1)} s; results in ${resultsDir}\n`);
        }
        if (run.failures.length > 0) throw new CliError(`${run.failures.length} of ${tasks.length} tasks failed (${run.failures.map((f) => f.task).join(', ')})`);
      } finally {
        encoder.dispose?.();
      }
    });
}
