import { describe, expect, it } from 'vitest';
import { exhaustiveSearch, retrievalMetrics, toRun, type Qrels, type ScoreFunction } from './retrieval.js';
import { f32, loadFixture } from '../test-support/fixtures.js';

interface RetrievalFixture {
  corpus: { ids: string[]; embeddings: number[][] };
  queries: { ids: string[]; embeddings: number[][] };
  qrels: Qrels;
  cases: { score_function: ScoreFunction; top_k: number; k_values: number[]; run_top5: Record<string, string[]>; expected: Record<string, number>; per_query: Record<string, Record<string, number>> }[];
}

describe('retrieval metrics against the trec_eval reference (tools/metrics/reference_metrics.py)', () => {
  const fx = loadFixture<RetrievalFixture>('retrieval.json');
  const corpus = f32(fx.corpus.embeddings);
  const queries = f32(fx.queries.embeddings);
  for (const c of fx.cases) {
    it(`${c.score_function}, top ${c.top_k}: every metric at every k agrees to 1e-6, per query too`, () => {
      const lists = exhaustiveSearch(queries, corpus, { topK: c.top_k, scoreFunction: c.score_function, corpusIds: fx.corpus.ids, queryIds: fx.queries.ids, queryBlockSize: 5, corpusBlockSize: 17 });
      const run = toRun(fx.queries.ids, lists, fx.corpus.ids);
      for (const [qid, top] of Object.entries(c.run_top5)) expect(Object.keys(run[qid]!).slice(0, 5)).toEqual(top);
      const res = retrievalMetrics(fx.qrels, run, c.k_values);
      expect(Object.keys(res.scores).sort()).toEqual(Object.keys(c.expected).sort());
      for (const [k, v] of Object.entries(c.expected)) expect(res.scores[k], k).toBeCloseTo(v, 6);
      expect(res.evaluatedQueries).toBe(Object.keys(c.per_query).length);
      for (const [qid, vals] of Object.entries(c.per_query)) for (const [k, v] of Object.entries(vals)) expect(res.perQuery[qid]![k], `${qid} ${k}`).toBeCloseTo(v, 6);
    });
  }

  it('excludes the query itself when its id is in the corpus, and keeps topK other documents', () => {
    const lists = exhaustiveSearch(queries, corpus, { topK: 3, corpusIds: fx.corpus.ids, queryIds: fx.queries.ids });
    const q3 = fx.queries.ids.indexOf('q03');
    const ids = Array.from(lists[q3]!.indices, (i) => fx.corpus.ids[i]);
    expect(ids).not.toContain('q03');
    expect(ids).toHaveLength(3);
    const withSelf = exhaustiveSearch(queries, corpus, { topK: 3, corpusIds: fx.corpus.ids, queryIds: fx.queries.ids, excludeIdenticalIds: false });
    expect(fx.corpus.ids[withSelf[q3]!.indices[0]!]).toBe('q03');
  });

  it('block sizes do not change the result; tied scores are ordered by document id descending', () => {
    const a = exhaustiveSearch(queries, corpus, { topK: 50, corpusIds: fx.corpus.ids, queryIds: fx.queries.ids, queryBlockSize: 1, corpusBlockSize: 1 });
    const b = exhaustiveSearch(queries, corpus, { topK: 50, corpusIds: fx.corpus.ids, queryIds: fx.queries.ids, queryBlockSize: 64, corpusBlockSize: 4096 });
    expect(a.map((l) => Array.from(l.indices))).toEqual(b.map((l) => Array.from(l.indices)));
    // d041 and d042 are identical vectors: wherever both appear, d042 comes first
    for (const l of b) {
      const ids = Array.from(l.indices, (i) => fx.corpus.ids[i]);
      const i41 = ids.indexOf('d041');
      const i42 = ids.indexOf('d042');
      if (i41 >= 0 && i42 >= 0) expect(i42).toBe(i41 - 1);
    }
  });

  it('hand-checked values: graded nDCG, MAP and P@k on a three-document run', () => {
    const qrels: Qrels = { q: { a: 2, b: 0, c: 1, z: 1 } };
    const run = { q: { a: 0.1, b: 0.9, c: 0.5 } };
    // order b(0) c(1) a(2); R = 3 (z is never retrieved)
    const r = retrievalMetrics(qrels, run, [1, 3]);
    const dcg = 1 / Math.log2(3) + 2 / Math.log2(4);
    const idcg = 2 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(r.scores.ndcg_at_3).toBeCloseTo(dcg / idcg, 12);
    expect(r.scores.map_at_3).toBeCloseTo((1 / 2 + 2 / 3) / 3, 12);
    expect(r.scores.precision_at_1).toBe(0);
    expect(r.scores.recall_at_3).toBeCloseTo(2 / 3, 12);
    expect(r.scores.mrr_at_3).toBeCloseTo(1 / 2, 12);
  });
});
