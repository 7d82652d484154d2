// Named variables and their gradients. Parameters are tf.Variables keyed by a name of ours (the HF
// state-dict name); tfjs' own variable names must be globally unique and need not match, so
// gradients are always re-keyed by our names.
import * as tf from '@tensorflow/tfjs-core';

/** Variables keyed by name: a Map or a plain record. */
export type VariableMap = ReadonlyMap<string, tf.Variable> | Readonly<Record<string, tf.Variable>>;

/** The (name, variable) pairs of a VariableMap, in insertion order. */
export function variableEntries(vars: VariableMap): [string, tf.Variable][] {
  if (vars instanceof Map) return [...(vars as ReadonlyMap<string, tf.Variable>).entries()];
  return Object.entries(vars as Readonly<Record<string, tf.Variable>>);
}

export interface ValueAndGrads {
  /** the loss (a scalar the caller disposes) */
  value: tf.Scalar;
  /** gradients keyed by the VariableMap's names (tensors the caller disposes) */
  grads: tf.NamedTensorMap;
}

/**
 * The value of `loss` and its gradients with respect to `vars`, keyed by the names in `vars`
 * (tf.variableGrads keys them by the tfjs variable names). Intermediate tensors are freed.
 */
export function variableGrads(loss: () => tf.Scalar, vars: VariableMap): ValueAndGrads {
  const entries = variableEntries(vars);
  const { value, grads } = tf.variableGrads(loss, entries.map(([, v]) => v));
  const out: tf.NamedTensorMap = {};
  for (const [name, v] of entries) {
    const g = grads[v.name];
    if (g !== undefined) out[name] = g;
  }
  return { value, grads: out };
}

/** Disposes every tensor of a NamedTensorMap. */
export function disposeTensors(map: tf.NamedTensorMap): void {
  for (const t of Object.values(map)) t.dispose();
}

export interface ClipResult {
  /** clipped gradients, same names (new tensors the caller disposes) */
  grads: tf.NamedTensorMap;
  /** the global L2 norm before clipping (a scalar the caller disposes) */
  norm: tf.Scalar;
}

/** Global L2 norm over all tensors of `grads`: sqrt(Σ_tensors Σ g²). */
export function globalNorm(grads: tf.NamedTensorMap): tf.Scalar {
  return tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    if (sq.length === 0) return tf.scalar(0);
    return tf.sqrt(tf.addN(sq)) as tf.Scalar;
  });
}

/**
 * Clips gradients by their global L2 norm as torch.nn.utils.clip_grad_norm_:
 * g ← g · min(1, maxNorm / (norm + 1e-6)).
 */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): ClipResult {
  if (!(maxNorm > 0)) throw new Error(`maxNorm must be > 0 (got ${maxNorm})`);
  return tf.tidy(() => {
    const norm = globalNorm(grads);
    const coef = tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(norm, tf.scalar(1e-6))), tf.scalar(1));
    const clipped: tf.NamedTensorMap = {};
    for (const [name, g] of Object.entries(grads)) clipped[name] = tf.mul(g, coef);
    return { grads: clipped, norm };
  });
}
