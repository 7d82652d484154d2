// The straight-through estimator of SMP (and movement pruning).
//
// Forward: W' = W ⊙ M with M = TopV(S) a 0/1 mask computed outside the graph.
// Backward: the gradient passes straight through M to the scores,
//   ∂L/∂S = ∂L/∂W' ⊙ W,
// and to the weights as through the product, ∂L/∂W = ∂L/∂W' ⊙ M (used when W is trained, as in
// movement pruning; SMP keeps W frozen, so that gradient is simply not requested).
import * as tf from '@tensorflow/tfjs-core';

const steImpl = tf.customGrad<tf.Tensor>((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [w, , m] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
  const save = args[3] as tf.GradSaveFunc;
  save([w, m]);
  return {
    value: tf.mul(w, m),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sw, sm] = saved as [tf.Tensor, tf.Tensor];
      return [tf.mul(dy, sm), tf.mul(dy, sw), tf.zerosLike(sm)];
    },
  };
});

/**
 * W ⊙ M in the forward pass with the straight-through gradient ∂L/∂S = ∂L/∂(W⊙M) ⊙ W to the
 * scores `s` (same shape as `w`); `mask` is the 0/1 float tensor TopV(S) (no gradient).
 */
export function steMaskedWeight(w: tf.Tensor, s: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  if (w.shape.join() !== s.shape.join() || w.shape.join() !== mask.shape.join()) {
    throw new Error(`steMaskedWeight: weight [${w.shape.join(', ')}], scores [${s.shape.join(', ')}] and mask [${mask.shape.join(', ')}] must have one shape`);
  }
  return steImpl(w, s, mask);
}
