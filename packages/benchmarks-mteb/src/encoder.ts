/**
 * Anything that turns texts into fixed-size embeddings. benchmarks-mteb knows nothing else about a
 * model: the apps wrap tensor-core encoders (or anything else) in this interface.
 */
export interface Encoder {
  /** Model name, used in results paths and tables (e.g. "bert-base-uncased-gaprune-50"). */
  name: string;
  /**
   * Identity of the exact weights and settings (hash of the weights, pruning manifest, pooling,
   * max length...). Embedding caches and results are keyed by it: two encoders with the same
   * fingerprint must produce the same embeddings.
   */
  fingerprint: string;
  /**
   * One embedding per text, in order. `role` is the side of an asymmetric task the texts are on
   * (retrieval and reranking queries vs documents, MTEB's prompt type); it is passed only to an
   * encoder that sets `asymmetric`, and is absent for symmetric tasks (STS, classification, ...).
   */
  encode(texts: string[], role?: TextRole): Promise<Float32Array[]>;
  /**
   * True when queries and documents are embedded differently (e.g. a model whose
   * sentence-transformers config has "query"/"document" prompts). Then retrieval and reranking pass
   * the role to `encode`, and the embedding cache keeps each role's embeddings apart.
   */
  asymmetric?: boolean;
}

/** The side of an asymmetric task a text is on (MTEB's prompt types "query" and "document"). */
export type TextRole = 'query' | 'document';
