// `prunekit prune` / `prunekit retrain`: GAPrune and its baselines (`prunekit score`: score.ts).
//  prune:   one-shot end to end (statistics -> scores -> masks [-> retraining]) to a model folder;
//  score:   only the gradient statistics of a data set, stored for later runs;
//  retrain: N steps of InfoNCE on domain data for a pruned folder, its masks held fixed.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ALLOCATIONS, MaskSet, SentenceEncoder, initBackend, parsePolicy, saveModel, type Allocation } from '@prunekit/tensor-core';
import {
  DISTILL_LOSSES, FISHER_NORMALISATIONS, RESCALES, SCORING_METHODS, STRUCTURED_ALLOCATIONS, formatDiagnostics, loadGradStats, parseStructure, readTriplets, retrainMasked, runPrune, runStructuredPrune,
  type DistillLoss, type FisherNormalisation, type Rescale, type ScoringMethod, type StructuredAllocation,
} from '@prunekit/scoring-fisher';
import type { CliContext } from '../util/context.js';
import { CliError, positiveInt, oneOf } from '../util/errors.js';
import { printJson } from '../util/io.js';
import { stageProgress } from '../util/stageProgress.js';

function fraction(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!(n >= 0 && n < 1)) throw new CliError(`${flag} expects a number in [0, 1) (got "${v}")`);
    return n;
  };
}

export function existingDir(flag: string, dir: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(`${flag} ${dir}: not a folder`);
  return dir;
}

interface PruneFlags {
  model: string;
  out: string;
  method: ScoringMethod;
  sparsity: number;
  allocation: Allocation;
  targets: string;
  domain?: string;
  general?: string;
  domainStats?: string;
  generalStats?: string;
  batchSize: number;
  maxBatches?: number;
  microBatch?: number;
  seed: number;
  beta: number;
  gamma: number;
  alignment: 'per-matrix' | 'per-weight';
  rescale: Rescale;
  retrainSteps: number;
  retrainLr: number;
  workDir?: string;
  json?: boolean;
  structure?: string;
  minPerLayer: number;
  distill?: DistillLoss;
  fisherNormalisation: FisherNormalisation;
}

