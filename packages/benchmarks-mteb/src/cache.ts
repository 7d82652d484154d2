// On-disk embedding cache keyed by model fingerprint and text hash. Each flushed batch becomes one
// shard file written atomically, so an interrupted run keeps every batch it finished and a re-run
// encodes only what is missing.
//
// Layout: <cacheDir>/<sha256(fingerprint)[0:24]>/fingerprint.txt and shard-*.bin, where a shard is
// "PKEMB1\n", u32 count, u32 dim (little-endian), then count × (32-byte sha256(text), dim float32).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Encoder, TextRole } from './encoder.js';
import { writeFileAtomic } from './io.js';

const MAGIC = Buffer.from('PKEMB1\n', 'latin1');

export function textHash(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

export class EmbeddingCache {
  private readonly map = new Map<string, Float32Array>();
  private shardCounter = 0;
  readonly dir: string;

  private constructor(cacheDir: string, readonly fingerprint: string) {
    this.dir = path.join(cacheDir, crypto.createHash('sha256').update(fingerprint).digest('hex').slice(0, 24));
  }

  /** Opens (creating if needed) the cache of one fingerprint and loads its shards. */
  static open(cacheDir: string, fingerprint: string): EmbeddingCache {
    const c = new EmbeddingCache(cacheDir, fingerprint);
    fs.mkdirSync(c.dir, { recursive: true });
    const fpFile = path.join(c.dir, 'fingerprint.txt');
    if (!fs.existsSync(fpFile)) writeFileAtomic(fpFile, fingerprint + '\n');
    for (const name of fs.readdirSync(c.dir).sort()) {
      if (!name.startsWith('shard-') || !name.endsWith('.bin')) continue;
      c.loadShard(path.join(c.dir, name));
    }
    return c;
  }

  private loadShard(file: string): void {
    const buf = fs.readFileSync(file);
    if (buf.length < MAGIC.length + 8 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${file}: not an embedding cache shard (bad header); delete it to rebuild`);
    const count = buf.readUInt32LE(MAGIC.length);
    const dim = buf.readUInt32LE(MAGIC.length + 4);
    const rec = 32 + 4 * dim;
    if (buf.length !== MAGIC.length + 8 + count * rec) throw new Error(`${file}: truncated embedding cache shard (${buf.length} bytes for ${count} × ${dim}); delete it to rebuild`);
    let off = MAGIC.length + 8;
    for (let i = 0; i < count; i++) {
      const key = buf.subarray(off, off + 32).toString('hex');
      const v = new Float32Array(dim);
      for (let j = 0; j < dim; j++) v[j] = buf.readFloatLE(off + 32 + 4 * j);
      this.map.set(key, v);
      off += rec;
    }
  }

  get size(): number {
    return this.map.size;
  }

  get(text: string): Float32Array | undefined {
    return this.map.get(textHash(text));
  }

  /** Adds entries and writes them as one new shard (atomically). */
  put(texts: readonly string[], vectors: readonly Float32Array[]): void {
    if (texts.length === 0) return;
    const dim = vectors[0]!.length;
    const rec = 32 + 4 * dim;
    const buf = Buffer.alloc(MAGIC.length + 8 + texts.length * rec);
    MAGIC.copy(buf, 0);
    buf.writeUInt32LE(texts.length, MAGIC.length);
    buf.writeUInt32LE(dim, MAGIC.length + 4);
    let off = MAGIC.length + 8;
    texts.forEach((t, i) => {
      const v = vectors[i]!;
      if (v.length !== dim) throw new Error(`embedding cache: vector ${i} has dimension ${v.length}, expected ${dim}`);
      const h = textHash(t);
      Buffer.from(h, 'hex').copy(buf, off);
      for (let j = 0; j < dim; j++) buf.writeFloatLE(v[j]!, off + 32 + 4 * j);
      off += rec;
      this.map.set(h, Float32Array.from(v));
    });
    const name = `shard-${Date.now().toString().padStart(14, '0')}-${process.pid}-${(this.shardCounter++).toString().padStart(6, '0')}.bin`;
    writeFileAtomic(path.join(this.dir, name), buf);
  }
}

export interface EncodeStats {
  requested: number;
  unique: number;
  fromCache: number;
  encoded: number;
}

/**
 * Encodes texts through an optional cache: duplicates are encoded once, cached texts are not
 * encoded, the rest goes to the encoder in batches of `batchSize`, each batch saved to the cache
 * before the next starts.
 */
export async function encodeTexts(encoder: Encoder, texts: readonly string[], options: { cache?: EmbeddingCache; batchSize?: number; onBatch?: (done: number, total: number) => void; role?: TextRole } = {}): Promise<{ vectors: Float32Array[]; stats: EncodeStats }> {
  const batchSize = Math.max(1, options.batchSize ?? 256);
  // an asymmetric encoder embeds a query and a document differently: its cache entries carry the role
  const role = encoder.asymmetric === true ? options.role : undefined;
  const cacheKey = (t: string): string => (role === undefined ? t : `${role}\u0000${t}`);
  const unique = [...new Set(texts)];
  const found = new Map<string, Float32Array>();
  const missing: string[] = [];
  for (const t of unique) {
    const v = options.cache?.get(cacheKey(t));
    if (v) found.set(t, v);
    else missing.push(t);
  }
  let dim = found.size > 0 ? found.values().next().value!.length : -1;
  for (let i = 0; i < missing.length; i += batchSize) {
    const batch = missing.slice(i, i + batchSize);
    const vecs = role === undefined ? await encoder.encode(batch) : await encoder.encode(batch, role);
    if (!Array.isArray(vecs) || vecs.length !== batch.length) throw new Error(`encoder "${encoder.name}" returned ${Array.isArray(vecs) ? vecs.length : typeof vecs} embeddings for ${batch.length} texts`);
    for (const v of vecs) {
      if (!(v instanceof Float32Array)) throw new Error(`encoder "${encoder.name}" must return Float32Array embeddings`);
      if (dim === -1) dim = v.length;
      if (v.length !== dim) throw new Error(`encoder "${encoder.name}" returned an embedding of dimension ${v.length}, expected ${dim}`);
    }
    options.cache?.put(batch.map(cacheKey), vecs);
    batch.forEach((t, j) => found.set(t, vecs[j]!));
    options.onBatch?.(Math.min(i + batchSize, missing.length), missing.length);
  }
  return {
    vectors: texts.map((t) => found.get(t)!),
    stats: { requested: texts.length, unique: unique.length, fromCache: unique.length - missing.length, encoded: missing.length },
  };
}
