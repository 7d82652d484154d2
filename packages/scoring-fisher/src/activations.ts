// Input-activation norms for Wanda: ‖X_j‖₂ of each input feature j of each chosen linear, over the
// real (non-padding) tokens of calibration texts, collected from the one forward.
import * as tf from '@tensorflow/tfjs-core';
import type { SentenceEncoder } from '@prunekit/tensor-core';

export async function inputActivationNorms(encoder: SentenceEncoder, texts: readonly string[], params: readonly string[], batchSize = 16): Promise<Map<string, Float32Array>> {
  const wanted = new Set(params);
  const sums = new Map<string, tf.Variable>();
  for (const name of params) {
    const w = encoder.model.params.get(name);
    if (!w) throw new Error(`model has no parameter "${name}"`);
    sums.set(name, tf.variable(tf.zeros([w.shape[1]!]), false));
  }
  for (let b = 0; b < texts.length; b += batchSize) {
    const enc = await encoder.tokenizer.encodeBatch(texts.slice(b, b + batchSize) as string[], { maxLength: encoder.maxLength, truncation: true, padding: 'longest' });
    tf.tidy(() => {
      const ids = tf.tensor2d(enc.inputIds, enc.shape, 'int32');
      const mask = tf.tensor2d(enc.attentionMask, enc.shape, 'int32');
      const types = tf.tensor2d(enc.tokenTypeIds, enc.shape, 'int32');
      const rowMask = tf.reshape(tf.cast(mask, 'float32'), [-1, 1]);
      encoder.model.forward({ inputIds: ids, attentionMask: mask, tokenTypeIds: types }, {
        onLinearInput: (name, x) => {
          if (!wanted.has(name)) return;
          const s = sums.get(name)!;
          s.assign(tf.add(s, tf.sum(tf.mul(tf.square(x), rowMask), 0)));
        },
      });
    });
  }
  const out = new Map<string, Float32Array>();
  for (const [name, s] of sums) {
    out.set(name, (s.dataSync() as Float32Array).map(Math.sqrt));
    s.dispose();
  }
  return out;
}
