// The four ways of adapting a frozen encoder to a task, each a set of trainable variables and a weight
// view over tensor-core's forward:
//   finegates  row/column gates on the gated linears + those linears' biases (W frozen)
//   lora       W + B·A on Q and V (r = 4; A Kaiming-uniform, B zero; scale 1 as in the FineGates code)
//   bitfit     every bias of the encoder (linears and LayerNorms)
//   full-ft    every encoder parameter
// The task head (head.ts) is trained alongside in every case.
import * as tf from '@tensorflow/tfjs-core';
import {
  createRng, embeddingNames, layerNames, overrideView, DEFAULT_POLICY,
  type EncoderModel, type MatrixKind, type PrunablePolicy, type Rng, type WeightView,
} from '@prunekit/tensor-core';
import { GateSet, type GateValues } from './gates.js';
import { GATE_DEFAULTS, kurtosisWeights } from './regulariser.js';
import { biasOf, gatedView, loraView } from './view.js';

export type Method = 'finegates' | 'lora' | 'bitfit' | 'full-ft';
export const METHODS: readonly Method[] = ['finegates', 'lora', 'bitfit', 'full-ft'];

export interface AdapterOptions {
  /** FineGates: target sparsity s (keep = 1 − s) */
  targetSparsity?: number;
  /** FineGates: λ (default 50) */
  lambda?: number;
  /** FineGates: gated linears (default Q, K, V, attention output, FFN up, FFN down) */
  policy?: PrunablePolicy;
  /** FineGates: kurtosis-weighted regulariser (the code's --kurt) */
  kurtosis?: boolean;
  kurtosisTau?: number;
  /** LoRA rank (default 4) and target kinds (default query, value) */
  loraRank?: number;
  loraTargets?: readonly MatrixKind[];
  /** initialisation seed */
  seed?: number;
}

/** What a training step needs from a method: its view, and for FineGates the regulariser. */
export interface Adapter {
  readonly method: Method;
  /** trainable encoder-side variables (the head's are separate), by name */
  readonly variables: Map<string, tf.Variable>;
  /** sample what a training step needs (FineGates: gate noise) */
  beginStep(rng: Rng): void;
  endStep(): void;
  /** the training view (inside the loss closure: gate values are differentiable) */
  trainView(): WeightView;
  /** λ·regulariser (inside the loss closure), or null; linear inputs feed the kurtosis weights */
  regularisation(linearInputs?: ReadonlyMap<string, Float32Array>): tf.Scalar | null;
  /** whether regularisation() needs the linears' mean inputs */
  readonly wantsLinearInputs: boolean;
  /** the evaluation view (call inside tf.tidy) */
  evalView(): WeightView;
  /** trainable encoder-side parameters (without the head) */
  numTrainable(): number;
  dispose(): void;
}

let counter = 0;
function cloneVariable(t: tf.Tensor, name: string): tf.Variable {
  return tf.variable(t.clone(), true, `adapter${counter++}/${name}`);
}

function sizeOf(vars: ReadonlyMap<string, tf.Variable>): number {
  let n = 0;
  for (const v of vars.values()) n += v.size;
  return n;
}

/** Names of the encoder's own parameters (not MLM / pooler / classification heads). */
export function encoderParameterNames(model: EncoderModel): string[] {
  const names = new Set<string>(Object.values(embeddingNames(model.prefix)));
  for (let l = 0; l < model.config.numLayers; l++) {
    const n = layerNames(model.prefix, l);
    for (const k of Object.values(n.linear)) {
      names.add(k.weight);
      names.add(k.bias);
    }
    for (const p of [n.attnLayerNorm, n.outLayerNorm]) {
      names.add(p.weight);
      names.add(p.bias);
    }
  }
  return [...names].filter((n) => model.params.get(n)?.dtype === 'float32');
}

export class FineGatesAdapter implements Adapter {
  readonly method = 'finegates' as const;
  readonly variables = new Map<string, tf.Variable>();
  /** trained biases of the gated linears, by bias name */
  readonly biases = new Map<string, tf.Variable>();
  readonly gates: GateSet;
  readonly targetSparsity: number;
  readonly lambda: number;
  readonly kurtosis: boolean;
  readonly kurtosisTau: number;
  readonly wantsLinearInputs: boolean;
  private noise: Map<string, GateValues> | null = null;

  constructor(readonly model: EncoderModel, options: AdapterOptions = {}, gates?: GateSet) {
    this.targetSparsity = options.targetSparsity ?? 0.4;
    if (!(this.targetSparsity >= 0 && this.targetSparsity < 1)) throw new Error(`target sparsity must be in [0, 1) (got ${this.targetSparsity})`);
    this.lambda = options.lambda ?? GATE_DEFAULTS.lambda;
    this.kurtosis = options.kurtosis ?? false;
    this.kurtosisTau = options.kurtosisTau ?? GATE_DEFAULTS.kurtosisTau;
    this.wantsLinearInputs = this.kurtosis;
    this.gates = gates ?? GateSet.create(model, { policy: options.policy ?? DEFAULT_POLICY, seed: options.seed ?? 0 });
    for (const [k, v] of this.gates.variables()) this.variables.set(k, v);
    for (const name of this.gates.names) {
      const b = biasOf(name);
      const t = model.params.get(b);
      // decoders (Llama, Qwen3, Mistral) have bias-free linears: the gates scale the weight alone
      if (!t && model.config.family === 'decoder') continue;
      if (!t) throw new Error(`model has no bias "${b}" for gated linear "${name}"`);
      const v = cloneVariable(t, b);
      this.biases.set(b, v);
      this.variables.set(b, v);
    }
  }

