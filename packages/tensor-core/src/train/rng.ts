// Seeded randomness: same seed, same numbers, bit for bit, on every run.
//
// Generator: xoshiro128** (Blackman & Vigna, 2018; public-domain reference algorithm), 128 bits of
// state, period 2^128 − 1, written here in 32-bit integer arithmetic (Math.imul), so results do not
// depend on the platform. The state is filled from the seed by SplitMix32-style mixing (murmur3's
// 32-bit finaliser), never all zero. Chosen over an npm dependency because the algorithm is 10
// lines, its output is pinned by tests, and no library's future release can change our streams.
//
// fork(label) derives an independent generator from this generator's *key* (the seed material)
// and the label, not from its current position: `rng.fork('dropout')` yields the same stream no
// matter how many numbers `rng` has produced. Use distinct labels for distinct purposes.
import * as tf from '@tensorflow/tfjs-core';

/** A seed: a safe integer or any string. */
export type Seed = number | string;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** 32-bit FNV-1a of the UTF-8 bytes of `s`, starting from `basis`. */
function fnv1a(s: string, basis: number): number {
  let h = basis >>> 0;
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Expands 32-bit words into a 4-word key by a SplitMix32-style sequence over their mix. */
function expandKey(words: readonly number[]): Uint32Array {
  let acc = 0x9e3779b9;
  for (const w of words) acc = fmix32((acc ^ (w >>> 0)) + 0x7f4a7c15);
  const key = new Uint32Array(4);
  let x = acc;
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    key[i] = fmix32(x);
  }
  if ((key[0]! | key[1]! | key[2]! | key[3]!) === 0) key[0] = 1;
  return key;
}

function seedWords(seed: Seed): number[] {
  if (typeof seed === 'string') return [0x53545247, fnv1a(seed, 0x811c9dc5), fnv1a(seed, 0x050c5d1f)];
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer or a string (got ${seed})`);
  const neg = seed < 0 ? 1 : 0;
  const abs = Math.abs(seed);
  return [0x4e554d42, abs >>> 0, Math.floor(abs / 2 ** 32) >>> 0, neg];
}

/** Seeded pseudo-random generator (xoshiro128**). Not for cryptography. */
export class Rng {
  /** seed material: fork() derives children from it */
  private readonly key: Uint32Array;
  private readonly s: Uint32Array;
  private spareNormal: number | null = null;

  constructor(seed: Seed) {
    this.key = expandKey(seedWords(seed));
    this.s = Uint32Array.from(this.key);
  }

  private static fromKey(key: Uint32Array): Rng {
    const r = Object.create(Rng.prototype) as Rng;
    Object.assign(r, { key, s: Uint32Array.from(key), spareNormal: null });
    return r;
  }

  /** An independent generator for `label`, a function of this generator's seed and the label only. */
  fork(label: string): Rng {
    const k = this.key;
    const words = [k[0]!, k[1]!, k[2]!, k[3]!, fnv1a(label, 0x811c9dc5), fnv1a(label, 0x2c9277b5), label.length];
    return Rng.fromKey(expandKey(words));
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform float32 value in [0, 1) (24 random bits, exactly representable). */
  nextFloat32(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling); n ≤ 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) throw new Error(`int(n) needs an integer 1 ≤ n ≤ 2^32 (got ${n})`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal sample (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i]!;
      array[i] = array[j]!;
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n−1. */
  permutation(n: number): Int32Array {
    const idx = Array.from({ length: n }, (_, i) => i);
    return Int32Array.from(this.shuffle(idx));
  }

  /** `n` uniform values in [lo, hi) as float32 (hi itself may appear through float32 rounding). */
  uniformArray(n: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(n);
    const width = hi - lo;
    for (let i = 0; i < n; i++) out[i] = lo + width * this.nextFloat32();
    return out;
  }

  /** `n` normal samples with the given mean and standard deviation, as float32. */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** A float32 tensor of uniform values in [lo, hi). */
  uniform(shape: number[], lo = 0, hi = 1): tf.Tensor {
    return tf.tensor(this.uniformArray(sizeOf(shape), lo, hi), shape, 'float32');
  }

  /** A float32 tensor of normal samples. */
  normalTensor(shape: number[], mean = 0, std = 1): tf.Tensor {
    return tf.tensor(this.normalArray(sizeOf(shape), mean, std), shape, 'float32');
  }

  /** A float32 tensor of 0/1 values, 1 with probability `p`. */
  bernoulli(shape: number[], p: number): tf.Tensor {
    const n = sizeOf(shape);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() < p ? 1 : 0;
    return tf.tensor(out, shape, 'float32');
  }

  /** A 31-bit integer seed for APIs that take one (e.g. tf.randomUniform's seed). */
  nextSeed(): number {
    return this.nextUint32() >>> 1;
  }
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/** A generator for `seed` (shorthand for `new Rng(seed)`). */
export function createRng(seed: Seed): Rng {
  return new Rng(seed);
}
