// (query, positive, negative) triplets: read from jsonl, or built from retrieval / pair datasets with
// mined negatives. Negatives come from BM25 over the corpus or from a dense encoder (selectable).
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readQrelsRows } from '@prunekit/benchmarks-mteb';
import { loadJsonl, createRng, type Seed } from '@prunekit/tensor-core';
import { Bm25Index } from './bm25.js';

export interface Triplet {
  query: string;
  positive: string;
  /** hard negative (optional: InfoNCE then uses in-batch negatives only) */
  negative?: string;
}

/** Reads {query, positive, negative?} lines; errors name file:line and the field. */
export async function readTriplets(file: string): Promise<Triplet[]> {
  const rows = await loadJsonl(file, { fields: { query: 'string', positive: 'string' }, optional: { negative: 'string' } });
  return rows.map((r) => (r.negative === undefined ? { query: r.query, positive: r.positive } : { query: r.query, positive: r.positive, negative: r.negative }));
}

/** Order-sensitive sha256 of the triplets (for manifests and resume checks). */
export function tripletsFingerprint(triplets: readonly Triplet[]): string {
  const h = createHash('sha256');
  for (const t of triplets) h.update(`${t.query}\u0000${t.positive}\u0000${t.negative ?? ''}\u0001`);
  return h.digest('hex').slice(0, 16);
}

export interface RetrievalData {
  /** doc id -> text (title + " " + text, as MTEB) */
  corpus: Map<string, string>;
  queries: Map<string, string>;
  /** query id -> relevant doc ids (score > 0) */
  qrels: Map<string, string[]>;
}

/** Reads a BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv). */
export async function readBeir(dir: string, split: string): Promise<RetrievalData> {
  const corpusRows = await loadJsonl(path.join(dir, 'corpus.jsonl'), { fields: { _id: 'string', text: 'string' }, optional: { title: 'string' } });
  const corpus = new Map(corpusRows.map((r) => [r._id, r.title ? `${r.title} ${r.text}` : r.text]));
  const queryRows = await loadJsonl(path.join(dir, 'queries.jsonl'), { fields: { _id: 'string', text: 'string' } });
  const queries = new Map(queryRows.map((r) => [r._id, r.text]));
  const qrelsFile = path.join(dir, 'qrels', `${split}.tsv`);
  if (!fs.existsSync(qrelsFile)) throw new Error(`${qrelsFile}: missing (split "${split}")`);
  const qrels = new Map<string, string[]>();
  for (const r of readQrelsRows(qrelsFile)) if (r.score > 0) qrels.set(r.query, [...(qrels.get(r.query) ?? []), r.doc]);
  return { corpus, queries, qrels };
}

export type NegativeMining = 'bm25' | 'random' | 'dense';

export interface MiningOptions {
  negatives: NegativeMining;
  seed?: Seed;
  /** for 'dense': embeds texts (e.g. SentenceEncoder.encode) */
  embed?: (texts: string[]) => Promise<Float32Array[]>;
  /** skip this many top-ranked non-positive candidates (false negatives hide at the very top); default 0 */
  skipTop?: number;
  /** at most this many triplets (seeded subsample); default all */
  limit?: number;
}

/**
 * One triplet per (query, relevant document) of a retrieval split, with a hard negative: the
 * best-ranked non-relevant document by BM25 or by the dense encoder, or a random one.
 */
export async function tripletsFromRetrieval(data: RetrievalData, options: MiningOptions): Promise<Triplet[]> {
  const rng = createRng(options.seed ?? 0);
  let pairs: { qid: string; did: string }[] = [];
  for (const [qid, dids] of data.qrels) {
    if (!data.queries.has(qid)) continue;
    for (const did of dids) if (data.corpus.has(did)) pairs.push({ qid, did });
  }
  if (options.limit !== undefined && pairs.length > options.limit) pairs = rng.fork('limit').shuffle([...pairs]).slice(0, options.limit);
  const docIds = [...data.corpus.keys()];
  const skip = options.skipTop ?? 0;
  let rankFor: (qid: string) => string[];
  if (options.negatives === 'bm25') {
    const index = new Bm25Index(docIds.map((d) => data.corpus.get(d)!));
    rankFor = (qid) => index.topK(data.queries.get(qid)!, 20 + skip).map((i) => docIds[i]!);
  } else if (options.negatives === 'dense') {
    if (!options.embed) throw new Error('dense negative mining needs an embed function');
    const docEmb = normalizeAll(await options.embed(docIds.map((d) => data.corpus.get(d)!)));
    const qids = [...new Set(pairs.map((p) => p.qid))];
    const qEmb = normalizeAll(await options.embed(qids.map((q) => data.queries.get(q)!)));
    const ranked = new Map<string, string[]>();
    qids.forEach((q, i) => {
      const scores = docEmb.map((d) => dot(qEmb[i]!, d));
      ranked.set(q, topIndices(scores, 20 + skip).map((j) => docIds[j]!));
    });
    rankFor = (qid) => ranked.get(qid)!;
  } else {
    const r = rng.fork('random-negatives');
    rankFor = () => Array.from({ length: 20 }, () => docIds[r.int(docIds.length)]!);
  }
  const out: Triplet[] = [];
  for (const { qid, did } of pairs) {
    const relevant = new Set(data.qrels.get(qid));
    const candidates = rankFor(qid).filter((d) => !relevant.has(d)).slice(options.negatives === 'random' ? 0 : skip);
    const neg = candidates[0];
    out.push(neg === undefined ? { query: data.queries.get(qid)!, positive: data.corpus.get(did)! } : { query: data.queries.get(qid)!, positive: data.corpus.get(did)!, negative: data.corpus.get(neg)! });
  }
  return out;
}

/**
 * Triplets from (a, b) pairs that should be close (paraphrases, entailments, high-STS pairs): the
 * negative is the best BM25 match for `a` among the other pairs' `b` texts (or a random one).
 */
export function tripletsFromPairs(pairs: readonly { a: string; b: string }[], options: { negatives: 'bm25' | 'random'; seed?: Seed }): Triplet[] {
  const rng = createRng(options.seed ?? 0).fork('pairs');
  const index = options.negatives === 'bm25' ? new Bm25Index(pairs.map((p) => p.b)) : null;
  return pairs.map((p, i) => {
    let j: number | undefined;
    if (index) j = index.topK(p.a, 5).find((k) => k !== i && pairs[k]!.b !== p.b);
    if (j === undefined && pairs.length > 1) {
      do j = rng.int(pairs.length);
      while (j === i);
    }
    return j === undefined ? { query: p.a, positive: p.b } : { query: p.a, positive: p.b, negative: pairs[j]!.b };
  });
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function normalizeAll(v: Float32Array[]): Float32Array[] {
  return v.map((x) => {
    const n = Math.sqrt(dot(x, x)) || 1;
    return x.map((y) => y / n);
  });
}

function topIndices(scores: number[], k: number): number[] {
  return scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map(([, i]) => i);
}
