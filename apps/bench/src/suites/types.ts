// What a benchmark suite is. A suite kind (eval today; gaprune, smp, finegates later) contributes
// named suites; `prunekit-bench run --suite NAME` runs one over the given models and writes its
// task results in MTEB's layout, from which the report is drawn.
import type { TaskResult } from '@prunekit/benchmarks-mteb';
import type { CliIo, EncoderLoader } from '@prunekit/cli-support';
import type { MethodRegistry } from '@prunekit/tensor-core';
import type { ReportSection } from '../report.js';
import type { CellRunner } from '../cells.js';

export interface BenchRunContext {
  io: CliIo;
  /** Turns a model folder into an encoder (tests pass a fake one). */
  loadEncoder: EncoderLoader;
  /** Model folders, in the order given. */
  models: readonly string[];
  /** Datasets root. */
  dataRoot: string;
  /** The run's output folder; results go to resultsDir inside it. */
  outDir: string;
  /** <outDir>/results: MTEB layout, <model>/<fingerprint>/<Task>.json. */
  resultsDir: string;
  /** Embedding cache folder, or undefined for none. */
  cacheDir: string | undefined;
  /** Texts per forward pass. */
  batchSize: number;
  /** A smaller, faster run; what it reduces is the kind's choice and must be stated in `notes`. */
  quick: boolean;
  /** Folders of user task files (--tasks-dir). */
  tasksDirs: readonly string[];
  /**
   * What happens to each cell of the suite's grid (cells.ts): run here (default: localCells), noted
   * for a queue, or, in a queue worker, only the one cell its job names.
   */
  cells?: CellRunner;
  /**
   * The method registry suites prune with (the one `prunekit prune` uses: built-ins plus plugins);
   * runMethod falls back to the built-ins when a caller sets none.
   */
  methods?: MethodRegistry;
}

export interface ModelRun {
  /** Folder it was loaded from (or, for models a suite derives, where it was written). */
  path: string;
  name: string;
  fingerprint: string;
  /** Seconds this model's part of the run took. */
  wallTime: number;
}

export interface BenchOutcome {
  results: TaskResult[];
  models: ModelRun[];
  failures: { model: string; task: string; error: string }[];
  /** Lines for the report: what quick mode changed, what was derived, caveats. */
  notes: string[];
  /** The suite's own report sections (tables, charts), after the main table. */
  sections?: ReportSection[];
}

export interface BenchSuite {
  name: string;
  /** The kind that contributed it (e.g. "eval"). */
  kind: string;
  description: string;
  run(ctx: BenchRunContext): Promise<BenchOutcome>;
}

export interface SuiteKind {
  /** e.g. "eval", "gaprune". */
  name: string;
  description: string;
  /** The suites this kind offers; tasksDirs are the user's --tasks-dir folders. */
  suites(options: { tasksDirs: readonly string[] }): BenchSuite[];
}
