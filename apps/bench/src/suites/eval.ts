// The eval kind: every benchmarks-mteb suite (built-in and from --tasks-dir) as a bench suite that
// evaluates each model folder as it is.
import path from 'node:path';
import { validateTask, type TaskDefinition } from '@prunekit/benchmarks-mteb';
import { runEvaluation, taskRegistry, type LoadedEncoder } from '@prunekit/cli';
import type { BenchOutcome, BenchRunContext, BenchSuite, SuiteKind } from './types.js';
import { cellsOf } from './runs.js';

/** Repetitions in quick mode (of MTEB's 10): classification experiments and clustering subsets. */
export const QUICK_REPEATS = 3;

/**
 * The quick variant of a task: the same data (nothing subsampled) with fewer repetitions, under a
 * distinct name (`<Task>-quick`) so its results never mix with full runs. Other task types are
 * unchanged.
 */
export function quickTask(task: TaskDefinition): TaskDefinition {
  const repeats = task.type === 'classification' ? { key: 'nExperiments', current: task.options.nExperiments } : task.type === 'clustering' ? { key: 'nSubsets', current: task.options.nSubsets } : null;
  if (repeats === null) return task;
  const { key, current } = repeats;
  const n = Math.min(current, QUICK_REPEATS);
  const { source, ...def } = task;
  return validateTask({ ...def, name: `${task.name}-quick`, description: `${task.description ?? task.name} Quick variant: ${key} ${n} (of ${current}).`, options: { ...task.options, [key]: n } }, `${source ?? task.name} (quick)`);
}

/**
 * Evaluates one loaded encoder on `tasks` into the run's results folder (embedding cache, keep going
 * after a failed task) and records its results, failures and model line in `outcome`.
 */
export async function evaluateInto(ctx: BenchRunContext, outcome: BenchOutcome, encoder: LoadedEncoder, tasks: readonly TaskDefinition[], model: { path: string; name: string; startedAt: number }): Promise<void> {
  const run = await runEvaluation(ctx.io, encoder, tasks, {
    datasetsRoot: ctx.dataRoot,
    outputDir: ctx.resultsDir,
    ...(ctx.cacheDir ? { cacheDir: ctx.cacheDir } : {}),
    chunkSize: Math.max(256, ctx.batchSize),
    keepGoing: true,
    label: model.name,
    prefix: 'prunekit-bench',
  });
  outcome.results.push(...run.results);
  outcome.failures.push(...run.failures.map((f) => ({ model: model.name, task: f.task, error: f.error.message })));
  outcome.models.push({ path: model.path, name: model.name, fingerprint: encoder.fingerprint, wallTime: (performance.now() - model.startedAt) / 1000 });
}

async function runEvalSuite(suiteName: string, ctx: BenchRunContext): Promise<BenchOutcome> {
  const registry = taskRegistry(ctx.tasksDirs);
  const full = registry.suiteTasks(suiteName);
  const tasks = ctx.quick ? full.map(quickTask) : full;
  const outcome: BenchOutcome = { results: [], models: [], failures: [], notes: [] };
  if (ctx.quick) {
    const changed = tasks.filter((t, i) => t !== full[i]).map((t) => t.name);
    outcome.notes.push(`quick: classification and clustering tasks run ${QUICK_REPEATS} repetitions (experiments / subsets) instead of 10, on all of their data, as ${changed.join(', ') || 'no tasks'}; the other tasks are unchanged.`);
  }
  for (const dir of ctx.models) {
    const t0 = performance.now();
    const state = { evaluated: false };
    const evaluate = async (): Promise<void> => {
      const encoder = await ctx.loadEncoder(dir, { batchSize: ctx.batchSize, warn: (l) => { ctx.io.err(`${l}\n`); } });
      try {
        ctx.io.err(`prunekit-bench: ${encoder.name} (${encoder.fingerprint}) on suite ${suiteName}, ${tasks.length} tasks\n`);
        const before = outcome.failures.length;
        await evaluateInto(ctx, outcome, encoder, tasks, { path: dir, name: encoder.name, startedAt: t0 });
        state.evaluated = true;
        if (outcome.failures.length > before) throw new Error(`${outcome.failures.length - before} tasks failed`);
      } finally {
        encoder.dispose?.();
      }
    };
    try {
      // one cell per model: a queue worker evaluates it; the coordinator then reads the results back
      const available = await cellsOf(ctx).run({ key: `eval/${suiteName}${ctx.quick ? '-quick' : ''}/${path.resolve(dir)}`, label: `eval ${suiteName} ${path.basename(dir)}` }, evaluate);
      if (available && !state.evaluated) await evaluate();
    } catch (e) {
      if (!state.evaluated) outcome.failures.push({ model: path.basename(dir), task: '(model)', error: (e as Error).message });
    }
  }
  return outcome;
}

export const evalKind: SuiteKind = {
  name: 'eval',
  description: 'evaluate each model folder as it is on a benchmarks-mteb suite',
  suites({ tasksDirs }) {
    return taskRegistry(tasksDirs)
      .listSuites()
      .map((s): BenchSuite => ({
        name: s.name,
        kind: 'eval',
        description: `${s.description ?? s.name} (${s.tasks.length} tasks: ${s.tasks.join(', ')})`,
        run: (ctx) => runEvalSuite(s.name, ctx),
      }));
  },
};

