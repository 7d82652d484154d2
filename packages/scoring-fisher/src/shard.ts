// Sharded gradient statistics. Fisher and mean gradient are sums over batches, so the batches of one
// data set can be split across processes or machines and the sums added afterwards. A shard is the
// set of batches b (in the seeded batch order of `tripletBatches`) with b mod count = index: every
// machine that has the same triplets, batch size and seed derives the same split. A shard file holds
// the shard's raw sums (Σ g², Σ g) with the settings and fingerprints that must agree; merging
// checks them, checks that the shards cover the split exactly once, adds the sums in float64 and
// divides by the total number of batches, as a one-process run does.
import fs from 'node:fs';
import path from 'node:path';
import { SafetensorsFile, SentenceEncoder, initBackend, parsePolicy, prunableParameters, writeSafetensors, type HostTensor } from '@prunekit/tensor-core';
import { FISHER_EPS, computeGradStatsShard, type GradStats } from './gradstats.js';
import { readTriplets } from './triplets.js';

export const SHARD_FORMAT = 'prunekit-gradstats-shard';

/** Which part of the batches a process computes: shard `index` (0-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** Parses "i/n" (1-based on the command line, as people count: 1/4 … 4/4) into a 0-based spec. */
export function parseShard(text: string, flag = '--shard'): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`${flag} expects i/n with 1 ≤ i ≤ n, e.g. 2/4 (got "${text}")`);
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (n < 1 || i < 1 || i > n) throw new Error(`${flag} expects i/n with 1 ≤ i ≤ n, e.g. 2/4 (got "${text}")`);
  return { index: i - 1, count: n };
}

export function validateShard(shard: ShardSpec): void {
  if (!Number.isInteger(shard.count) || shard.count < 1) throw new Error(`shard count must be a positive integer (got ${shard.count})`);
  if (!Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) throw new Error(`shard index must be an integer in [0, ${shard.count}) (got ${shard.index})`);
}

/** Indices of the batches (out of `total`) that belong to a shard. */
export function shardBatchIndices(total: number, shard: ShardSpec): number[] {
  validateShard(shard);
  const out: number[] = [];
  for (let b = shard.index; b < total; b += shard.count) out.push(b);
  return out;
}

/** Settings that every shard of one statistics run must share (compared verbatim on merge). */
export const SHARD_AGREEING_FIELDS = ['dataFingerprint', 'modelFingerprint', 'batchSize', 'seed', 'totalBatches', 'loss', 'shardCount', 'params'] as const;

export interface ShardSums {
  sumSq: Map<string, Float32Array>;
  sum: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
  meta: Record<string, string>;
}

/** Writes a finished shard's raw sums (safetensors "sumsq.<name>" / "sum.<name>", metadata as given). */
export function writeShardFile(file: string, sums: ShardSums): void {
  const tensors = new Map<string, HostTensor>();
  for (const [name, sq] of sums.sumSq) {
    const shape = sums.shapes.get(name);
    const s = sums.sum.get(name);
    if (!shape || !s) throw new Error(`shard sums for "${name}" lack a shape or a gradient sum`);
    tensors.set(`sumsq.${name}`, { dtype: 'F32', shape, data: sq });
    tensors.set(`sum.${name}`, { dtype: 'F32', shape, data: s });
  }
  writeSafetensors(file, tensors, { ...sums.meta, format: SHARD_FORMAT });
}

export function readShardFile(file: string): ShardSums {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such shard file`);
  if (fs.statSync(file).isDirectory()) throw new Error(`${file}: is a folder; expected a shard file written by \`prunekit score --shard\``);
  const st = SafetensorsFile.open(file);
  try {
    if (st.metadata.format !== SHARD_FORMAT) {
      throw new Error(`${file}: not a statistics shard (metadata format is ${st.metadata.format ?? 'missing'}; expected ${SHARD_FORMAT}, written by \`prunekit score --shard i/n\`)`);
    }
    const sumSq = new Map<string, Float32Array>();
    const sum = new Map<string, Float32Array>();
    const shapes = new Map<string, number[]>();
    for (const name of st.names()) {
      if (name.startsWith('sumsq.')) {
        sumSq.set(name.slice(6), st.readFloat32(name));
        shapes.set(name.slice(6), st.entry(name).shape);
      } else if (name.startsWith('sum.')) sum.set(name.slice(4), st.readFloat32(name));
    }
    return { sumSq, sum, shapes, meta: { ...st.metadata } };
  } finally {
    st.close();
  }
}

function need(meta: Record<string, string>, key: string, file: string): string {
  const v = meta[key];
  if (v === undefined || v === '') throw new Error(`${file}: shard metadata lacks "${key}"`);
  return v;
}

/**
 * Merges shard files into the statistics of the whole data set: the same GradStats a one-process
 * `computeGradStats` gives (to float32 rounding of the sums). Refuses shards of different models,
 * data or settings, overlapping shards, missing shards and incomplete shards, naming the files.
 */
