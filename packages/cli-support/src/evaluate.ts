// One model over a list of tasks, with progress on stderr and warnings as `prefix: warning: ...`.
// Used by `prunekit eval` and by the bench app's eval suites.
import { evaluateSuite, type SuiteRun, type TaskDefinition } from '@prunekit/benchmarks-mteb';
import type { LoadedEncoder } from './encoder.js';
import type { CliIo } from './io.js';
import { suiteProgress } from './progress.js';

export interface EvalRunOptions {
  datasetsRoot: string;
  /** Results folder (MTEB layout: <dir>/<model>/<fingerprint>/<Task>.json). */
  outputDir: string;
  /** Embedding cache folder; none when undefined. */
  cacheDir?: string;
  /** Texts per cache shard and per progress step. */
  chunkSize: number;
  /** Collect task failures and go on (default: stop at the first). */
  keepGoing?: boolean;
  /** Label for progress lines (e.g. the model name when several models run). */
  label?: string;
  /** Prefix of warning lines (default "prunekit"). */
  prefix?: string;
}

export interface EvalRun extends SuiteRun {
  /** Wall time of the whole run in seconds. */
  wallTime: number;
}

export async function runEvaluation(io: CliIo, encoder: LoadedEncoder, tasks: readonly TaskDefinition[], options: EvalRunOptions): Promise<EvalRun> {
  const progress = suiteProgress(io, { tasks: tasks.map((t) => t.name), ...(options.label ? { label: options.label } : {}) });
  const prefix = options.prefix ?? 'prunekit';
  const t0 = performance.now();
  try {
    const run = await evaluateSuite(encoder, tasks, {
      datasetsRoot: options.datasetsRoot,
      outputDir: options.outputDir,
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      batchSize: options.chunkSize,
      continueOnError: options.keepGoing ?? false,
      onProgress: (e) => {
        progress.onProgress(e);
      },
      onWarning: (m) => {
        progress.log(`${prefix}: warning: ${m}`);
      },
    });
    for (const f of run.failures) progress.log(`${prefix}: ${f.task} failed: ${f.error.message}`);
    return { ...run, wallTime: (performance.now() - t0) / 1000 };
  } finally {
    progress.stop();
  }
}
