// Exhaustive dense retrieval and trec_eval (pytrec_eval) retrieval metrics, as MTEB uses them.
import { byteOrderRanks, compareBytes, TopKHeap } from './topk.js';
import { dimensionOf, gemmABt, packRows } from './linalg.js';

export type ScoreFunction = 'cosine' | 'dot';

/** query id → document id → relevance grade (BEIR qrels). */
export type Qrels = Record<string, Record<string, number>>;
/** query id → document id → retrieval score (a run). */
export type Run = Record<string, Record<string, number>>;

export interface SearchOptions {
  /** How many documents to keep per query (MTEB: max of the k values, 1000). */
  topK: number;
  /** Similarity: cosine (default) or dot product. */
  scoreFunction?: ScoreFunction;
  /** Document ids, one per corpus vector (used for tie-breaking and identical-id exclusion). */
  corpusIds: readonly string[];
  /** Query ids, one per query vector; needed when excludeIdenticalIds is true. */
  queryIds?: readonly string[];
  /** Drop a document whose id equals the query's id (MTEB 1.x exact search does). Default true. */
  excludeIdenticalIds?: boolean;
  /** Queries per block (default 64). */
  queryBlockSize?: number;
  /** Documents per block (default 2048). Memory for scores is queryBlockSize × corpusBlockSize doubles. */
  corpusBlockSize?: number;
}

export interface RankedList {
  /** Corpus indices, best first. */
  indices: Int32Array;
  /** Their scores (float32, as trec_eval stores them), best first. */
  scores: Float32Array;
}

/**
 * Exact top-k search: blocked dense products Q·Dᵀ (float64 over float32 inputs, scores rounded to
 * float32 like trec_eval's `float sim`) feeding one bounded heap per query. Equal scores are
 * ordered by document id descending (trec_eval's order), so the kept set is exactly the first
 * topK of trec_eval's full ranking.
 */
export function exhaustiveSearch(queries: readonly Float32Array[], corpus: readonly Float32Array[], options: SearchOptions): RankedList[] {
  const { topK, corpusIds } = options;
  const scoreFunction = options.scoreFunction ?? 'cosine';
  const exclude = options.excludeIdenticalIds ?? true;
  if (corpusIds.length !== corpus.length) throw new Error(`exhaustiveSearch: ${corpusIds.length} corpus ids for ${corpus.length} corpus vectors`);
  if (exclude && options.queryIds?.length !== queries.length) {
    throw new Error(`exhaustiveSearch: excludeIdenticalIds needs one query id per query (${options.queryIds?.length ?? 0} ids for ${queries.length} queries)`);
  }
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`exhaustiveSearch: topK must be a non-negative integer, got ${topK}`);
  const d = dimensionOf([...queries.slice(0, 1), ...corpus.slice(0, 1)], 'query/corpus embeddings');
  dimensionOf(queries, 'query embeddings');
  dimensionOf(corpus, 'corpus embeddings');
  const qb = Math.max(1, options.queryBlockSize ?? 64);
  const cb = Math.max(1, options.corpusBlockSize ?? 2048);
  const normalize = scoreFunction === 'cosine';
  const tieRank = byteOrderRanks(corpusIds);
  // map query index → corpus index with the same id (for exclusion)
  let sameId: Int32Array | null = null;
  if (exclude) {
    const pos = new Map<string, number>();
    corpusIds.forEach((id, i) => pos.set(id, i));
    sameId = Int32Array.from(options.queryIds!, (id) => pos.get(id) ?? -1);
  }
  const out: RankedList[] = [];
  const Cbuf = new Float64Array(qb * cb);
  let Dbuf: Float64Array = new Float64Array(0);
  for (let q0 = 0; q0 < queries.length; q0 += qb) {
    const q1 = Math.min(queries.length, q0 + qb);
    const m = q1 - q0;
    const Q = packRows(queries, q0, q1, d, normalize);
    const heaps = Array.from({ length: m }, () => new TopKHeap(Math.min(topK, corpus.length), tieRank));
    for (let c0 = 0; c0 < corpus.length; c0 += cb) {
      const c1 = Math.min(corpus.length, c0 + cb);
      const n = c1 - c0;
      Dbuf = packRows(corpus, c0, c1, d, normalize, Dbuf);
      gemmABt(Q, m, Dbuf, n, d, Cbuf);
      for (let i = 0; i < m; i++) {
        const heap = heaps[i]!;
        const skip = sameId ? sameId[q0 + i]! : -1;
        const row = i * n;
        for (let j = 0; j < n; j++) {
          if (c0 + j === skip) continue;
          heap.push(Math.fround(Cbuf[row + j]!), c0 + j);
        }
      }
    }
    for (const h of heaps) out.push(h.sorted());
  }
  return out;
}

