// `prunekit score`: gradient statistics (diagonal Fisher, mean gradient) of a model on triplets,
// stored for later runs (`prunekit prune --domain-stats/--general-stats`). Large data sets split
// into shards: `--shard i/n` computes one shard's sums (any machine, the same split everywhere),
// `prunekit score merge` adds shard files into the statistics of the whole set, and
// `--queue redis://... --shards n` runs the shards as jobs for `prunekit-bench worker` processes
// and merges them.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { SentenceEncoder, WorkQueue, initBackend, jobIdOf, parsePolicy, prunableParameters } from '@prunekit/tensor-core';
import {
  SCORE_SHARD_JOB, computeGradStats, computeGradStatsShard, mergeGradStatsShards, parseShard, readTriplets, saveGradStats, writeShardFile,
  type ScoreShardJob,
} from '@prunekit/scoring-fisher';
import type { CliContext } from '../util/context.js';
import { CliError, positiveInt } from '../util/errors.js';
import { printJson } from '../util/io.js';
import { stageProgress } from '../util/stageProgress.js';
import { existingDir } from './prune.js';

interface ScoreFlags {
  model: string;
  data: string;
  out: string;
  targets: string;
  batchSize: number;
  maxBatches?: number;
  microBatch?: number;
  seed: number;
  shard?: string;
  queue?: string;
  queueName: string;
  shards?: number;
  json?: boolean;
}

function integer(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) throw new CliError(`${flag} expects an integer (got "${v}")`);
    return n;
  };
}

