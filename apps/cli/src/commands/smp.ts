// `prunekit prune-smp`: Static Model Pruning (SMP-L, SMP-S) and its baselines (movement,
// magnitude-ft, full-ft) on a classification task with the label-word head. Writes bit-packed masks,
// a manifest and metrics (and optionally the pruned model folder) atomically; rerunning the same
// command resumes from the checkpoints in the work folder.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { claimOutput, initBackend } from '@prunekit/tensor-core';
import { HEAD_VARIANTS, PRUNE_METHODS, TASKS, runSmp, type HeadVariant, type PruneMethod } from '@prunekit/mask-smp';
import type { CliContext } from '../util/context.js';
import { CliError, collectList, positiveInt, oneOf, numberFlag as number } from '../util/errors.js';
import { printJson } from '../util/io.js';
import { stageProgress } from '../util/stageProgress.js';

interface SmpFlags {
  method: PruneMethod;
  task: string;
  keep: number;
  model: string;
  dataRoot: string;
  out: string;
  teacher?: string;
  head: HeadVariant;
  labelWords?: string[];
  template?: string;
  steps?: number;
  epochs: number;
  batchSize: number;
  maxLength: number;
  maxTrain?: number;
  maxEval?: number;
  lr: number;
  weightLr: number;
  lambdaR: number;
  temperature: number;
  finalHold?: number;
  seed: number;
  evalEvery: number;
  checkpointEvery: number;
  workDir?: string;
  force?: boolean;
  exportModel?: boolean;
  logEvery: number;
  json?: boolean;
}

