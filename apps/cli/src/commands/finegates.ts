// `prunekit prune-gates`: FineGates (learned stochastic row/column gates over frozen weights, then
// structured compaction) or a baseline (LoRA r = 4 on Q/V, BitFit, full fine-tuning) on a classification
// task with a new RoBERTa-style head. Writes model/, head.safetensors, gates/ (FineGates), report.json and
// report.md atomically; rerunning the same command resumes from the checkpoint in the work folder.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { claimOutput, initBackend, parsePolicy } from '@prunekit/tensor-core';
import { METHODS, TASKS, formatRemoval, runGates, type Method } from '@prunekit/gates-finegates';
import type { CliContext } from '../util/context.js';
import { CliError, positiveInt, oneOf, numberFlag as number } from '../util/errors.js';
import { printJson, warn } from '../util/io.js';
import { stageProgress } from '../util/stageProgress.js';

interface GateFlags {
  method: Method;
  task: string;
  model: string;
  dataRoot: string;
  out: string;
  sparsity: number;
  steps: number;
  batchSize: number;
  lr?: number;
  headLr: number;
  gateLr?: number;
  lambda: number;
  kurtosis?: boolean;
  targets: string;
  loraRank: number;
  maxLength: number;
  maxTrain: number;
  maxTest: number;
  seed: number;
  workDir?: string;
  force?: boolean;
  checkpointEvery: number;
  json?: boolean;
}

const positive = (flag: string): ((v: string) => number) => number(flag, (n) => n > 0 && Number.isFinite(n), 'a positive number');