  beginStep(rng: Rng): void {
    this.endStep();
    this.noise = this.gates.sampleNoise(rng);
  }

  endStep(): void {
    if (this.noise) for (const g of this.noise.values()) tf.dispose([g.rows, g.cols]);
    this.noise = null;
  }

  trainView(): WeightView {
    if (!this.noise) throw new Error('FineGatesAdapter.trainView: call beginStep first');
    return gatedView(this.model.denseView, this.gates.trainingGates(this.noise), this.biases);
  }

  regularisation(linearInputs?: ReadonlyMap<string, Float32Array>): tf.Scalar | null {
    let kurt: Map<string, { rows: tf.Tensor; cols: tf.Tensor }> | undefined;
    if (this.kurtosis) {
      if (!linearInputs) throw new Error('kurtosis weighting needs the linears\' inputs');
      kurt = new Map();
      const open = this.gates.gateMap();
      for (const s of this.gates.specs) {
        const x = linearInputs.get(s.name);
        if (!x) throw new Error(`kurtosis weighting: no input recorded for "${s.name}"`);
        const w = this.model.params.get(s.name)!.dataSync() as Float32Array;
        const o = open.get(s.name)!;
        const k = kurtosisWeights(w, s.rows, s.cols, x, o.rows!, o.cols!, this.kurtosisTau);
        kurt.set(s.name, { rows: tf.tensor1d(k.rows), cols: tf.tensor1d(k.cols) });
      }
    }
    return tf.mul(this.gates.regulariser(this.targetSparsity, kurt), this.lambda) as tf.Scalar;
  }

  evalView(): WeightView {
    return gatedView(this.model.denseView, this.gates.evalGates(), this.biases);
  }

  numTrainable(): number {
    return sizeOf(this.variables);
  }

  dispose(): void {
    this.endStep();
    this.gates.dispose();
    for (const v of this.biases.values()) v.dispose();
    this.biases.clear();
    this.variables.clear();
  }
}

/** BitFit and full fine-tuning: a subset of the encoder's own parameters, trained in place of the originals. */
export class OverrideAdapter implements Adapter {
  readonly variables = new Map<string, tf.Variable>();
  readonly wantsLinearInputs = false;

  constructor(readonly method: 'bitfit' | 'full-ft', readonly model: EncoderModel) {
    const names = encoderParameterNames(model).filter((n) => method === 'full-ft' || n.endsWith('.bias'));
    for (const n of names) this.variables.set(n, cloneVariable(model.params.get(n)!, n));
  }

  beginStep(): void {}
  endStep(): void {}
  trainView(): WeightView {
    return overrideView(this.model.denseView, this.variables);
  }
  regularisation(): null {
    return null;
  }
  evalView(): WeightView {
    return overrideView(this.model.denseView, this.variables);
  }
  numTrainable(): number {
    return sizeOf(this.variables);
  }
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}

export class LoraAdapter implements Adapter {
  readonly method = 'lora' as const;
  readonly variables = new Map<string, tf.Variable>();
  readonly wantsLinearInputs = false;
  readonly lora = new Map<string, { a: tf.Variable; b: tf.Variable }>();
  readonly rank: number;

  constructor(readonly model: EncoderModel, options: AdapterOptions = {}) {
    this.rank = options.loraRank ?? 4;
    const targets = options.loraTargets ?? ['query', 'value'];
    const rng = createRng(options.seed ?? 0).fork('lora-init');
    for (let l = 0; l < model.config.numLayers; l++) {
      for (const kind of targets) {
        const name = layerNames(model.prefix, l).linear[kind].weight;
        const [out, inp] = model.params.get(name)!.shape as [number, number];
        // kaiming_uniform_(a = √5): bound = √(6 / ((1 + 5)·fan_in)) = 1/√fan_in
        const bound = 1 / Math.sqrt(inp);
        const a = tf.variable(rng.uniform([this.rank, inp], -bound, bound), true, `lora${counter++}/${name}.lora_A`);
        const b = tf.variable(tf.zeros([out, this.rank]), true, `lora${counter++}/${name}.lora_B`);
        this.lora.set(name, { a, b });
        this.variables.set(`${name}.lora_A`, a);
        this.variables.set(`${name}.lora_B`, b);
      }
    }
  }

  beginStep(): void {}
  endStep(): void {}
  trainView(): WeightView {
    return loraView(this.model.denseView, this.lora);
  }
  regularisation(): null {
    return null;
  }
  evalView(): WeightView {
    return loraView(this.model.denseView, this.lora);
  }
  numTrainable(): number {
    return sizeOf(this.variables);
  }
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
    this.lora.clear();
  }
}

export function createAdapter(method: Method, model: EncoderModel, options: AdapterOptions = {}): Adapter {
  switch (method) {
    case 'finegates':
      return new FineGatesAdapter(model, options);
    case 'lora':
      return new LoraAdapter(model, options);
    case 'bitfit':
    case 'full-ft':
      return new OverrideAdapter(method, model);
    default:
      throw new Error(`unknown method "${String(method)}" (expected ${METHODS.join(', ')})`);
  }
}
