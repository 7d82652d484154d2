// Progress of a suite run on stderr: one cli-progress bar per task when stderr is a terminal,
// otherwise a few plain lines (a task's start and end, and at most one line per 30 s while it
// encodes), so logs of non-interactive runs stay short.
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '@prunekit/benchmarks-mteb';
import type { CliIo } from './io.js';

export interface SuiteProgress {
  /** Feed evaluateTask/evaluateSuite progress events here. */
  onProgress(event: ProgressEvent): void;
  /** Prints a line on stderr without breaking the bar being drawn. */
  log(line: string): void;
  /** Stops any bar still drawn. */
  stop(): void;
}

export interface SuiteProgressOptions {
  /** Task names in run order (for the [i/n] counter). */
  tasks: readonly string[];
  /** Label before the counter, e.g. the model name. */
  label?: string;
  /** Seconds between plain progress lines while one task encodes (default 30). */
  plainInterval?: number;
  /** Overrides io.tty (tests). */
  tty?: NodeJS.WritableStream | null;
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function suiteProgress(io: CliIo, options: SuiteProgressOptions): SuiteProgress {
  const tty = options.tty === undefined ? io.tty : options.tty;
  const n = options.tasks.length;
  const prefix = options.label ? `${options.label} ` : '';
  const counter = (task: string): string => {
    const i = options.tasks.indexOf(task);
    return `${prefix}[${i < 0 ? '?' : i + 1}/${n}] ${task}`;
  };
  const started = new Map<string, number>();
  let bar: cliProgress.SingleBar | null = null;
  let barTask: string | null = null;
  let lastPlain = 0;
  const interval = (options.plainInterval ?? 30) * 1000;

  const stopBar = (): void => {
    if (bar) bar.stop();
    bar = null;
    barTask = null;
  };

  const startTask = (task: string): void => {
    started.set(task, performance.now());
    lastPlain = performance.now();
    if (tty) {
      stopBar();
      bar = new cliProgress.SingleBar(
        {
          stream: tty,
          format: `${counter(task).padEnd(40)} {bar} {value}/{total} texts | {stage}`,
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(1, 0, { stage: 'loading' });
      barTask = task;
    } else {
      io.err(`${counter(task)}: started\n`);
    }
  };

  return {
    onProgress(e) {
      if (e.stage === 'skipped') {
        if (tty) stopBar();
        io.err(`${counter(e.task)}: results already present, skipped\n`);
        return;
      }
      if (!started.has(e.task)) startTask(e.task);
      const where = e.split ? ` (${e.split})` : '';
      if (e.stage === 'done') {
        const took = seconds(performance.now() - (started.get(e.task) ?? performance.now()));
        if (bar && barTask === e.task) {
          bar.update(bar.getTotal(), { stage: `done in ${took}` });
          stopBar();
        } else io.err(`${counter(e.task)}: done in ${took}\n`);
        return;
      }
      if (bar) {
        if (e.stage === 'encode' && e.total !== undefined) {
          bar.setTotal(Math.max(1, e.total));
          bar.update(e.done ?? 0, { stage: `encoding${where}` });
        } else bar.update({ stage: `${e.stage === 'metrics' ? 'computing metrics' : 'loading'}${where}` });
        return;
      }
      if (e.stage === 'encode' && e.total !== undefined && e.total > 0 && performance.now() - lastPlain >= interval) {
        lastPlain = performance.now();
        io.err(`${counter(e.task)}: encoding${where} ${e.done ?? 0}/${e.total}\n`);
      }
    },
    log(line) {
      if (bar && tty) {
        tty.write('\r\x1b[K');
        io.err(line.endsWith('\n') ? line : `${line}\n`);
        bar.render();
      } else io.err(line.endsWith('\n') ? line : `${line}\n`);
    },
    stop: stopBar,
  };
}