export function mergeGradStatsShards(files: readonly string[]): GradStats {
  if (files.length === 0) throw new Error('no shard files to merge');
  const shards = files.map((f) => ({ file: f, ...readShardFile(f) }));
  const first = shards[0]!;
  for (const s of shards.slice(1)) {
    for (const key of SHARD_AGREEING_FIELDS) {
      const a = need(first.meta, key, first.file);
      const b = need(s.meta, key, s.file);
      if (a !== b) throw new Error(`${s.file}: shard has ${key} ${b.length > 80 ? `${b.slice(0, 77)}...` : b}, but ${first.file} has ${a.length > 80 ? `${a.slice(0, 77)}...` : a}; shards of one statistics run must agree on ${key}`);
    }
  }
  const count = Number(need(first.meta, 'shardCount', first.file));
  const totalBatches = Number(need(first.meta, 'totalBatches', first.file));
  const owner = new Map<number, string>();
  for (const s of shards) {
    const index = Number(need(s.meta, 'shardIndex', s.file));
    const prev = owner.get(index);
    if (prev !== undefined) throw new Error(`${s.file}: shard ${index + 1}/${count} overlaps ${prev} (the same shard twice)`);
    owner.set(index, s.file);
    const expected = shardBatchIndices(totalBatches, { index, count }).length;
    const done = Number(need(s.meta, 'batchesDone', s.file));
    if (done !== expected) throw new Error(`${s.file}: shard ${index + 1}/${count} holds ${done} of its ${expected} batches (an unfinished shard; rerun it)`);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !owner.has(i));
  if (missing.length > 0) throw new Error(`shards ${missing.map((i) => `${i + 1}/${count}`).join(', ')} are missing (got ${shards.length} of ${count})`);

  const names = [...first.sumSq.keys()];
  for (const s of shards) {
    for (const n of names) {
      if (!s.sumSq.has(n) || !s.sum.has(n)) throw new Error(`${s.file}: shard lacks the sums of "${n}"`);
      const a = first.shapes.get(n)!.join('x');
      const b = s.shapes.get(n)!.join('x');
      if (a !== b) throw new Error(`${s.file}: "${n}" has shape ${b}, but ${first.file} has ${a}`);
    }
  }
  const fisher = new Map<string, Float32Array>();
  const meanGrad = new Map<string, Float32Array>();
  for (const n of names) {
    const len = first.sumSq.get(n)!.length;
    const sq = new Float64Array(len);
    const g = new Float64Array(len);
    for (const s of shards) {
      const a = s.sumSq.get(n)!;
      const b = s.sum.get(n)!;
      for (let i = 0; i < len; i++) {
        sq[i]! += a[i]!;
        g[i]! += b[i]!;
      }
    }
    fisher.set(n, Float32Array.from(sq, (x) => x / totalBatches + FISHER_EPS));
    meanGrad.set(n, Float32Array.from(g, (x) => x / totalBatches));
  }
  const numExamples = shards.reduce((a, s) => a + Number(s.meta.numExamples ?? 0), 0);
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(first.meta)) {
    if (['shardIndex', 'batchesDone', 'numExamples', 'format'].includes(k)) continue;
    meta[k] = v;
  }
  meta.numExamples = String(numExamples);
  meta.numBatches = String(totalBatches);
  meta.mergedShards = String(count);
  return { fisher, meanGrad, shapes: new Map(names.map((n) => [n, first.shapes.get(n)!])), numBatches: totalBatches, meta };
}

/** The job kind of a statistics shard on the work queue. */
export const SCORE_SHARD_JOB = 'score-shard';

/** One shard of `prunekit score` as a queue job: the same inputs on every worker (shared paths). */
export interface ScoreShardJob {
  model: string;
  /** triplets jsonl */
  data: string;
  targets: string;
  batchSize: number;
  seed: number;
  maxBatches?: number;
  microBatch?: number;
  shard: ShardSpec;
  /** the shard file to write */
  out: string;
}

/** Whether `file` is this shard, finished (a rerun of a finished job does nothing). */
function finishedShard(file: string, shard: ShardSpec): boolean {
  if (!fs.existsSync(file)) return false;
  try {
    const { meta } = readShardFile(file);
    return meta.shardIndex === String(shard.index) && meta.shardCount === String(shard.count) && meta.batchesDone !== undefined;
  } catch {
    return false;
  }
}

/** Runs one statistics shard job: resumable (checkpoint beside the output), written atomically. */
export async function runScoreShardJob(job: ScoreShardJob): Promise<void> {
  validateShard(job.shard);
  if (finishedShard(job.out, job.shard)) return;
  await initBackend();
  const triplets = await readTriplets(job.data);
  const encoder = await SentenceEncoder.load(job.model);
  try {
    const params = prunableParameters(encoder.model, parsePolicy(job.targets)).map((p) => p.name);
    const partial = `${job.out}.partial`;
    const sums = await computeGradStatsShard(encoder, triplets, {
      params, batchSize: job.batchSize, seed: job.seed, shard: job.shard, label: path.basename(job.data),
      ...(job.maxBatches === undefined ? {} : { maxBatches: job.maxBatches }),
      ...(job.microBatch === undefined ? {} : { microBatch: job.microBatch }),
      checkpoint: { file: partial, every: 10 },
    });
    fs.mkdirSync(path.dirname(job.out), { recursive: true });
    writeShardFile(job.out, sums);
    fs.rmSync(partial, { force: true });
  } finally {
    encoder.dispose();
  }
}