export function registerScore(program: Command, ctx: CliContext): void {
  program.enablePositionalOptions();
  const score = program
    .command('score')
    .enablePositionalOptions()
    .description('compute and store gradient statistics (diagonal Fisher, mean gradient) of a model on triplets; `score merge` adds shards')
    .option('--model <dir>', 'HF / sentence-transformers model folder (required)')
    .option('--data <file>', 'triplets jsonl {query, positive, negative?} (required)')
    .option('--out <file>', 'statistics file (.safetensors); with --shard, the shard file (required)')
    .option('--targets <t>', 'matrices: mlp, attention+mlp, ...', 'mlp')
    .option('--batch-size <n>', 'triplets per batch', positiveInt('--batch-size'), 16)
    .option('--max-batches <n>', 'cap on batches', positiveInt('--max-batches'))
    .option('--micro-batch <n>', 'sequences per backward pass in the statistics: bounds peak memory, same results, one extra forward pass', positiveInt('--micro-batch'))
    .option('--seed <n>', 'batch order seed', integer('--seed'), 0)
    .option('--shard <i/n>', 'compute only shard i of n (1-based) of the seeded batches and write its sums to --out; merge the n files with `prunekit score merge`')
    .option('--queue <url>', 'run the statistics as --shards jobs on a BullMQ queue at redis://HOST:PORT[/DB] (workers: `prunekit-bench worker`), then merge them into --out')
    .option('--queue-name <name>', 'queue name in Redis', 'prunekit')
    .option('--shards <n>', 'with --queue: number of shards', positiveInt('--shards'))
    .option('--json', 'print a summary as JSON on stdout')
    .action(async (o: ScoreFlags) => {
      for (const [flag, v] of [['--model', o.model], ['--data', o.data], ['--out', o.out]] as const) if (!v) throw new CliError(`score: ${flag} is required`);
      existingDir('--model', o.model);
      if (o.shard && o.queue) throw new CliError('--shard and --queue exclude each other (--queue runs every shard as a job)');
      if (o.queue && o.shards === undefined) throw new CliError('--queue needs --shards N (how many jobs to split the statistics into)');
      if (o.shards !== undefined && !o.queue) throw new CliError('--shards goes with --queue (for one shard on this machine use --shard i/n)');
      parsePolicy(o.targets);
      const shard = o.shard === undefined ? undefined : (() => {
        try {
          return parseShard(o.shard);
        } catch (e) {
          throw new CliError((e as Error).message);
        }
      })();
      if (o.queue) {
        await scoreOnQueue(ctx, o);
        return;
      }
      const triplets = await readTriplets(o.data);
      await initBackend();
      const enc = await SentenceEncoder.load(o.model);
      const progress = stageProgress(ctx.io, 'score');
      try {
        const params = prunableParameters(enc.model, parsePolicy(o.targets)).map((p) => p.name);
        const common = {
          params, batchSize: o.batchSize, seed: o.seed, ...(o.maxBatches ? { maxBatches: o.maxBatches } : {}), ...(o.microBatch ? { microBatch: o.microBatch } : {}),
          checkpoint: { file: `${o.out}.partial`, every: 10 }, label: path.basename(o.data),
          onBatch: (d: number, t: number, loss: number) => { progress.update('statistics', d, t, `loss ${loss.toFixed(4)}`); },
        };
        if (shard) {
          const sums = await computeGradStatsShard(enc, triplets, { ...common, shard });
          progress.stop();
          writeShardFile(o.out, sums);
          fs.rmSync(`${o.out}.partial`, { force: true });
          const summary = { out: path.resolve(o.out), shard: `${shard.index + 1}/${shard.count}`, matrices: params.length, batches: Number(sums.meta.batchesDone), totalBatches: Number(sums.meta.totalBatches), meta: sums.meta };
          if (o.json) printJson(ctx.io, summary);
          else ctx.io.out(`shard ${summary.shard}: gradient sums of ${params.length} matrices over ${summary.batches} of ${summary.totalBatches} batches written to ${o.out}\n`);
          return;
        }
        const stats = await computeGradStats(enc, triplets, common);
        progress.stop();
        saveGradStats(stats, o.out);
        fs.rmSync(`${o.out}.partial`, { force: true });
        const summary = { out: path.resolve(o.out), matrices: params.length, batches: stats.numBatches, meta: stats.meta };
        if (o.json) printJson(ctx.io, summary);
        else ctx.io.out(`gradient statistics of ${params.length} matrices over ${stats.numBatches} batches written to ${o.out}\n`);
      } finally {
        progress.stop();
        enc.dispose();
      }
    });

  score
    .command('merge')
    .description('add statistics shards (`prunekit score --shard i/n`) into the statistics of the whole data set')
    .argument('<shards...>', 'shard files, one per shard, in any order')
    .requiredOption('--out <file>', 'merged statistics file (.safetensors), as `prunekit score` writes')
    .option('--json', 'print a summary as JSON on stdout')
    .action((files: string[], o: { out: string; json?: boolean }) => {
      let stats;
      try {
        stats = mergeGradStatsShards(files);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      saveGradStats(stats, o.out);
      const summary = { out: path.resolve(o.out), shards: files.length, matrices: stats.fisher.size, batches: stats.numBatches, meta: stats.meta };
      if (o.json) printJson(ctx.io, summary);
      else ctx.io.out(`merged ${files.length} shards: statistics of ${stats.fisher.size} matrices over ${stats.numBatches} batches written to ${o.out}\n`);
    });
}

/** Enqueues the shards as jobs, waits for the workers, merges into --out. */
async function scoreOnQueue(ctx: CliContext, o: ScoreFlags): Promise<void> {
  const n = o.shards!;
  const dir = `${path.resolve(o.out)}.shards`;
  const jobs = Array.from({ length: n }, (_, index) => {
    const job: ScoreShardJob = {
      model: path.resolve(o.model), data: path.resolve(o.data), targets: o.targets, batchSize: o.batchSize, seed: o.seed,
      ...(o.maxBatches ? { maxBatches: o.maxBatches } : {}), ...(o.microBatch ? { microBatch: o.microBatch } : {}),
      shard: { index, count: n }, out: path.join(dir, `shard-${index + 1}-of-${n}.safetensors`),
    };
    return { id: jobIdOf(SCORE_SHARD_JOB, job), kind: SCORE_SHARD_JOB, label: `score shard ${index + 1}/${n} of ${path.basename(o.data)}`, data: job };
  });
  let queue: WorkQueue;
  try {
    queue = await WorkQueue.open(o.queue!, o.queueName);
  } catch (e) {
    throw new CliError(`--queue ${o.queue}: ${(e as Error).message}`);
  }
  try {
    const added = await queue.enqueue(jobs);
    ctx.io.err(`prunekit score: ${n} shards on queue ${o.queueName} (${added.added} enqueued, ${added.existing} already there, ${added.retried} retried); workers: \`prunekit-bench worker --queue ${o.queue}\`\n`);
    const progress = stageProgress(ctx.io, 'score');
    let waited;
    try {
      waited = await queue.waitFor(jobs, (p) => { progress.update('shards', p.completed + p.failed, p.total, `${p.active} running, ${p.failed} failed`); });
    } finally {
      progress.stop();
    }
    if (waited.failed.length > 0) throw new CliError(`${waited.failed.length} of ${n} shards failed (${waited.failed.map((f) => `${f.label}: ${f.reason}`).join('; ')}); rerun to retry them`);
  } finally {
    await queue.close();
  }
  const stats = mergeGradStatsShards(jobs.map((j) => j.data.out));
  saveGradStats(stats, o.out);
  const summary = { out: path.resolve(o.out), shards: n, shardFiles: dir, matrices: stats.fisher.size, batches: stats.numBatches, meta: stats.meta };
  if (o.json) printJson(ctx.io, summary);
  else ctx.io.out(`${n} shards merged: statistics of ${stats.fisher.size} matrices over ${stats.numBatches} batches written to ${o.out}\n`);
}