const nonNegInt = (flag: string): ((v: string) => number) => number(flag, (n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');

export function registerSmp(program: Command, ctx: CliContext): void {
  program
    .command('prune-smp')
    .description('Static Model Pruning (frozen weights, learned Top-v masks) or a baseline on a classification task; writes masks.bin, masks.json, metrics.json [and model/]')
    .requiredOption('--method <m>', PRUNE_METHODS.join(', '), oneOf('--method', PRUNE_METHODS))
    .requiredOption('--task <name>', `task: ${Object.keys(TASKS).join(', ')}`)
    .option('--keep <v>', 'final keep fraction of the prunable weights, in (0, 1]', number('--keep', (n) => n > 0 && n <= 1, 'a number in (0, 1]'), 0.1)
    .requiredOption('--model <dir>', 'masked-LM model folder (BertForMaskedLM / RobertaForMaskedLM)')
    .requiredOption('--data-root <dir>', 'datasets root holding <task>/<split>.jsonl')
    .requiredOption('--out <dir>', 'output folder (written atomically)')
    .option('--teacher <dir>', 'distil from a dense fine-tuned model (a --method full-ft output folder, or a model folder); T = 2, α = 0.5')
    .option('--head <variant>', 'label-word head: first ([CLS], the paper) or prompt (template [MASK], the authors\' code)', oneOf('--head', HEAD_VARIANTS), 'first')
    .option('--label-words <w,w>', 'one label word per class, in label order', collectList)
    .option('--template <t>', 'prompt template with {text} or {sentence1}/{sentence2} and one [MASK]')
    .option('--steps <n>', 'total training steps (default: --epochs epochs)', positiveInt('--steps'))
    .option('--epochs <n>', 'epochs when --steps is not given', positiveInt('--epochs'), 3)
    .option('--batch-size <n>', 'examples per step', positiveInt('--batch-size'), 32)
    .option('--max-length <n>', 'tokens per input', positiveInt('--max-length'), 128)
    .option('--max-train <n>', 'subsample the training split to n examples (fixed seed)', positiveInt('--max-train'))
    .option('--max-eval <n>', 'subsample the evaluation split to n examples (fixed seed)', positiveInt('--max-eval'))
    .option('--lr <x>', 'learning rate of the scores', number('--lr', (n) => n > 0, 'a positive number'), 2e-2)
    .option('--weight-lr <x>', 'learning rate of the weights (movement, magnitude-ft, full-ft)', number('--weight-lr', (n) => n > 0, 'a positive number'), 3e-5)
    .option('--lambda-r <x>', 'regulariser weight λ_R (SMP)', number('--lambda-r', (n) => n >= 0, 'a number ≥ 0'), 400)
    .option('--temperature <p>', 'SMP-S temperature p in R(S) = mean σ(S/p)', number('--temperature', (n) => n > 0, 'a positive number'), 1)
    .option('--final-hold <n>', 'steps at the end that hold the final keep fraction (default 30% of the steps)', nonNegInt('--final-hold'))
    .option('--seed <n>', 'seed of data order and dropout', nonNegInt('--seed'), 0)
    .option('--eval-every <n>', 'evaluate every n steps (0: only at the end)', nonNegInt('--eval-every'), 0)
    .option('--checkpoint-every <n>', 'checkpoint every n steps (0: never)', nonNegInt('--checkpoint-every'), 50)
    .option('--work-dir <dir>', 'checkpoints (default: in the hidden work area beside --out); rerun the same command to resume')
    .option('--force', 'replace --out even when it is not an earlier prunekit output of this kind')
    .option('--export-model', 'also write model/: a HF folder with the pruned weights')
    .option('--log-every <n>', 'print a progress line every n steps when not on a terminal', positiveInt('--log-every'), 25)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (o: SmpFlags) => {
      for (const [flag, dir] of [['--model', o.model], ['--data-root', o.dataRoot]] as const) {
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(`${flag} ${dir}: not a folder`);
      }
      if (!(o.task in TASKS)) {
        throw new CliError(o.task === 'glue_stsb'
          ? 'glue_stsb is a regression task; SMP\'s label-word head is a classifier (see packages/mask-smp/README.md)'
          : `unknown task "${o.task}" (known: ${Object.keys(TASKS).join(', ')})`);
      }
      const claim = claimOutput({ out: o.out, kind: 'model', inputs: [o.model, o.teacher], force: o.force });
      await initBackend({ warn: (l) => { ctx.io.err(`${l}\n`); } });
      const label = `${o.method}${o.method === 'full-ft' ? '' : ` keep ${o.keep}`}`;
      const progress = stageProgress(ctx.io, label);
      try {
        const r = await runSmp({
          model: o.model, task: o.task, datasets: o.dataRoot, out: o.out, method: o.method, keep: o.keep,
          head: o.head, ...(o.labelWords ? { labelWords: o.labelWords } : {}), ...(o.template !== undefined ? { template: o.template } : {}),
          ...(o.steps ? { steps: o.steps } : {}), epochs: o.epochs, batchSize: o.batchSize, maxLength: o.maxLength,
          ...(o.maxTrain ? { maxTrain: o.maxTrain } : {}), ...(o.maxEval ? { maxEval: o.maxEval } : {}),
          scoreLr: o.lr, weightLr: o.weightLr, lambdaR: o.lambdaR, temperature: o.temperature,
          ...(o.finalHold !== undefined ? { finalHold: o.finalHold } : {}), seed: o.seed,
          evalEvery: o.evalEvery, checkpointEvery: o.checkpointEvery, workDir: o.workDir ?? claim.workDir,
          ...(o.teacher ? { teacher: o.teacher } : {}), exportModel: o.exportModel ?? false,
          onLog: (l) => { ctx.io.err(`prunekit: ${l}\n`); },
          onStep: (s, total) => {
            const detail = `loss ${s.loss.toFixed(4)} keep ${s.kept.toFixed(3)}`;
            progress.update('training', s.step, total, detail);
            if (!ctx.io.tty && (s.step % o.logEvery === 0 || s.step === total)) ctx.io.err(`${label} step ${s.step}/${total}: ${detail}\n`);
          },
          onEval: (e) => { ctx.io.err(`${label} eval at step ${e.step} (keep ${e.keep.toFixed(3)}): accuracy ${e.scores.accuracy.toFixed(4)}, mcc ${e.scores.mcc.toFixed(4)}, f1 ${e.scores.f1.toFixed(4)}\n`); },
        });
        progress.stop();
        const summary = {
          out: path.resolve(r.out), method: o.method, task: r.task.name, keep: o.method === 'full-ft' ? 1 : o.keep, labelWords: r.labelWords,
          metric: r.task.metric, score: r.final.main, scores: r.final.scores, maskBytes: r.maskBytes, modelBytes: r.modelBytes,
          trainExamples: r.trainExamples, evalExamples: r.evalExamples, steps: r.steps, stepsRun: r.stepsRun, seconds: r.seconds,
        };
        if (o.json) printJson(ctx.io, summary);
        else {
          ctx.io.out(`${label} on ${r.task.name}: ${r.task.metric} ${r.final.main.toFixed(4)} (accuracy ${r.final.scores.accuracy.toFixed(4)}) after ${r.steps} steps (${r.stepsRun} run now)\n`);
          if (r.maskBytes !== null) ctx.io.out(`masks: ${r.maskBytes} bytes (${((100 * r.maskBytes) / r.modelBytes).toFixed(2)}% of the ${r.modelBytes}-byte fp32 model); written to ${r.out}\n`);
          else ctx.io.out(`model written to ${path.join(r.out, 'model')}\n`);
        }
      } catch (e) {
        throw e instanceof CliError ? e : new CliError(e instanceof Error ? e.message : String(e));
      } finally {
        progress.stop();
      }
    });
}
