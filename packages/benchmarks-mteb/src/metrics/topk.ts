// Bounded top-k selection with trec_eval's ordering: higher score first; equal scores are ordered
// by document id in descending byte order (trec_eval's comp_sim_docno: strcmp(b, a)).

/**
 * A fixed-capacity min-heap of (score, index) whose root is the *worst* kept entry under the
 * ranking order. `tieRank[index]` gives the byte-order rank of a document id; a larger tieRank
 * ranks first among equal scores.
 */
export class TopKHeap {
  readonly scores: Float64Array;
  readonly indices: Int32Array;
  size = 0;

  constructor(readonly capacity: number, private readonly tieRank: Int32Array) {
    this.scores = new Float64Array(capacity);
    this.indices = new Int32Array(capacity);
  }

  /** true when (sa, ia) ranks below (sb, ib). */
  private worse(sa: number, ia: number, sb: number, ib: number): boolean {
    if (sa !== sb) return sa < sb;
    return this.tieRank[ia]! < this.tieRank[ib]!;
  }

  push(score: number, index: number): void {
    if (this.capacity === 0) return;
    if (this.size < this.capacity) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(score, index, this.scores[p]!, this.indices[p]!)) break;
        this.scores[i] = this.scores[p]!;
        this.indices[i] = this.indices[p]!;
        i = p;
      }
      this.scores[i] = score;
      this.indices[i] = index;
      return;
    }
    // full: replace the root only when the candidate ranks above it
    if (!this.worse(this.scores[0]!, this.indices[0]!, score, index)) return;
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.worse(this.scores[r]!, this.indices[r]!, this.scores[l]!, this.indices[l]!)) c = r;
      if (!this.worse(this.scores[c]!, this.indices[c]!, score, index)) break;
      this.scores[i] = this.scores[c]!;
      this.indices[i] = this.indices[c]!;
      i = c;
    }
    this.scores[i] = score;
    this.indices[i] = index;
  }

  /** The kept entries, best first. */
  sorted(): { indices: Int32Array; scores: Float32Array } {
    const order = Array.from({ length: this.size }, (_, i) => i);
    order.sort((a, b) => {
      const sa = this.scores[a]!;
      const sb = this.scores[b]!;
      if (sa !== sb) return sb - sa;
      return this.tieRank[this.indices[b]!]! - this.tieRank[this.indices[a]!]!;
    });
    return {
      indices: Int32Array.from(order, (o) => this.indices[o]!),
      scores: Float32Array.from(order, (o) => this.scores[o]!),
    };
  }
}

/** Byte-wise (UTF-8, strcmp) comparison of two strings. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** rank[i] = position of ids[i] in ascending byte order (equal ids share a rank). */
export function byteOrderRanks(ids: readonly string[]): Int32Array {
  const bufs = ids.map((s) => Buffer.from(s, 'utf8'));
  const order = ids.map((_, i) => i).sort((a, b) => Buffer.compare(bufs[a]!, bufs[b]!));
  const rank = new Int32Array(ids.length);
  let r = 0;
  for (let p = 0; p < order.length; p++) {
    if (p > 0 && Buffer.compare(bufs[order[p - 1]!]!, bufs[order[p]!]!) !== 0) r = p;
    rank[order[p]!] = r;
  }
  return rank;
}
