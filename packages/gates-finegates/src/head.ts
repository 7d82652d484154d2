// A sequence-classification head as RoBERTa's (RobertaClassificationHead): the first token's hidden
// state → dropout → dense [H, H] → tanh → dropout → out_proj [C, H]. New per task; trained with the gates.
// Initialised as HF initialises Linear layers: N(0, initializer_range²) weights, zero biases.
import * as tf from '@tensorflow/tfjs-core';
import { createRng, linear, type Seed } from '@prunekit/tensor-core';

export const HEAD_NAMES = {
  denseWeight: 'classifier.dense.weight',
  denseBias: 'classifier.dense.bias',
  outWeight: 'classifier.out_proj.weight',
  outBias: 'classifier.out_proj.bias',
} as const;

export class ClassificationHead {
  private constructor(
    /** trainable variables keyed by HEAD_NAMES */
    readonly params: Map<string, tf.Variable>,
    readonly numLabels: number,
    readonly dropout: number,
  ) {}

  static create(hiddenSize: number, numLabels: number, options: { seed?: Seed; initStd?: number; dropout?: number } = {}): ClassificationHead {
    if (!Number.isInteger(numLabels) || numLabels < 2) throw new Error(`a classification head needs at least 2 labels (got ${numLabels})`);
    const rng = createRng(options.seed ?? 0).fork('classification-head');
    const std = options.initStd ?? 0.02;
    const params = new Map<string, tf.Variable>();
    const v = (t: tf.Tensor, name: string): void => {
      params.set(name, tf.variable(t, true, `head${counter++}/${name}`));
      t.dispose();
    };
    v(rng.normalTensor([hiddenSize, hiddenSize], 0, std), HEAD_NAMES.denseWeight);
    v(tf.zeros([hiddenSize]), HEAD_NAMES.denseBias);
    v(rng.normalTensor([numLabels, hiddenSize], 0, std), HEAD_NAMES.outWeight);
    v(tf.zeros([numLabels]), HEAD_NAMES.outBias);
    return new ClassificationHead(params, numLabels, options.dropout ?? 0.1);
  }

  /** A head from stored tensors (host arrays keyed by HEAD_NAMES). */
  static fromHost(tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>, dropout = 0.1): ClassificationHead {
    const params = new Map<string, tf.Variable>();
    for (const name of Object.values(HEAD_NAMES)) {
      const t = tensors.get(name);
      if (!t) throw new Error(`classification head: missing tensor "${name}"`);
      const x = tf.tensor(t.data, t.shape, 'float32');
      params.set(name, tf.variable(x, true, `head${counter++}/${name}`));
      x.dispose();
    }
    return new ClassificationHead(params, params.get(HEAD_NAMES.outBias)!.shape[0]!, dropout);
  }

  numParameters(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /** Logits [B, C] from the encoder's last hidden state [B, T, H]. */
  forward(hidden: tf.Tensor3D, options: { training?: boolean; dropoutSeed?: number } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const [b, , h] = hidden.shape;
      const drop = (x: tf.Tensor, k: number): tf.Tensor =>
        options.training && this.dropout > 0 ? tf.dropout(x, this.dropout, undefined, options.dropoutSeed === undefined ? undefined : options.dropoutSeed * 7919 + k) : x;
      let x: tf.Tensor = tf.reshape(tf.slice(hidden, [0, 0, 0], [b, 1, h]), [b, h]);
      x = tf.tanh(linear(drop(x, 1), this.params.get(HEAD_NAMES.denseWeight)!, this.params.get(HEAD_NAMES.denseBias)!));
      return linear(drop(x, 2), this.params.get(HEAD_NAMES.outWeight)!, this.params.get(HEAD_NAMES.outBias)!) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}

let counter = 0;
