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
  /** One embedding per text, in order. */
  encode(texts: string[]): Promise<Float32Array[]>;
  /**
   * For an encoder that embeds queries and documents differently (e.g. a model whose
   * sentence-transformers config has "query"/"document" prompts): one embedding per text as the
   * given side of an asymmetric task (MTEB's prompt types). Retrieval and reranking call it for
   * their queries and documents when it exists; symmetric tasks always call `encode`. The embedding
   * cache keeps each role's embeddings apart.
   */
  encodeRole?: (texts: string[], role: TextRole) => Promise<Float32Array[]>;
}

/** The side of an asymmetric task a text is on (MTEB's prompt types "query" and "document"). */
export type TextRole = 'query' | 'document';
