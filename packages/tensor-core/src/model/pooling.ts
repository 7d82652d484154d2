// Sentence embeddings from token states: the pooling modes of sentence-transformers, read from
// 1_Pooling/config.json when the folder has one, and an optional L2 normalisation (Normalize module).
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

export type PoolingMode = 'cls' | 'mean' | 'max' | 'lasttoken';

export interface PoolingConfig {
  mode: PoolingMode;
  normalize: boolean;
}

/** [batch, seq, hidden] + [batch, seq] mask -> [batch, hidden] */
export function pool(hidden: tf.Tensor3D, attentionMask: tf.Tensor2D, mode: PoolingMode): tf.Tensor2D {
  return tf.tidy(() => {
    const [batch, seq, width] = hidden.shape;
    const mask = tf.reshape(tf.cast(attentionMask, 'float32'), [batch, seq, 1]);
    switch (mode) {
      case 'cls':
        return tf.squeeze(tf.slice(hidden, [0, 0, 0], [batch, 1, width]), [1]) as tf.Tensor2D;
      case 'mean': {
        // as sentence-transformers: sum of token states / clamp(number of tokens, 1e-9)
        const sum = tf.sum(tf.mul(hidden, mask), 1);
        return tf.div(sum, tf.maximum(tf.sum(mask, 1), 1e-9)) as tf.Tensor2D;
      }
      case 'max': {
        // padding set to a large negative value so it never wins (sentence-transformers uses -1e9)
        const masked = tf.add(tf.mul(hidden, mask), tf.mul(tf.sub(1, mask), -1e9));
        return tf.max(masked, 1) as tf.Tensor2D;
      }
      case 'lasttoken': {
        // the last real token of each row, with right or left padding (as sentence-transformers: the
        // last position whose mask is 1, found as the first 1 of the reversed mask)
        const fromEnd = tf.cast(tf.argMax(tf.reverse(tf.cast(attentionMask, 'int32'), [1]), 1), 'int32');
        const last = tf.sub(tf.scalar(seq - 1, 'int32'), fromEnd);
        // int32 throughout: a plain number operand would upcast the indices to float32
        const idx = tf.add(tf.mul(tf.range(0, batch, 1, 'int32'), tf.scalar(seq, 'int32')), last);
        return tf.gather(tf.reshape(hidden, [batch * seq, width]), idx) as tf.Tensor2D;
      }
    }
  });
}

/**
 * Reads the sentence-transformers pooling of a model folder (modules.json + its Pooling folder, and a
 * Normalize module), or returns `fallback` when the folder is not a sentence-transformers model.
 */
export function readPoolingConfig(dir: string, fallback: PoolingConfig = { mode: 'mean', normalize: false }): PoolingConfig {
  const modulesFile = path.join(dir, 'modules.json');
  if (!fs.existsSync(modulesFile)) return fallback;
  let modules: { type?: string; path?: string }[];
  try {
    modules = JSON.parse(fs.readFileSync(modulesFile, 'utf8')) as { type?: string; path?: string }[];
  } catch (err) {
    throw new Error(`${modulesFile}: not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(modules)) throw new Error(`${modulesFile}: expected an array of modules`);
  const poolingModule = modules.find((m) => m.type?.endsWith('.Pooling'));
  const normalize = modules.some((m) => m.type?.endsWith('.Normalize'));
  if (!poolingModule) return { ...fallback, normalize };
  const file = path.join(dir, poolingModule.path ?? '1_Pooling', 'config.json');
  if (!fs.existsSync(file)) throw new Error(`${file}: missing (modules.json names a Pooling module at "${poolingModule.path}")`);
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const modes: [string, PoolingMode][] = [
    ['pooling_mode_cls_token', 'cls'], ['pooling_mode_mean_tokens', 'mean'], ['pooling_mode_max_tokens', 'max'], ['pooling_mode_lasttoken', 'lasttoken'],
  ];
  const on = modes.filter(([k]) => c[k] === true).map(([, m]) => m);
  for (const k of ['pooling_mode_mean_sqrt_len_tokens', 'pooling_mode_weightedmean_tokens']) {
    if (c[k] === true) throw new Error(`${file}: field "${k}" is true; supported pooling modes are cls, mean, max and lasttoken`);
  }
  if (on.length !== 1) throw new Error(`${file}: expected exactly one pooling mode set to true among ${modes.map(([k]) => k).join(', ')} (found ${on.length})`);
  return { mode: on[0]!, normalize };
}
