// Streaming gradient statistics over a data set, as GAPrune needs them: the diagonal empirical Fisher
// F = (1/N) Σ_batches g ⊙ g + 1e-8 and the mean gradient ḡ = (1/N) Σ_batches g, for chosen weight
// matrices, with g the gradient of the batch's InfoNCE loss. Accumulators are preallocated tf
// variables updated in place; every `checkpoint.every` batches they are written to disk so an
// interrupted run resumes where it stopped and ends with the same numbers.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import {
  GradientAccumulator, SafetensorsFile, createRng, infoNCELoss, modelFingerprint, pool, readCheckpoint, toFloat32, variableGrads,
  writeCheckpoint, writeSafetensors,
  type EncoderInputs, type EncoderModel, type HostTensor, type PoolingMode, type Seed, type SentenceEncoder,
} from '@prunekit/tensor-core';
import { INFONCE_SCALE, disposeTripletInputs, tokenizeTriplets, tripletInfoNCE, type TripletInputs } from './loss.js';
import { tripletsFingerprint, type Triplet } from './triplets.js';
import { shardBatchIndices, type ShardSpec, type ShardSums } from './shard.js';

export const FISHER_EPS = 1e-8;

export interface GradStats {
  /** diagonal Fisher per weight, by HF name */
  fisher: Map<string, Float32Array>;
  /** mean gradient per weight, by HF name */
  meanGrad: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
  numBatches: number;
  /** triplets seen over all batches: the official code's Fisher divisor; absent in old files */
  numSamples?: number;
  meta: Record<string, string>;
}

export interface GradStatsAccumulatorOptions {
  /**
   * Sequences per backward pass. Unset (default): the batch's queries, positives and negatives in one
   * pass, the fastest, but tfjs's tape then holds every intermediate tensor and gradient of all of
   * them (≈ 10 GB for 16 triplets on a BERT-base-sized model). With `microBatch` the same batch
   * gradient is computed in two stages, as GradCache does: embeddings without a tape, the loss's
   * gradient with respect to each embedding, then one backward per chunk of `microBatch` sequences
   * with that upstream gradient, summed. Peak memory then follows the chunk, at the cost of one
   * extra forward pass; results agree with the one-pass gradient to float rounding.
   */
  microBatch?: number;
}

/** Accumulates over already-tokenised batches (the core that computeGradStats streams into). */
export class GradStatsAccumulator {
  private readonly vars = new Map<string, tf.Variable>();
  private readonly sq: GradientAccumulator;
  private readonly sum: GradientAccumulator;
  /** microBatch only: sequences per backward pass, and the current batch's gradient summed over them */
  private readonly chunks: { size: number; batchGrad: GradientAccumulator } | null;
  private samples = 0;

  constructor(private readonly model: EncoderModel, readonly params: readonly string[], private readonly pooling: PoolingMode, options: GradStatsAccumulatorOptions = {}) {
    const mb = options.microBatch;
    if (mb !== undefined && (!Number.isInteger(mb) || mb < 1)) throw new Error(`microBatch must be a positive integer (got ${mb})`);
    for (const name of params) {
      const t = model.params.get(name);
      if (!t) throw new Error(`model has no parameter "${name}"`);
      this.vars.set(name, tf.variable(t, true));
    }
    this.sq = new GradientAccumulator(this.vars, { mode: 'square' });
    this.sum = new GradientAccumulator(this.vars, { mode: 'sum' });
    this.chunks = mb === undefined ? null : { size: mb, batchGrad: new GradientAccumulator(this.vars, { mode: 'sum' }) };
  }

  get numBatches(): number {
    return this.sq.count;
  }