export function registerPrune(program: Command, ctx: CliContext): void {
  program
    .command('prune')
    .description('prune a model one-shot with GAPrune or a baseline; writes a HF model folder with masks and a manifest')
    .requiredOption('--model <dir>', 'HF / sentence-transformers model folder')
    .requiredOption('--out <dir>', 'output model folder (written atomically)')
    .option('--method <name>', `scorer: ${SCORING_METHODS.join(', ')} (smp-l, smp-s, movement, magnitude-ft run prune-smp; finegates, lora, bitfit run prune-gates)`, oneOf('--method', SCORING_METHODS), 'gaprune')
    .option('--sparsity <s>', 'fraction of the prunable weights to remove', fraction('--sparsity'), 0.5)
    .option('--allocation <a>', `how the budget is spread: ${ALLOCATIONS.join(', ')}`, oneOf('--allocation', ALLOCATIONS), 'global')
    .option('--targets <t>', 'prunable matrices: mlp (GAPrune default), attention+mlp, attention, or a list of query,key,value,attn_output,ffn_up,ffn_down', 'mlp')
    .option('--domain <file>', 'domain triplets jsonl {query, positive, negative?}')
    .option('--general <file>', 'general triplets jsonl {query, positive, negative?}')
    .option('--domain-stats <file>', 'domain gradient statistics from `prunekit score` (or merged shards) instead of computing them from --domain')
    .option('--general-stats <file>', 'general gradient statistics from `prunekit score` (or merged shards) instead of computing them from --general')
    .option('--batch-size <n>', 'triplets per gradient batch', positiveInt('--batch-size'), 16)
    .option('--max-batches <n>', 'cap on statistics batches per data set', positiveInt('--max-batches'))
    .option('--micro-batch <n>', 'sequences per backward pass in the statistics: bounds peak memory, same results, one extra forward pass', positiveInt('--micro-batch'))
    .option('--seed <n>', 'seed (batch order, random scores, retraining)', (v) => Number(v), 0)
    .option('--beta <x>', 'DAI: weight of the general Fisher term', (v) => Number(v), 1.0)
    .option('--gamma <x>', 'DAI: weight of the √|W| term', (v) => Number(v), 0.5)
    .option('--alignment <mode>', 'DAI alignment: per-matrix (paper) or per-weight (code)', oneOf('--alignment', ['per-matrix', 'per-weight'] as const), 'per-matrix')
    .option('--rescale <r>', `DAI per-tensor rescaling: ${RESCALES.join(', ')}`, oneOf('--rescale', RESCALES), 'none')
    .option('--retrain-steps <n>', 'InfoNCE steps on domain data after pruning, masks fixed (0 = one-shot)', (v) => Number(v), 0)
    .option('--retrain-lr <x>', 'retraining learning rate', (v) => Number(v), 2e-5)
    .option('--work-dir <dir>', 'statistics checkpoints and cache (default: <out>.work); rerun to resume')
    .option('--fisher-normalisation <n>', `DAI: divide Σ g² by ${FISHER_NORMALISATIONS.join(' or ')} (the official code: samples)`, oneOf('--fisher-normalisation', FISHER_NORMALISATIONS), 'batches')
    .option('--structure <kinds>', 'structured pruning: remove whole groups (heads, neurons; comma-separated) and write the compacted model; --sparsity is then the fraction of encoder-layer parameters removed')
    .option('--min-per-layer <f>', 'structured: fraction of each layer\'s heads and of its neurons always kept (at least one)', fraction('--min-per-layer'), 0.05)
    .option('--distill <loss>', `structured recovery: distil from the dense model (${DISTILL_LOSSES.join(', ')}) during --retrain-steps`, oneOf('--distill', DISTILL_LOSSES))
    .option('--json', 'print the result as JSON on stdout')
    .action(async (o: PruneFlags) => {
      existingDir('--model', o.model);
      if (o.structure !== undefined) {
        await pruneStructuredCommand(ctx, o);
        return;
      }
      if (o.distill) throw new CliError('--distill applies to structured pruning (--structure heads,neurons)');
      parsePolicy(o.targets);
      const domain = o.domain ? await readTriplets(o.domain) : undefined;
      const general = o.general ? await readTriplets(o.general) : undefined;
      await initBackend();
      const progress = stageProgress(ctx.io, o.method);
      try {
        const r = await runPrune({
          model: o.model, out: o.out, method: o.method, sparsity: o.sparsity, allocation: o.allocation, targets: o.targets,
          ...(domain ? { domain } : {}), ...(general ? { general } : {}),
          ...(o.domainStats ? { domainStats: loadGradStats(o.domainStats) } : {}), ...(o.generalStats ? { generalStats: loadGradStats(o.generalStats) } : {}),
          dataSources: { ...(o.domain ? { domain: path.resolve(o.domain) } : {}), ...(o.general ? { general: path.resolve(o.general) } : {}) },
          batchSize: o.batchSize, ...(o.maxBatches ? { maxBatches: o.maxBatches } : {}), ...(o.microBatch ? { microBatch: o.microBatch } : {}), seed: o.seed,
          dai: { beta: o.beta, gamma: o.gamma, alignment: o.alignment, rescale: o.rescale, fisherNormalisation: o.fisherNormalisation },
          retrainSteps: o.retrainSteps, retrainLr: o.retrainLr, ...(o.workDir ? { workDir: o.workDir } : {}),
          onProgress: (stage, done, total, detail) => { progress.update(stage, done, total, detail); },
        });
        progress.stop();
        if (o.json) {
          printJson(ctx.io, { out: path.resolve(r.out), method: o.method, sparsity: r.stats.sparsity, kept: r.stats.kept, numel: r.stats.numel, diagnostics: r.diagnostics ?? null, retrainLosses: r.retrainLosses ?? null, seconds: r.seconds });
        } else {
          ctx.io.out(`pruned ${r.stats.numel - r.stats.kept} of ${r.stats.numel} prunable weights (${(r.stats.sparsity * 100).toFixed(2)}%) with ${o.method}; model written to ${r.out}\n`);
          if (r.diagnostics) ctx.io.out(`\nDAI diagnostics\n${formatDiagnostics(r.diagnostics)}\n`);
        }
      } finally {
        progress.stop();
      }
    });

  program
    .command('retrain')
    .description('retrain a pruned model folder (from `prunekit prune`) on domain triplets with its masks held fixed')
    .requiredOption('--model <dir>', 'pruned model folder (with prunekit/masks.safetensors)')
    .requiredOption('--domain <file>', 'domain triplets jsonl')
    .requiredOption('--out <dir>', 'output model folder')
    .option('--steps <n>', 'training steps', positiveInt('--steps'), 100)
    .option('--lr <x>', 'learning rate', (v) => Number(v), 2e-5)
    .option('--batch-size <n>', 'triplets per step', positiveInt('--batch-size'), 16)
    .option('--seed <n>', 'seed', (v) => Number(v), 0)
    .option('--json', 'print the losses as JSON on stdout')
    .action(async (o: { model: string; domain: string; out: string; steps: number; lr: number; batchSize: number; seed: number; json?: boolean }) => {
      existingDir('--model', o.model);
      const maskFile = path.join(o.model, 'prunekit', 'masks.safetensors');
      if (!fs.existsSync(maskFile)) throw new CliError(`${maskFile}: missing (retrain takes a folder written by \`prunekit prune\`)`);
      const triplets = await readTriplets(o.domain);
      await initBackend();
      const { masks } = MaskSet.load(maskFile);
      const enc = await SentenceEncoder.load(o.model);
      const progress = stageProgress(ctx.io, 'retrain');
      try {
        const losses = await retrainMasked(enc, masks, triplets, { steps: o.steps, lr: o.lr, batchSize: o.batchSize, seed: o.seed, onStep: (s, t, l) => { progress.update('steps', s, t, `loss ${l.toFixed(4)}`); } });
        progress.stop();
        await saveModel(enc.model, o.out, {
          companionsFrom: o.model,
          extra: (dir) => {
            fs.cpSync(path.join(o.model, 'prunekit'), path.join(dir, 'prunekit'), { recursive: true });
            fs.writeFileSync(path.join(dir, 'prunekit', 'retrain.json'), `${JSON.stringify({ steps: o.steps, lr: o.lr, batchSize: o.batchSize, seed: o.seed, domain: path.resolve(o.domain), losses }, null, 2)}\n`);
          },
        });
        if (o.json) printJson(ctx.io, { out: path.resolve(o.out), losses });
        else ctx.io.out(`retrained ${o.steps} steps (loss ${losses[0]?.toFixed(4)} -> ${losses.at(-1)?.toFixed(4)}); model written to ${o.out}\n`);
      } finally {
        progress.stop();
        enc.dispose();
      }
    });
}