export function registerFineGates(program: Command, ctx: CliContext): void {
  program
    .command('prune-gates')
    .description('FineGates (trained row/column gates over frozen weights, then a physically smaller model) or a baseline (lora, bitfit, full-ft) on a classification task')
    .option('--method <m>', METHODS.join(', '), oneOf('--method', METHODS), 'finegates')
    .requiredOption('--task <name>', `task under --data-root: ${Object.keys(TASKS).join(', ')}`)
    .requiredOption('--model <dir>', 'HF model folder with its tokenizer (e.g. a BertForMaskedLM checkpoint)')
    .requiredOption('--data-root <dir>', 'datasets root holding <task>/<split>.jsonl')
    .requiredOption('--out <dir>', 'output folder (written atomically)')
    .option('--sparsity <s>', 'FineGates target sparsity (fraction of gated rows/columns closed), in (0, 1)', number('--sparsity', (n) => n > 0 && n < 1, 'a number in (0, 1)'), 0.4)
    .option('--steps <n>', 'training steps', positiveInt('--steps'), 300)
    .option('--batch-size <n>', 'examples per step', positiveInt('--batch-size'), 16)
    .option('--lr <x>', 'learning rate of the trained encoder-side parameters (default 1e-3; full-ft 1e-4)', positive('--lr'))
    .option('--head-lr <x>', 'learning rate of the classification head', positive('--head-lr'), 1e-3)
    .option('--gate-lr <x>', 'FineGates: learning rate of the gate parameters (default: --lr, the paper\'s 1e-3)', positive('--gate-lr'))
    .option('--lambda <x>', 'FineGates: weight λ of the target-sparsity regulariser', number('--lambda', (n) => n >= 0 && Number.isFinite(n), 'a number ≥ 0'), 50)
    .option('--kurtosis', 'FineGates: kurtosis-weighted regulariser (the authors\' --kurt)')
    .option('--targets <t>', 'FineGates: gated linears: attention+mlp, attention, mlp, or a list of query,key,value,attn_output,ffn_up,ffn_down', 'attention+mlp')
    .option('--lora-rank <r>', 'LoRA rank', positiveInt('--lora-rank'), 4)
    .option('--max-length <n>', 'tokens per input (longer inputs are truncated)', positiveInt('--max-length'), 128)
    .option('--max-train <n>', 'train examples (a seeded random subset when the split is larger)', positiveInt('--max-train'), 4000)
    .option('--max-test <n>', 'test examples (a seeded random subset when the split is larger)', positiveInt('--max-test'), 1000)
    .option('--seed <n>', 'seed (initialisation, batches, dropout, gate noise)', number('--seed', (n) => Number.isSafeInteger(n) && n >= 0, 'an integer ≥ 0'), 0)
    .option('--work-dir <dir>', 'checkpoint folder (default: in the hidden work area beside --out); rerun the same command to resume')
    .option('--force', 'replace --out even when it is not an earlier prunekit output of this kind')
    .option('--checkpoint-every <n>', 'steps between checkpoints', positiveInt('--checkpoint-every'), 50)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (o: GateFlags) => {
      if (!fs.existsSync(o.model) || !fs.statSync(o.model).isDirectory()) throw new CliError(`--model ${o.model}: not a folder`);
      if (!fs.existsSync(o.dataRoot) || !fs.statSync(o.dataRoot).isDirectory()) throw new CliError(`--data-root ${o.dataRoot}: not a folder`);
      if (!TASKS[o.task]) throw new CliError(`--task must be one of ${Object.keys(TASKS).join(', ')} (got "${o.task}")`);
      if (!fs.existsSync(path.join(o.dataRoot, o.task))) throw new CliError(`--task ${o.task}: ${path.join(o.dataRoot, o.task)} does not exist`);
      try {
        parsePolicy(o.targets);
      } catch (e) {
        throw new CliError(`--targets: ${(e as Error).message}`);
      }
      if (o.method === 'finegates') {
        const gateLr = o.gateLr ?? o.lr ?? 1e-3;
        // θ starts near 1 and a gate is closed only below atanh(−0.5) ≈ −0.55; Adam moves θ by ≤ ~lr per step
        if (gateLr * o.steps < 1.6) warn(ctx.io, `gate parameters can move at most ~${(gateLr * o.steps).toPrecision(2)} in ${o.steps} steps at gate lr ${gateLr}, but must move ~1.55 to close a gate: expect few or no closed rows/columns (raise --steps or --gate-lr, e.g. --gate-lr ${(5 / o.steps).toPrecision(2)})`);
      }
      const claim = claimOutput({ out: o.out, kind: 'model', inputs: [o.model], force: o.force });
      await initBackend();
      const progress = stageProgress(ctx.io, `${o.method}${o.method === 'finegates' ? ` s=${o.sparsity}` : ''}`);
      try {
        const r = await runGates({
          model: o.model, task: o.task, dataRoot: o.dataRoot, out: o.out, method: o.method, sparsity: o.sparsity,
          steps: o.steps, batchSize: o.batchSize, headLr: o.headLr, lambda: o.lambda, kurtosis: o.kurtosis ?? false, targets: o.targets,
          loraRank: o.loraRank, maxLength: o.maxLength, maxTrain: o.maxTrain, maxTest: o.maxTest, seed: o.seed, checkpointEvery: o.checkpointEvery,
          ...(o.lr !== undefined ? { lr: o.lr } : {}), ...(o.gateLr !== undefined ? { gateLr: o.gateLr } : {}), workDir: o.workDir ?? claim.workDir,
          onProgress: (stage, done, total, detail) => { progress.update(stage, done, total, detail); },
        });
        progress.stop();
        if (o.json) {
          printJson(ctx.io, {
            out: path.resolve(r.out), method: r.method, task: r.task, metrics: r.metrics, trainable: r.trainable,
            removed: r.removal ? { linearBefore: r.removal.linearBefore, linearAfter: r.removal.linearAfter, fraction: r.removal.linearRemovedFraction, totalFraction: r.removal.totalRemovedFraction } : null,
            gateStats: r.gateStats ?? null, compactMaxDiff: r.compactMaxDiff ?? null, resumedFrom: r.resumedFrom, seconds: r.seconds,
          });
        } else {
          ctx.io.out(`${r.method} on ${r.task}: accuracy ${(100 * r.metrics.accuracy).toFixed(2)}% (MCC ${r.metrics.mcc.toFixed(3)}), ${r.trainable.total} trainable parameters\n`);
          if (r.removal) ctx.io.out(`\n${formatRemoval(r.removal)}\ncompacted model vs gated model: max |logit difference| ${(r.compactMaxDiff ?? 0).toExponential(2)}\n`);
          ctx.io.out(`written to ${r.out}\n`);
        }
      } finally {
        progress.stop();
      }
    });
}