  /** Adds one batch; returns its loss. */
  add(batch: TripletInputs): number {
    this.samples += batch.query.inputIds.shape[0];
    if (this.chunks) return this.addInChunks(batch, this.chunks.batchGrad, this.chunks.size);
    const { value, grads } = variableGrads(() => tripletInfoNCE(this.model, this.pooling, batch, this.view), this.vars);
    this.sq.add(grads);
    this.sum.add(grads);
    const loss = value.dataSync()[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return loss;
  }

  private readonly view = (n: string): tf.Tensor => this.vars.get(n) ?? this.model.denseView(n);

  private embed(x: EncoderInputs): tf.Tensor2D {
    return pool(this.model.forward(x, { view: this.view }).lastHiddenState, x.attentionMask, this.pooling);
  }

  private addInChunks(batch: TripletInputs, batchGrad: GradientAccumulator, chunk: number): number {
    const parts = [batch.query, batch.positive, ...(batch.negative ? [batch.negative] : [])];
    // stage 1: embeddings (no tape) and dLoss/dEmbedding
    const embeddings = parts.map((x) => tf.tidy(() => this.embed(x)));
    const { value, grads: upstream } = tf.tidy(() => tf.valueAndGrads((...e: tf.Tensor[]) => infoNCELoss(e[0]!, e[1]!, e[2], { scale: INFONCE_SCALE }))(embeddings));
    tf.dispose(embeddings);
    const loss = value.dataSync()[0]!;
    value.dispose();
    // stage 2: per chunk of sequences, the gradient of <embedding, upstream> with respect to the weights
    batchGrad.reset();
    try {
      parts.forEach((x, i) => {
        const rows = x.inputIds.shape[0];
        for (let start = 0; start < rows; start += chunk) {
          const size = Math.min(chunk, rows - start);
          const { value: v, grads } = variableGrads(() => tf.tidy(() => {
            const slice = (t: tf.Tensor2D): tf.Tensor2D => tf.slice(t, [start, 0], [size, -1]);
            const sub: EncoderInputs = { inputIds: slice(x.inputIds), attentionMask: slice(x.attentionMask), ...(x.tokenTypeIds ? { tokenTypeIds: slice(x.tokenTypeIds) } : {}) };
            return tf.sum(tf.mul(this.embed(sub), tf.slice(upstream[i]!, [start, 0], [size, -1])));
          }), this.vars);
          batchGrad.add(grads);
          tf.dispose([v, ...Object.values(grads)]);
        }
      });
    } finally {
      tf.dispose(upstream);
    }
    const grads: tf.NamedTensorMap = Object.fromEntries(batchGrad.sums());
    this.sq.add(grads);
    this.sum.add(grads);
    return loss;
  }

  /** Raw sums (for checkpoints). */
  sums(): { sumSq: Map<string, Float32Array>; sum: Map<string, Float32Array> } {
    const read = (acc: GradientAccumulator): Map<string, Float32Array> => new Map([...acc.sums()].map(([n, v]) => [n, v.dataSync() as Float32Array]));
    return { sumSq: read(this.sq), sum: read(this.sum) };
  }

  restore(sumSq: Map<string, Float32Array>, sum: Map<string, Float32Array>, batches: number, samples = 0): void {
    this.samples = samples;
    this.sq.restore(sumSq, batches);
    this.sum.restore(sum, batches);
  }

  result(meta: Record<string, string> = {}): GradStats {
    const n = this.numBatches;
    if (n === 0) throw new Error('no batches were accumulated');
    const { sumSq, sum } = this.sums();
    const fisher = new Map([...sumSq].map(([k, v]) => [k, v.map((x) => x / n + FISHER_EPS)]));
    const meanGrad = new Map([...sum].map(([k, v]) => [k, v.map((x) => x / n)]));
    const shapes = new Map([...this.vars].map(([k, v]) => [k, [...v.shape]]));
    return { fisher, meanGrad, shapes, numBatches: n, numSamples: this.samples, meta: { ...meta, numBatches: String(n), numSamples: String(this.samples) } };
  }

  dispose(): void {
    this.sq.dispose();
    this.sum.dispose();
    this.chunks?.batchGrad.dispose();
    for (const v of this.vars.values()) v.dispose();
  }
}

export interface GradStatsOptions {
  /** HF names of the weight matrices to collect statistics for */
  params: readonly string[];
  batchSize?: number;
  /** sequences per backward pass (bounds peak memory; same statistics): see GradStatsAccumulatorOptions */
  microBatch?: number;
  /** batch order (a seeded shuffle); default 0 */
  seed?: Seed;
  /** stop after this many batches */
  maxBatches?: number;
  /** write accumulators to <file> every `every` batches and resume from it */
  checkpoint?: { file: string; every: number };
  onBatch?: (done: number, total: number, loss: number) => void;
  /** recorded in the result's meta (e.g. "domain" / "general") */
  label?: string;
  /**
   * prefixed to every query (GAPrune encodes queries with the embedding model's instruction); default:
   * the folder's sentence-transformers "query" prompt (config_sentence_transformers.json), else none
   */
  queryPrompt?: string;
}

/** Batches of triplets in a seeded order (the same seed gives the same batches). */
export function tripletBatches(triplets: readonly Triplet[], batchSize: number, seed: Seed): Triplet[][] {
  const order = createRng(seed).fork('gradstats-batches').shuffle(triplets.map((_, i) => i));
  const out: Triplet[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize).map((j) => triplets[j]!));
  return out;
}

