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
}
