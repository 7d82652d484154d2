// The task head with no new parameters: the pretrained MLM head at one position, restricted to the
// label words (logit of class c = MLM-logit of word c = transform(h)·e_word + bias_word).
import * as tf from '@tensorflow/tfjs-core';
import { EncoderModel, type WeightView } from '@prunekit/tensor-core';
import type { TensorBatch } from './data.js';

// The same parameters seen as a base model, so forward() stops at the last hidden state instead of
// computing MLM logits for every position (only one position per row is needed).
const bodies = new WeakMap<EncoderModel, EncoderModel>();
function body(model: EncoderModel): EncoderModel {
  let b = bodies.get(model);
  if (!b) {
    b = new EncoderModel({ ...model.config, head: 'base' }, model.params, model.prefix);
    bodies.set(model, b);
  }
  return b;
}

export interface HeadForwardOptions {
  training?: boolean;
  dropoutSeed?: number;
}

/** Label-word logits [batch, classes] for a batch (call inside tf.tidy). */
export function labelWordLogits(model: EncoderModel, batch: TensorBatch, labelIds: readonly number[], view?: WeightView, forward: HeadForwardOptions = {}): tf.Tensor2D {
  if (model.config.head !== 'mlm') throw new Error(`the label-word head needs a masked-LM checkpoint (BertForMaskedLM / RobertaForMaskedLM); this model's head is "${model.config.head}"`);
  const v = view ?? model.denseView;
  const h = body(model).forward(batch.inputs, { view: v, ...forward }).lastHiddenState;
  const [b, t, d] = h.shape;
  const picked = tf.reshape(tf.gather(tf.reshape(h, [b * t, d]), batch.gatherIndex), [b, 1, d]) as tf.Tensor3D;
  const logits = model.mlmHead(picked, v);
  return tf.gather(tf.reshape(logits, [b, -1]), tf.tensor1d(Int32Array.from(labelIds), 'int32'), 1) as tf.Tensor2D;
}