/** Fisher and mean gradients of an encoder over triplets (streaming, resumable). */
export async function computeGradStats(encoder: SentenceEncoder, triplets: readonly Triplet[], options: GradStatsOptions): Promise<GradStats> {
  const { acc, meta } = await accumulate(encoder, triplets, options, null);
  try {
    return acc.result(meta);
  } finally {
    acc.dispose();
  }
}

/**
 * The raw sums of one shard of the batches (see shard.ts): the same seeded batches as a one-process
 * run, of which this process takes every `count`-th starting at `index`. Merge the shards'
 * files with mergeGradStatsShards.
 */
export async function computeGradStatsShard(encoder: SentenceEncoder, triplets: readonly Triplet[], options: GradStatsOptions & { shard: ShardSpec }): Promise<ShardSums> {
  const { acc, meta, done } = await accumulate(encoder, triplets, options, options.shard);
  try {
    const { sumSq, sum } = acc.sums();
    const shapes = new Map(acc.params.map((n) => [n, [...encoder.model.params.get(n)!.shape]]));
    return { sumSq, sum, shapes, meta: { ...meta, batchesDone: String(done) } };
  } finally {
    acc.dispose();
  }
}

/** sha256 of the parameter names, so shards of different target sets never merge. */
function paramsFingerprint(params: readonly string[]): string {
  return createHash('sha256').update(params.join('\n')).digest('hex').slice(0, 16);
}

async function accumulate(encoder: SentenceEncoder, triplets: readonly Triplet[], options: GradStatsOptions, shard: ShardSpec | null): Promise<{ acc: GradStatsAccumulator; meta: Record<string, string>; done: number }> {
  const batchSize = options.batchSize ?? 16;
  const seed = options.seed ?? 0;
  let batches = tripletBatches(triplets, batchSize, seed);
  if (options.maxBatches !== undefined) batches = batches.slice(0, options.maxBatches);
  if (batches.length === 0) throw new Error('no triplets to compute gradient statistics on');
  const queryPrompt = options.queryPrompt ?? encoder.prompts.query ?? '';
  if (queryPrompt !== '') batches = batches.map((batch) => batch.map((t) => ({ ...t, query: queryPrompt + t.query })));
  const mine = shard ? shardBatchIndices(batches.length, shard) : batches.map((_, i) => i);
  const meta: Record<string, string> = {
    format: 'prunekit-gradstats',
    label: options.label ?? '',
    dataFingerprint: tripletsFingerprint(triplets),
    modelFingerprint: modelFingerprint(encoder.model),
    batchSize: String(batchSize),
    seed: String(seed),
    totalBatches: String(batches.length),
    numExamples: String(mine.reduce((a, b) => a + batches[b]!.length, 0)),
    loss: 'infonce-scale20',
    ...(queryPrompt === '' ? {} : { queryPrompt }),
    ...(shard ? { shardIndex: String(shard.index), shardCount: String(shard.count), params: paramsFingerprint(options.params) } : {}),
  };
  const acc = new GradStatsAccumulator(encoder.model, options.params, encoder.pooling.mode, options.microBatch === undefined ? {} : { microBatch: options.microBatch });
  try {
    let start = 0;
    const ck = options.checkpoint;
    if (ck && fs.existsSync(ck.file)) {
      const saved = readGradStatsFile(ck.file);
      const mismatch = ['dataFingerprint', 'modelFingerprint', 'batchSize', 'seed', 'totalBatches', 'shardIndex', 'shardCount', 'queryPrompt'].find((k) => saved.meta[k] !== meta[k]);
      if (mismatch) throw new Error(`${ck.file}: checkpoint was made with a different ${mismatch} (${saved.meta[mismatch]} vs ${meta[mismatch]}); delete it to start over`);
      start = Number(saved.meta.batchesDone);
      acc.restore(saved.sumSq, saved.sum, start, batches.slice(0, start).reduce((a, b) => a + b.length, 0));
    }
    for (let k = start; k < mine.length; k++) {
      const inputs = await tokenizeTriplets(encoder.tokenizer, batches[mine[k]!]!, encoder.maxLength);
      let loss: number;
      try {
        loss = acc.add(inputs);
      } finally {
        disposeTripletInputs(inputs);
      }
      // checkpoint before reporting, so a batch that finished is never lost
      if (ck && ((k + 1) % ck.every === 0 || k + 1 === mine.length)) {
        const { sumSq, sum } = acc.sums();
        writeGradStatsFile(ck.file, sumSq, sum, acc.params, encoder.model, { ...meta, batchesDone: String(k + 1) });
      }
      options.onBatch?.(k + 1, mine.length, loss);
    }
    return { acc, meta, done: mine.length };
  } catch (err) {
    acc.dispose();
    throw err;
  }
}

