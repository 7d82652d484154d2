// What the method kinds share: a matrix of training runs, one folder each under <out>/<kind>/runs,
// where a folder whose results are complete is read back instead of being run again (resume);
// runMethod, which derives a model with a registry method and writes the one artifact layout; and
// the mean ± sd over seeds that their tables and task results report.
import path from 'node:path';
import type { TaskResult, TaskType } from '@prunekit/benchmarks-mteb';
import { builtinMethods } from '@prunekit/cli-support';
import { writeArtifact, type Manifest, type MethodArtifact, type MethodData } from '@prunekit/tensor-core';
import type { BenchOutcome, BenchRunContext, BenchSuite, SuiteKind } from './types.js';
import { localCells, type CellRunner } from '../cells.js';

/** The presets of a kind: `quick` serves --quick, the others name a suite's preset. */
export type PresetName = 'quick' | 'default' | 'full';

/** Options of a kind with presets: tests pass miniature presets. */
export interface PresetKindOptions<P> {
  presets?: Readonly<Record<PresetName, P>>;
}

/**
 * A kind whose suites are [name, preset, description] each: a suite runs its preset, or the quick
 * one under --quick; `run` gets the preset's name and settings.
 */
export function presetKind<P>(o: {
  name: string;
  description: string;
  presets: Readonly<Record<PresetName, P>>;
  run: (ctx: BenchRunContext, name: PresetName, preset: P) => Promise<BenchOutcome>;
  suites: readonly (readonly [name: string, preset: Exclude<PresetName, 'quick'>, description: string])[];
}): SuiteKind {
  return {
    name: o.name,
    description: o.description,
    suites: () => o.suites.map(([name, preset, description]): BenchSuite => ({
      name, kind: o.name, description,
      run: (ctx) => {
        const which = ctx.quick ? 'quick' : preset;
        return o.run(ctx, which, o.presets[which]);
      },
    })),
  };
}

export const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export const sd = (v: readonly number[]): number => (v.length < 2 ? 0 : Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1)));

/** A table cell of fractions as percentages: "12.3", "12.3 ± 0.4" over several values, "–" for none. */
export function pctCell(v: readonly number[]): string {
  return v.length === 0 ? '–' : `${(100 * mean(v)).toFixed(1)}${v.length > 1 ? ` ± ${(100 * sd(v)).toFixed(1)}` : ''}`;
}

/** The run's cell runner (local unless a queue coordinator or worker set one). */
export function cellsOf(ctx: BenchRunContext): CellRunner {
  return ctx.cells ?? localCells(ctx.outDir);
}

/** Whether the suite should build tables, charts and timings after its cells (not while planning or in a worker). */
export function summarising(ctx: BenchRunContext): boolean {
  const mode = cellsOf(ctx).mode;
  return mode === 'local' || mode === 'collect';
}

export interface ResumableRun<Row> {
  /** The cell's stable key within the run's output folder (its run folder relative to <out>). */
  key: string;
  /** The run's row from its folder, or null while the folder is absent or incomplete. */
  read(): Row | null;
  /** One line on stderr before the run starts (not written when the folder is reused). */
  announce: string;
  /** Runs it, writing its folder. */
  execute(): Promise<void>;
  /** Where an error is listed in the outcome's failures. */
  failure: { model: string; task: string };
}

/**
 * A finished run's row read from its folder, else the run executed (by the run's cell runner) and
 * its row read then; null when the cell runs elsewhere (queue). An error is recorded in
 * `outcome.failures` and gives null, so the other runs of the matrix go on.
 */
export async function runOrReuse<Row>(ctx: BenchRunContext, outcome: BenchOutcome, run: ResumableRun<Row>): Promise<Row | null> {
  try {
    const available = await cellsOf(ctx).run(
      { key: run.key, label: run.announce },
      async () => {
        ctx.io.err(`${run.announce}\n`);
        await run.execute();
      },
      () => run.read() !== null,
    );
    return available ? run.read() : null;
  } catch (e) {
    outcome.failures.push({ ...run.failure, error: e instanceof Error ? e.message : String(e) });
    return null;
  }
}

export interface SeedRun {
  seed: number;
  /** main score of the run */
  main: number;
  /** seconds the run took */
  seconds: number;
}

/**
 * One task result in MTEB's layout for a method's runs over seeds: main_score is the mean over the
 * runs, std their sd, seeds and per_seed list them; `metrics` (already averaged) follow main_score
 * and `extra` follows per_seed.
 */
export function seedsTaskResult(o: {
  task: string;
  type: TaskType;
  domain: string;
  split: string;
  mainMetric: string;
  modelName: string;
  fingerprint: string;
  runs: readonly SeedRun[];
  metrics: Record<string, number>;
  extra?: Record<string, unknown>;
}): TaskResult {
  const main = o.runs.map((r) => r.main);
  return {
    task_name: o.task,
    task_type: o.type,
    domain: o.domain,
    dataset_revision: null,
    scores: { [o.split]: [{ hf_subset: 'default', languages: ['eng-Latn'], main_score: mean(main), ...o.metrics, std: sd(main), seeds: o.runs.map((r) => r.seed), per_seed: main, ...o.extra }] },
    evaluation_time: o.runs.reduce((a, r) => a + r.seconds, 0),
    kg_co2_emissions: null,
    main_metric: o.mainMetric,
    model_name: o.modelName,
    model_revision: o.fingerprint,
    prunekit_version: '0.1.0',
    warnings: [],
  };
}

export interface MethodRunOptions {
  /** a registered method name (`prunekit-bench methods` lists them) */
  method: string;
  /** the source model folder (never written to) */
  model: string;
  /** the artifact folder (written atomically, HF folder + prunekit/manifest.json) */
  out: string;
  /** the method's options by their schema keys (camelCase); validated and defaulted by its zod schema */
  options: Record<string, unknown>;
  data: MethodData;
  /** checkpoints and cached statistics (kept: a rerun and the other cells of a model reuse them) */
  workDir: string;
  onProgress?: (stage: string, done: number, total: number, detail?: string) => void;
  log?: (line: string) => void;
  /**
   * Called with the in-memory artifact after it is written and before it is freed: for what must be
   * measured on the models themselves (the finegates suite's speed timing).
   */
  use?: (artifact: MethodArtifact, manifest: Manifest) => Promise<void> | void;
}

/**
 * Derives a model with a method from the run's registry (`ctx.methods`, else the built-ins: the
 * same definitions `prunekit prune --method` dispatches to) and writes it in the one artifact
 * layout, as `prunekit prune` does; returns the written manifest (its `metrics` are the method's).
 */
export async function runMethod(ctx: BenchRunContext, o: MethodRunOptions): Promise<Manifest> {
  const def = (ctx.methods ?? builtinMethods()).get(o.method);
  const options = def.options.parse(o.options) as Record<string, unknown>;
  const artifact = await def.run({
    model: o.model, options, data: o.data, workDir: o.workDir,
    onProgress: o.onProgress ?? (() => undefined),
    log: o.log ?? ((line) => { ctx.io.err(`${line}\n`); }),
  });
  try {
    const dataPaths: Record<string, string> = {};
    if (o.data.domain) dataPaths.domain = o.data.domain;
    if (o.data.general) dataPaths.general = o.data.general;
    if (o.data.dataRoot && o.data.task) dataPaths.task = path.join(o.data.dataRoot, o.data.task);
    const manifest = await writeArtifact(artifact, { out: o.out, method: def.name, options, sourceModel: o.model, dataPaths });
    await o.use?.(artifact, manifest);
    return manifest;
  } finally {
    artifact.dispose();
  }
}