/** `prunekit prune --structure ...`: structured pruning to a compacted model (scoring-fisher runStructuredPrune). */
async function pruneStructuredCommand(ctx: CliContext, o: PruneFlags): Promise<void> {
  let structure;
  try {
    structure = parseStructure(o.structure!);
  } catch (err) {
    throw new CliError(`--structure: ${(err as Error).message}`);
  }
  if (!(STRUCTURED_ALLOCATIONS as readonly string[]).includes(o.allocation)) throw new CliError(`--allocation with --structure must be ${STRUCTURED_ALLOCATIONS.join(' or ')} (got "${o.allocation}")`);
  const domain = o.domain ? await readTriplets(o.domain) : undefined;
  const general = o.general ? await readTriplets(o.general) : undefined;
  await initBackend();
  const progress = stageProgress(ctx.io, `${o.method} structured`);
  try {
    const r = await runStructuredPrune({
      model: o.model, out: o.out, method: o.method, sparsity: o.sparsity, structure, allocation: o.allocation as StructuredAllocation, minPerLayer: o.minPerLayer,
      ...(domain ? { domain } : {}), ...(general ? { general } : {}),
      ...(o.domainStats ? { domainStats: loadGradStats(o.domainStats) } : {}), ...(o.generalStats ? { generalStats: loadGradStats(o.generalStats) } : {}),
      dataSources: { ...(o.domain ? { domain: path.resolve(o.domain) } : {}), ...(o.general ? { general: path.resolve(o.general) } : {}) },
      batchSize: o.batchSize, ...(o.maxBatches ? { maxBatches: o.maxBatches } : {}), ...(o.microBatch ? { microBatch: o.microBatch } : {}), seed: o.seed,
      dai: { beta: o.beta, gamma: o.gamma, alignment: o.alignment, rescale: o.rescale, fisherNormalisation: o.fisherNormalisation },
      retrainSteps: o.retrainSteps, retrainLr: o.retrainLr, ...(o.distill ? { distill: o.distill } : {}), ...(o.workDir ? { workDir: o.workDir } : {}),
      onProgress: (stage, done, total, detail) => { progress.update(stage, done, total, detail); },
    });
    progress.stop();
    const al = r.allocation;
    if (o.json) {
      printJson(ctx.io, { out: path.resolve(r.out), method: o.method, structure, targetSparsity: o.sparsity, achievedSparsity: al.achievedSparsity, encoderParameters: r.encoderParameters, parameters: r.parameters, removedHeads: al.removed.filter((g) => g.kind === 'head').length, removedNeurons: al.removed.filter((g) => g.kind === 'ffn_neuron').length, recoveryLosses: r.recoveryLosses ?? null, seconds: r.seconds });
    } else {
      ctx.io.out(`removed ${al.removedParams} of ${al.totalParams} encoder parameters (${(al.achievedSparsity * 100).toFixed(2)}%; target ${al.targetParams}) as ${al.removed.filter((g) => g.kind === 'head').length} heads and ${al.removed.filter((g) => g.kind === 'ffn_neuron').length} FFN neurons with ${o.method}; model ${r.parameters.before} -> ${r.parameters.after} parameters; compacted model written to ${r.out}\n`);
    }
  } finally {
    progress.stop();
  }
}