const CHECKPOINT_FORMAT = 'prunekit-gradstats';

function writeGradStatsFile(file: string, sumSq: Map<string, Float32Array>, sum: Map<string, Float32Array>, params: readonly string[], model: EncoderModel, meta: Record<string, string>): void {
  const tensors = new Map<string, HostTensor>();
  for (const name of params) {
    const shape = [...model.params.get(name)!.shape];
    tensors.set(`sumsq.${name}`, { dtype: 'F32', shape, data: sumSq.get(name)! });
    tensors.set(`sum.${name}`, { dtype: 'F32', shape, data: sum.get(name)! });
  }
  writeCheckpoint(file, CHECKPOINT_FORMAT, tensors, meta);
}

function readGradStatsFile(file: string): { sumSq: Map<string, Float32Array>; sum: Map<string, Float32Array>; meta: Record<string, string> } {
  const ck = readCheckpoint(file, CHECKPOINT_FORMAT);
  if (!ck) throw new Error(`${file} does not exist`);
  const sumSq = new Map<string, Float32Array>();
  const sum = new Map<string, Float32Array>();
  for (const [name, t] of ck.tensors) {
    if (name.startsWith('sumsq.')) sumSq.set(name.slice(6), toFloat32(t, name));
    else if (name.startsWith('sum.')) sum.set(name.slice(4), toFloat32(t, name));
  }
  return { sumSq, sum, meta: ck.meta };
}

/** How the squared gradients are averaged: over batches (prunekit's default) or over samples (the official GAPrune code). */
export type FisherNormalisation = 'batches' | 'samples';
export const FISHER_NORMALISATIONS: readonly FisherNormalisation[] = ['batches', 'samples'];

/**
 * Diagonal Fisher of one matrix under a normalisation: stats keep Σ g² ÷ batches + 1e-8; the official
 * code divides Σ g² by the number of samples instead (+1e-8), i.e. B× smaller at batch size B.
 */
export function fisherOf(stats: GradStats, name: string, normalisation: FisherNormalisation = 'batches'): Float32Array | undefined {
  if (!FISHER_NORMALISATIONS.includes(normalisation)) throw new Error(`Fisher normalisation must be ${FISHER_NORMALISATIONS.join(' or ')} (got "${normalisation as string}")`);
  const f = stats.fisher.get(name);
  if (!f || normalisation === 'batches') return f;
  // statistics merged from shards, or saved before numSamples existed, still know it when every batch was run
  const complete = stats.meta.totalBatches === String(stats.numBatches) ? Number(stats.meta.numExamples) : undefined;
  const samples = stats.numSamples ?? complete;
  if (samples === undefined || !(samples > 0)) throw new Error('these gradient statistics do not record their number of samples (made by an older prunekit); recompute them to use Fisher normalisation "samples"');
  const k = stats.numBatches / samples;
  return f.map((x) => (x - FISHER_EPS) * k + FISHER_EPS);
}

/** Saves finished statistics (Fisher + mean gradient) as safetensors keyed "fisher.<name>" / "grad.<name>". */
export function saveGradStats(stats: GradStats, file: string): void {
  const tensors = new Map<string, HostTensor>();
  for (const [name, f] of stats.fisher) {
    const shape = stats.shapes.get(name)!;
    tensors.set(`fisher.${name}`, { dtype: 'F32', shape, data: f });
    tensors.set(`grad.${name}`, { dtype: 'F32', shape, data: stats.meanGrad.get(name)! });
  }
  writeSafetensors(file, tensors, { ...stats.meta, format: 'prunekit-gradstats-final' });
}

export function loadGradStats(file: string): GradStats {
  const st = SafetensorsFile.open(file);
  try {
    if (st.metadata.format !== 'prunekit-gradstats-final') throw new Error(`${file}: not saved by saveGradStats (metadata format is ${st.metadata.format ?? 'missing'})`);
    const fisher = new Map<string, Float32Array>();
    const meanGrad = new Map<string, Float32Array>();
    const shapes = new Map<string, number[]>();
    for (const name of st.names()) {
      if (name.startsWith('fisher.')) {
        fisher.set(name.slice(7), st.readFloat32(name));
        shapes.set(name.slice(7), st.entry(name).shape);
      } else if (name.startsWith('grad.')) meanGrad.set(name.slice(5), st.readFloat32(name));
    }
    const samples = st.metadata.numSamples;
    return { fisher, meanGrad, shapes, numBatches: Number(st.metadata.numBatches), ...(samples === undefined ? {} : { numSamples: Number(samples) }), meta: st.metadata };
  } finally {
    st.close();
  }
}
