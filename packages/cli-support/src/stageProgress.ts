// Progress of a multi-stage job (statistics, scoring, retraining, saving) on stderr: a cli-progress
// bar per stage on a terminal, otherwise a line when a stage starts and ends.
import cliProgress from 'cli-progress';
import type { CliIo } from './io.js';

export interface StageProgress {
  update(stage: string, done: number, total: number, detail?: string): void;
  stop(): void;
}

export function stageProgress(io: CliIo, label: string): StageProgress {
  let bar: cliProgress.SingleBar | null = null;
  let current: string | null = null;
  const finish = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    update(stage, done, total, detail) {
      if (stage !== current) {
        finish();
        current = stage;
        if (io.tty) {
          bar = new cliProgress.SingleBar({ stream: io.tty, format: `${label} ${stage.padEnd(20)} {bar} {value}/{total} {detail}`, hideCursor: true, barsize: 24 }, cliProgress.Presets.shades_classic);
          bar.start(total, done, { detail: detail ?? '' });
        } else {
          io.err(`${label} ${stage}: started\n`);
        }
      }
      bar?.update(done, { detail: detail ?? '' });
      if (!io.tty && done === total) io.err(`${label} ${stage}: done${detail ? ` (${detail})` : ''}\n`);
    },
    stop: finish,
  };
}
