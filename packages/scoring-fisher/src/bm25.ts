// Okapi BM25 (k1 = 1.2, b = 0.75, Lucene's idf) over lower-cased word tokens: used to mine hard
// negatives. Small and core to the data preparation, so written here rather than pulled in.
export class Bm25Index {
  private readonly postings = new Map<string, { doc: number; tf: number }[]>();
  private readonly lengths: Float64Array;
  private readonly avgLength: number;

  constructor(docs: readonly string[], private readonly k1 = 1.2, private readonly b = 0.75) {
    this.lengths = new Float64Array(docs.length);
    docs.forEach((doc, d) => {
      const counts = new Map<string, number>();
      const tokens = tokenize(doc);
      for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
      this.lengths[d] = tokens.length;
      for (const [t, tf] of counts) {
        let list = this.postings.get(t);
        if (!list) this.postings.set(t, (list = []));
        list.push({ doc: d, tf });
      }
    });
    this.avgLength = docs.length ? this.lengths.reduce((a, b) => a + b, 0) / docs.length : 0;
  }

  /** BM25 score of every document for a query. */
  scores(query: string): Float64Array {
    const n = this.lengths.length;
    const out = new Float64Array(n);
    for (const t of new Set(tokenize(query))) {
      const list = this.postings.get(t);
      if (!list) continue;
      const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
      for (const { doc, tf } of list) {
        const norm = tf + this.k1 * (1 - this.b + (this.b * this.lengths[doc]!) / (this.avgLength || 1));
        out[doc]! += (idf * tf * (this.k1 + 1)) / norm;
      }
    }
    return out;
  }

  /** Indices of the k best documents (ties: lower index first). */
  topK(query: string, k: number): number[] {
    const s = this.scores(query);
    return Array.from(s, (v, i) => [v, i] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, k)
      .map(([, i]) => i);
  }
}

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}
