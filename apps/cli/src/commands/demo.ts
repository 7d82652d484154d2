// `prunekit demo` (`npm start`): the main job on the bundled model and the bundled TAT-QA / STS-B slices.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../util/context.js';
import { CliError, printJson } from '@prunekit/cli-support';
import { BUNDLED_DATA, BUNDLED_MODEL, DEMO_DEFAULTS, formatDemoTable, runDemo } from '../demo/run.js';
import { demoVerdict } from '../demo/verdict.js';
import { SCORING_METHODS, type ScoringMethod } from '@prunekit/scoring-fisher';

const nonNegativeInt = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${flag} must be a non-negative integer (got "${v}")`);
  return n;
};

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('the main job: prune the bundled demo-encoder (4-layer BERT) for finance to a physically smaller model (structured GAPrune), recover it, export it to ONNX, check the export and compare quality, size and speed with dense and structured magnitude/random pruning')
    .option('--model <dir>', 'model folder', BUNDLED_MODEL)
    .option('--data <dir>', 'demo data folder (written by tools/demo/make-demo-data.mjs)', BUNDLED_DATA)
    .option('--sparsity <s>', 'fraction of encoder-layer parameters removed', (v) => Number(v), DEMO_DEFAULTS.sparsity)
    .option('--recovery-steps <n>', 'distillation steps after removal (0: none)', nonNegativeInt('--recovery-steps'), DEMO_DEFAULTS.recoverySteps)
    .option('--recovery <kind>', 'distill (match the dense embeddings) or retrain (InfoNCE on the finance triplets)', DEMO_DEFAULTS.recovery)
    .option('--recovery-lr <x>', 'recovery learning rate', (v) => Number(v), DEMO_DEFAULTS.recoveryLr)
    .option('--methods <list>', 'structured scoring methods (random: one row per seed)', DEMO_DEFAULTS.methods.join(','))
    .option('--seeds <n>', 'random pruning seeds (one row each)', nonNegativeInt('--seeds'), DEMO_DEFAULTS.randomSeeds.length)
    .option('--limit <n>', 'evaluate on the first n finance questions and STS-B pairs only (a quick look)', nonNegativeInt('--limit'))
    .option('--work-dir <dir>', 'where statistics, models and exports go (default: a fresh temp folder)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (o: { model: string; data: string; sparsity: number; recoverySteps: number; recovery: string; recoveryLr: number; methods: string; seeds: number; limit?: number; workDir?: string; json?: boolean }) => {
      if (o.recovery !== 'distill' && o.recovery !== 'retrain') throw new CliError(`--recovery must be distill or retrain (got "${o.recovery}")`);
      if (!(o.recoveryLr > 0)) throw new CliError(`--recovery-lr must be > 0 (got ${o.recoveryLr})`);
      const methods = o.methods.split(',').map((m) => m.trim()).filter((m) => m !== '');
      for (const m of methods) if (!(SCORING_METHODS as readonly string[]).includes(m)) throw new CliError(`--methods: unknown method "${m}" (known: ${SCORING_METHODS.join(', ')})`);
      if (!(o.sparsity > 0 && o.sparsity < 1)) throw new CliError(`--sparsity must be in (0, 1) (got ${o.sparsity})`);
      if (o.workDir && fs.existsSync(o.workDir) && fs.readdirSync(o.workDir).length > 0) throw new CliError(`--work-dir ${o.workDir}: not empty; the demo writes into a new or empty folder`);
      const workDir = o.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-demo-'));
      const t0 = performance.now();
      let result;
      try {
        result = await runDemo({
          model: o.model, dataDir: o.data, workDir, sparsity: o.sparsity, recoverySteps: o.recoverySteps, recovery: o.recovery, recoveryLr: o.recoveryLr, methods: methods as ScoringMethod[],
          randomSeeds: Array.from({ length: o.seeds }, (_, i) => i), ...(o.limit === undefined ? {} : { limit: o.limit }),
          log: (l) => { ctx.io.err(`${l}\n`); },
        });
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const seconds = (performance.now() - t0) / 1000;
      const verdict = demoVerdict(result);
      if (o.json) {
        printJson(ctx.io, { ...result, verdict, totalSeconds: seconds, workDir });
        return;
      }
      ctx.io.out(`\n${formatDemoTable(result)}\n\n${verdict.lines.join('\n')}\n${seconds.toFixed(0)} s in all; models and ONNX exports in ${workDir}\n`);
    });
}
