// A sequence-classification head as RoBERTa's (RobertaClassificationHead): the first token's hidden
// state → dropout → dense [H, H] → tanh → dropout → out_proj [C, H]. New per task; trained with the gates.
// Initialised as HF initialises Linear layers: N(0, initializer_range²) weights, zero biases.
import * as tf from '@tensorflow/tfjs-core';
import { createRng, headNames, lastNonPadToken, linear, type EncoderModel, type Seed } from '@prunekit/tensor-core';

/** What training, prediction and compaction need of a task head: its variables and logits from token states. */
export interface TaskHead {
  /** trainable variables keyed by their HF names */
  readonly params: Map<string, tf.Variable>;
  readonly numLabels: number;
  numParameters(): number;
  /** logits [B, C] from the last hidden state [B, T, H]; `inputIds` locates the last non-pad token (decoder heads) */
  forward(hidden: tf.Tensor3D, options?: { training?: boolean; dropoutSeed?: number; inputIds?: tf.Tensor2D }): tf.Tensor2D;
  dispose(): void;
}

export const HEAD_NAMES = {
  denseWeight: 'classifier.dense.weight',
  denseBias: 'classifier.dense.bias',
  outWeight: 'classifier.out_proj.weight',
  outBias: 'classifier.out_proj.bias',
} as const;

export class ClassificationHead implements TaskHead {
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
  forward(hidden: tf.Tensor3D, options: { training?: boolean; dropoutSeed?: number; inputIds?: tf.Tensor2D } = {}): tf.Tensor2D {
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

/**
 * A decoder's own sequence-classification head, as transformers' LlamaForSequenceClassification /
 * Qwen3ForSequenceClassification: `score.weight` [C, H] (no bias) on the hidden state of each row's last
 * token that is not the pad token (found from input_ids, so left and right padding both work). FineGates'
 * Llama setting trains it with the gates; it stays inside the model, so the compacted folder is a complete
 * ...ForSequenceClassification.
 */
export class DecoderScoreHead implements TaskHead {
  private constructor(
    readonly params: Map<string, tf.Variable>,
    readonly numLabels: number,
    /** the pad token id the last non-pad token is found with (config.json pad_token_id) */
    readonly padTokenId: number,
    /** the HF name of the score matrix (e.g. "score.weight") */
    readonly weightName: string,
    /** whether the weights came from the folder (false: a new head, the folder's had another number of labels) */
    readonly fromFolder: boolean,
  ) {}

  /**
   * The score head of a decoder sequence classifier: the folder's `score.weight` when it has `numLabels` rows,
   * else a new one drawn as transformers initialises it (N(0, initializer_range²)).
   */
  static fromModel(model: EncoderModel, numLabels: number, options: { seed?: Seed } = {}): DecoderScoreHead {
    const cfg = model.config;
    if (cfg.family !== 'decoder' || cfg.head !== 'cls') throw new Error(`a decoder score head needs a ...ForSequenceClassification decoder (got ${cfg.architecture}, head ${cfg.head})`);
    if (cfg.padTokenId < 0) throw new Error('config.json has no pad_token_id: the score head cannot find the last real token of padded rows (set pad_token_id to the tokenizer\'s pad token)');
    if (!Number.isInteger(numLabels) || numLabels < 2) throw new Error(`a classification head needs at least 2 labels (got ${numLabels})`);
    const name = `${headNames(cfg.modelType, 'cls').out}.weight`;
    const own = model.params.get(name);
    const fromFolder = own !== undefined && own.shape[0] === numLabels && own.shape[1] === cfg.hiddenSize;
    const init = fromFolder
      ? own.clone()
      : createRng(options.seed ?? 0).fork('decoder-score-head').normalTensor([numLabels, cfg.hiddenSize], 0, (cfg.raw.initializer_range as number | undefined) ?? 0.02);
    const params = new Map([[name, tf.variable(init, true, `head${counter++}/${name}`)]]);
    init.dispose();
    return new DecoderScoreHead(params, numLabels, cfg.padTokenId, name, fromFolder);
  }

  numParameters(): number {
    return this.params.get(this.weightName)!.size;
  }

  forward(hidden: tf.Tensor3D, options: { training?: boolean; dropoutSeed?: number; inputIds?: tf.Tensor2D } = {}): tf.Tensor2D {
    const ids = options.inputIds;
    if (!ids) throw new Error('a decoder score head needs the input ids (to find each row\'s last non-pad token)');
    return tf.tidy(() => {
      const [b, t, h] = hidden.shape;
      const last = lastNonPadToken(ids, this.padTokenId);
      const rows = tf.add(tf.mul(tf.range(0, b, 1, 'int32'), tf.scalar(t, 'int32')), last);
      const pooled = tf.gather(tf.reshape(hidden, [b * t, h]), rows);
      return tf.matMul(pooled, this.params.get(this.weightName)!, false, true) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}