export const DEFAULT_K_VALUES: readonly number[] = [1, 3, 5, 10, 100, 1000];

export interface RetrievalMetricsResult {
  /** Averages over evaluated queries: ndcg_at_k, map_at_k, mrr_at_k, recall_at_k, precision_at_k. */
  scores: Record<string, number>;
  /** Per-query values of the same keys. */
  perQuery: Record<string, Record<string, number>>;
  /** Queries evaluated (present in both qrels and run). */
  evaluatedQueries: number;
}

/**
 * trec_eval semantics (what pytrec_eval computes for MTEB), without MTEB's rounding to 5 places:
 * - each query's run is sorted by score (as float32) descending, ties by document id descending
 *   (byte order); documents absent from the qrels (unjudged) are non-relevant;
 * - relevant means grade ≥ 1; nDCG gains are the grades (linear), discount log2(rank + 1), the
 *   ideal ranking built from all judged grades > 0 of the query (retrieved or not);
 * - map_cut_k = Σ_{relevant at rank r ≤ k} P@r / R, recall_k = rel@k / R, P_k = rel@k / k, where R
 *   is the number of relevant documents in the qrels (0 when R = 0);
 * - MRR@k = 1 / rank of the first relevant document within the first k (0 if none);
 * - queries are evaluated when they appear in both the qrels and the run; the reported value is
 *   the plain mean over them.
 */
export function retrievalMetrics(qrels: Qrels, run: Run, kValues: readonly number[] = DEFAULT_K_VALUES): RetrievalMetricsResult {
  const perQuery: Record<string, Record<string, number>> = {};
  const sums: Record<string, number> = {};
  const keys: string[] = [];
  for (const k of kValues) for (const m of ['ndcg', 'map', 'recall', 'precision', 'mrr']) keys.push(`${m}_at_${k}`);
  for (const key of keys) sums[key] = 0;
  let evaluated = 0;
  for (const qid of Object.keys(qrels)) {
    const docs = run[qid];
    if (docs === undefined) continue;
    const judged = qrels[qid]!;
    evaluated++;
    const ranked = Object.entries(docs)
      .map(([id, s]) => [id, Math.fround(s)] as const)
      .sort((a, b) => (a[1] !== b[1] ? b[1] - a[1] : compareBytes(b[0], a[0])));
    const rels = ranked.map(([id]) => judged[id] ?? 0);
    const numRel = Object.values(judged).filter((g) => g >= 1).length;
    const idealGains = Object.values(judged)
      .filter((g) => g > 0)
      .sort((a, b) => b - a);
    const values: Record<string, number> = {};
    for (const k of kValues) {
      let dcg = 0;
      let idcg = 0;
      let relSoFar = 0;
      let apSum = 0;
      let firstRel = 0;
      const n = Math.min(k, rels.length);
      for (let i = 0; i < n; i++) {
        const g = rels[i]!;
        if (g > 0) dcg += g / Math.log2(i + 2);
        if (g >= 1) {
          relSoFar++;
          apSum += relSoFar / (i + 1);
          if (firstRel === 0) firstRel = i + 1;
        }
      }
      for (let i = 0; i < Math.min(k, idealGains.length); i++) idcg += idealGains[i]! / Math.log2(i + 2);
      values[`ndcg_at_${k}`] = idcg > 0 ? dcg / idcg : 0;
      values[`map_at_${k}`] = numRel > 0 ? apSum / numRel : 0;
      values[`recall_at_${k}`] = numRel > 0 ? relSoFar / numRel : 0;
      values[`precision_at_${k}`] = relSoFar / k;
      values[`mrr_at_${k}`] = firstRel > 0 ? 1 / firstRel : 0;
    }
    perQuery[qid] = values;
    for (const key of keys) sums[key]! += values[key]!;
  }
  const scores: Record<string, number> = {};
  for (const key of keys) scores[key] = evaluated > 0 ? sums[key]! / evaluated : 0;
  return { scores, perQuery, evaluatedQueries: evaluated };
}

/** Turns ranked lists into a Run keyed by ids. */
export function toRun(queryIds: readonly string[], lists: readonly RankedList[], corpusIds: readonly string[]): Run {
  const run: Run = {};
  queryIds.forEach((qid, i) => {
    const list = lists[i]!;
    const docs: Record<string, number> = {};
    for (let r = 0; r < list.indices.length; r++) docs[corpusIds[list.indices[r]!]!] = list.scores[r]!;
    run[qid] = docs;
  });
  return run;
}
