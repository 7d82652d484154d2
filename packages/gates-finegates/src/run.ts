// End to end: a model folder and a classification task → a trained adaptation (FineGates or a
// baseline) → evaluation → for FineGates the compacted model → one atomic output folder:
//   model/            FineGates: the compacted model (prunekit form); baselines: the adapted weights
//   head.safetensors  the classification head (classifier.dense.*, classifier.out_proj.*)
//   gates/            FineGates: gates.safetensors + gates.json
//   report.json       settings, data, metrics, trainable parameters, removal per layer, losses
//   report.md         the same for people
// Training checkpoints go to a work folder (default <out>.work); rerunning the same command resumes.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  EncoderModel, loadModel, modelFingerprint, parsePolicy, saveCompacted, saveModel, Tokenizer, writeDirAtomic, writeJsonAtomic, writeSafetensors,
  type HostTensor,
} from '@prunekit/tensor-core';
import { createAdapter, FineGatesAdapter, LoraAdapter, METHODS, OverrideAdapter, type Adapter, type Method } from './adapters.js';
import { closeGatesToRemoval, compactGated, formatRemoval, type RemovalMatch, type RemovalReport } from './compact.js';
import { initialThetaClosedAuc, type GateStats } from './gates.js';
import { disposeBatch, loadTask, makeBatch, tokenize, TASKS, type LoadedTask, type TaskSpec } from './data.js';
import { ClassificationHead, DecoderScoreHead, type TaskHead } from './head.js';
import { classificationMetrics, predict, trainClassifier, type Metrics, type StepInfo } from './train.js';

export interface RunGatesOptions {
  /** HF model folder (with tokenizer) */
  model: string;
  /** a task of TASKS under dataRoot, or a TaskSpec whose files live in dataRoot/<name>/ */
  task: string | TaskSpec;
  dataRoot: string;
  out: string;
  method: Method;
  /** FineGates target sparsity (default 0.4) */
  sparsity?: number;
  /**
   * FineGates matched-count finalisation (prunekit's): after training, close the open gates with the
   * lowest θ until compaction removes at least this fraction of the attention + FFN linear parameters.
   * Unset: the paper's rule only (a gate is removed iff its evaluation value is 0).
   */
  removeFraction?: number;
  steps?: number;
  batchSize?: number;
  /** lr of the encoder-side variables (default 1e-3; full-ft 1e-4) */
  lr?: number;
  /** head lr (default 1e-3) */
  headLr?: number;
  /** FineGates gate lr (default: lr, i.e. the paper's 1e-3) */
  gateLr?: number;
  /** FineGates head warm-up: steps before the regulariser starts (and the gates move); default 0 */
  sparsityStartStep?: number;
  /** hold the gates still during the warm-up (default true; false = the authors' λ = 0 only) */
  freezeGatesInWarmup?: boolean;
  lambda?: number;
  kurtosis?: boolean;
  /** gated linears: attention+mlp (default), attention, mlp, or a list of kinds */
  targets?: string;
  loraRank?: number;
  maxLength?: number;
  maxTrain?: number;
  maxTest?: number;
  seed?: number;
  workDir?: string;
  checkpointEvery?: number;
  /** a loaded task, when the caller already has it (bench) */
  loaded?: LoadedTask;
  onProgress?: (stage: string, done: number, total: number, detail?: string) => void;
  /** keep the trained/compacted models in the result (the caller disposes them) */
  keepModels?: boolean;
}

export interface RunGatesResult {
  out: string;
  method: Method;
  task: string;
  metrics: Metrics;
  /** trainable parameters: encoder-side + head */
  trainable: { adapter: number; head: number; total: number };
  /** FineGates only */
  removal?: RemovalReport;
  /** FineGates only: max |logits(compacted) − logits(gated)| over the test set */
  compactMaxDiff?: number;
  /** FineGates only: gate statistics at the end */
  gateStats?: ReturnType<FineGatesAdapter['gates']['stats']>;
  /** FineGates only: AUC of the initial θ as a predictor of the closed gates (near 1: closed by their random start) */
  initialThetaAuc?: number;
  /** FineGates with removeFraction: what the matched-count finalisation closed */
  finalisation?: RemovalMatch;
  losses: number[];
  resumedFrom: number;
  seconds: number;
  dataNote: string;
  /** with keepModels: the dense encoder, the compacted one (FineGates), tokenised test set */
  models?: {
    dense: EncoderModel; full: EncoderModel; test: Awaited<ReturnType<typeof tokenize>>; padId: number;
    /** the saved compacted model, and the same without gathered inputs (closed residual columns kept as zeros) */
    compacted?: EncoderModel; compactedNoGather?: EncoderModel;
  };
}

export const DEFAULT_LR: Readonly<Record<Method, number>> = { finegates: 1e-3, lora: 1e-3, bitfit: 1e-3, 'full-ft': 1e-4 };

function fingerprintOf(o: Omit<RunGatesOptions, 'out'> & { out?: string }, modelFp: string): string {
  const { onProgress: _p, loaded: _l, out: _o, workDir: _w, keepModels: _k, checkpointEvery: _c, ...rest } = o;
  return JSON.stringify({ ...rest, task: typeof o.task === 'string' ? o.task : o.task.name, modelFp });
}

/** The encoder of a loaded folder without its MLM / classification head (shares the tensors). */
export function encoderOf(full: EncoderModel): EncoderModel {
  return new EncoderModel({ ...full.config, head: 'base' }, full.params, full.prefix);
}

/** A trained gates/adapter run in memory (the caller disposes it). */
export interface GatesTrained {
  /** the loaded folder (with its MLM head when it had one) and its encoder view (shares tensors) */
  full: EncoderModel;
  model: EncoderModel;
  adapter: Adapter;
  /** the task head: a new RoBERTa-style head on the first token (encoders), or a decoder classifier's own score head */
  head: TaskHead;
  /** the head is the decoder's own score head: it lives inside `compacted` (score.weight), not beside it */
  headInModel: boolean;
  labels: string[];
  metrics: Metrics;
  trainable: RunGatesResult['trainable'];
  removal?: RemovalReport;
  compactMaxDiff?: number;
  gateStats?: RunGatesResult['gateStats'];
  initialThetaAuc?: number;
  finalisation?: RemovalMatch;
  compacted?: EncoderModel;
  compactedNoGather?: EncoderModel;
  test: Awaited<ReturnType<typeof tokenize>>;
  padId: number;
  losses: number[];
  resumedFrom: number;
  dataNote: string;
  workDir: string;
  /** the settings, data and results that report.json records */
  report: Parameters<typeof reportMarkdown>[0] & { modelFingerprint: string; losses: number[] } & Record<string, unknown>;
  /** frees everything above except what `keep` names */
  dispose(keep?: { models?: boolean }): void;
}

/** Trains one method (FineGates or a baseline), evaluates it and, for FineGates, compacts it, in memory. */
export async function trainGates(o: Omit<RunGatesOptions, 'out'> & { out?: string }): Promise<GatesTrained> {
  const t0 = performance.now();
  if (!METHODS.includes(o.method)) throw new Error(`unknown method "${o.method as string}" (expected ${METHODS.join(', ')})`);
  const sparsity = o.sparsity ?? 0.4;
  if (o.method === 'finegates' && !(sparsity > 0 && sparsity < 1)) throw new Error(`--sparsity must be in (0, 1) (got ${sparsity})`);
  if (o.removeFraction !== undefined && o.method !== 'finegates') throw new Error(`--remove-fraction is a FineGates finalisation (method ${o.method} has no gates)`);
  if (o.removeFraction !== undefined && !(o.removeFraction > 0 && o.removeFraction < 1)) throw new Error(`--remove-fraction must be in (0, 1) (got ${o.removeFraction})`);
  const steps = o.steps ?? 300;
  const batchSize = o.batchSize ?? 16;
  const seed = o.seed ?? 0;
  const maxLength = o.maxLength ?? 128;
  const lr = o.lr ?? DEFAULT_LR[o.method];
  const progress = o.onProgress ?? (() => undefined);
  const taskName = typeof o.task === 'string' ? o.task : o.task.name;
  if (typeof o.task === 'string' && !TASKS[o.task]) throw new Error(`unknown task "${o.task}" (known: ${Object.keys(TASKS).join(', ')})`);

  const task = o.loaded ?? loadTask(o.dataRoot, o.task, { maxTrain: o.maxTrain ?? 4000, maxTest: o.maxTest ?? 1000, seed: 0 });
  const full = loadModel(o.model);
  const model = encoderOf(full);
  let adapter: Adapter | null = null;
  let head: TaskHead | null = null;
  let compacted: EncoderModel | undefined;
  let compactedNoGather: EncoderModel | undefined;
  try {
    const tokenizer = await Tokenizer.fromPretrained(o.model);
    // a decoder ...ForSequenceClassification trains its own score head (last non-pad token: FineGates' Llama setting)
    const headInModel = full.config.family === 'decoder' && full.config.head === 'cls';
    const padId = headInModel ? decoderPadId(o.model, full, tokenizer) : tokenizer.specialIds.pad ?? 0;
    const paddingSide = headInModel ? tokenizer.paddingSide : 'right';
    progress('tokenise', 0, 1);
    const train = await tokenize(tokenizer, task.train, task.labels, maxLength);
    const test = await tokenize(tokenizer, task.test, task.labels, maxLength);
    progress('tokenise', 1, 1, `${train.size} train, ${test.size} test`);

    adapter = createAdapter(o.method, model, {
      targetSparsity: sparsity, seed, kurtosis: o.kurtosis ?? false,
      ...(o.lambda !== undefined ? { lambda: o.lambda } : {}),
      ...(o.targets ? { policy: parsePolicy(o.targets) } : {}),
      ...(o.loraRank ? { loraRank: o.loraRank } : {}),
    });
    head = headInModel
      ? DecoderScoreHead.fromModel(full, task.labels.length, { seed })
      : ClassificationHead.create(model.config.hiddenSize, task.labels.length, { seed, initStd: model.config.raw.initializer_range as number | undefined ?? 0.02 });
    const initialTheta = adapter instanceof FineGatesAdapter ? adapter.gates.theta() : undefined;
    const fp = fingerprintOf(o, modelFingerprint(full));
    if (!o.workDir && !o.out) throw new Error('trainGates needs workDir (or out)');
    const workDir = o.workDir ?? `${o.out!}.work`;
    const tr = trainClassifier(model, adapter, head, train, {
      steps, batchSize, lr, headLr: o.headLr ?? 1e-3, ...(o.gateLr !== undefined ? { gateLr: o.gateLr } : {}), seed, padId, paddingSide,
      ...(o.sparsityStartStep !== undefined ? { sparsityStartStep: o.sparsityStartStep } : {}),
      ...(o.freezeGatesInWarmup !== undefined ? { freezeGatesInWarmup: o.freezeGatesInWarmup } : {}),
      checkpointDir: workDir, checkpointEvery: o.checkpointEvery ?? 50, fingerprint: fp,
      onStep: (s: StepInfo) => {
        const sp = s.expectedSparsity !== undefined ? ` expected sparsity ${(100 * s.expectedSparsity).toFixed(1)}% closed ${(100 * (s.closedSparsity ?? 0)).toFixed(1)}%` : '';
        progress('train', s.step, s.steps, `loss ${s.loss.toFixed(4)} (task ${s.taskLoss.toFixed(4)}${s.regulariser ? `, reg ${s.regulariser.toFixed(4)}` : ''})${sp}`);
      },
    });

    // a decoder classifier is compacted whole, with the trained score head and the task's labels in config.json
    const compactSource = (): EncoderModel => (head instanceof DecoderScoreHead ? withTrainedScoreHead(full, head, task.labels) : model);
    let finalisation: RemovalMatch | undefined;
    if (o.removeFraction !== undefined && adapter instanceof FineGatesAdapter) {
      progress('finalise', 0, 1);
      finalisation = closeGatesToRemoval(compactSource(), adapter, o.removeFraction);
      progress('finalise', 1, 1, `${finalisation.extraClosed} more gates closed (lowest θ): ${(100 * finalisation.removedByGates).toFixed(1)}% → ${(100 * finalisation.removed).toFixed(1)}% of attention+FFN parameters removed`);
    }

    progress('evaluate', 0, 1);
    const pred = predict(model, adapter, head, test, padId, 64, paddingSide);
    const metrics = classificationMetrics(pred, test.labels, task.labels.length);
    progress('evaluate', 1, 1, `accuracy ${(100 * metrics.accuracy).toFixed(2)}%`);

    let removal: RemovalReport | undefined;
    let compactMaxDiff: number | undefined;
    let gateStats: RunGatesResult['gateStats'];
    let initialThetaAuc: number | undefined;
    if (adapter instanceof FineGatesAdapter) {
      initialThetaAuc = initialThetaClosedAuc(initialTheta!, adapter.gates);
      progress('compact', 0, 1);
      const source = compactSource();
      const c = compactGated(source, adapter);
      compacted = c.model;
      removal = c.report;
      gateStats = adapter.gates.stats();
      compactMaxDiff = maxLogitDiff(model, adapter, c.model, head, test, padId, paddingSide);
      if (o.keepModels) compactedNoGather = compactGated(source, adapter, { gatherInputs: false }).model;
      progress('compact', 1, 1, `${(100 * removal.linearRemovedFraction).toFixed(1)}% of attention+FFN parameters removed, ${(100 * removal.totalRemovedFraction).toFixed(1)}% of the whole model; gates closed/half-open/open ${gateStats.gates.closed}/${gateStats.gates.halfOpen}/${gateStats.gates.open}`);
    }

    const trainable = { adapter: adapter.numTrainable(), head: head.numParameters(), total: adapter.numTrainable() + head.numParameters() };
    const seconds = (performance.now() - t0) / 1000;
    const report = {
      method: o.method, task: taskName, model: path.resolve(o.model), modelFingerprint: modelFingerprint(full),
      head: head instanceof DecoderScoreHead ? { kind: 'decoder-score', name: head.weightName, token: 'last non-pad', paddingSide, fromFolder: head.fromFolder } : { kind: 'first-token', name: 'classifier' },
      settings: { sparsity: o.method === 'finegates' ? sparsity : null, steps, batchSize, lr, headLr: o.headLr ?? 1e-3, gateLr: o.method === 'finegates' ? (o.gateLr ?? lr) : null, sparsityStartStep: o.method === 'finegates' ? (o.sparsityStartStep ?? 0) : null, freezeGatesInWarmup: o.method === 'finegates' && (o.sparsityStartStep ?? 0) > 0 ? (o.freezeGatesInWarmup ?? true) : null, lambda: o.method === 'finegates' ? (o.lambda ?? 50) : null, kurtosis: o.kurtosis ?? false, targets: o.targets ?? 'attention+mlp', maxLength, seed, weightDecay: 0, schedule: 'constant' },
      data: { labels: task.labels, train: train.size, test: test.size, note: task.note },
      metrics, trainable, gateStats: gateStats ?? null, initialThetaAuc: initialThetaAuc ?? null, removal: removal ?? null, compactMaxDiff: compactMaxDiff ?? null, finalisation: finalisation ?? null,
      losses: tr.losses, resumedFrom: tr.resumedFrom, seconds,
    };
    const a = adapter;
    const h = head;
    const c = compacted;
    const cng = compactedNoGather;
    return {
      full, model, adapter: a, head: h, headInModel, labels: task.labels, metrics, trainable, test, padId, losses: tr.losses, resumedFrom: tr.resumedFrom, dataNote: task.note, workDir, report,
      ...(removal ? { removal } : {}), ...(compactMaxDiff !== undefined ? { compactMaxDiff } : {}), ...(gateStats ? { gateStats } : {}),
      ...(initialThetaAuc !== undefined ? { initialThetaAuc } : {}), ...(finalisation ? { finalisation } : {}),
      ...(c ? { compacted: c } : {}), ...(cng ? { compactedNoGather: cng } : {}),
      dispose: (keep = {}) => {
        a.dispose();
        h.dispose();
        if (!keep.models) {
          c?.dispose();
          cng?.dispose();
          full.dispose();
        }
      },
    };
  } catch (e) {
    adapter?.dispose();
    head?.dispose();
    compacted?.dispose();
    compactedNoGather?.dispose();
    full.dispose();
    throw e;
  }
}

export async function runGates(o: RunGatesOptions): Promise<RunGatesResult> {
  const t0 = performance.now();
  const progress = o.onProgress ?? (() => undefined);
  const t = await trainGates(o);
  const { full, model, adapter: a, head: h, compacted, compactedNoGather, removal, compactMaxDiff, gateStats, metrics, trainable, report, workDir, test, padId } = t;
  const taskName = typeof o.task === 'string' ? o.task : o.task.name;
  const sparsity = o.sparsity ?? 0.4;
  let keep = false;
  try {
    progress('save', 0, 1);
    await writeDirAtomic(o.out, async (dir) => {
      if (a instanceof FineGatesAdapter) {
        await saveCompacted(compacted!, path.join(dir, 'model'), { companionsFrom: o.model });
        a.gates.save(path.join(dir, 'gates'), { method: 'finegates', task: taskName, targetSparsity: sparsity, modelFingerprint: report.modelFingerprint });
      } else {
        await saveModel(full, path.join(dir, 'model'), { companionsFrom: o.model, override: adaptedWeight(a) });
      }
      const host = new Map<string, HostTensor>();
      for (const [n, v] of h.params) host.set(n, { dtype: 'F32', shape: [...v.shape], data: Float32Array.from(v.dataSync()) });
      writeSafetensors(path.join(dir, 'head.safetensors'), host, { labels: JSON.stringify(t.labels) });
      const timedReport = { ...report, seconds: (performance.now() - t0) / 1000 };
      writeJsonAtomic(path.join(dir, 'report.json'), timedReport);
      fs.writeFileSync(path.join(dir, 'report.md'), reportMarkdown(timedReport, removal));
    });
    fs.rmSync(workDir, { recursive: true, force: true });
    progress('save', 1, 1, o.out);
    const result: RunGatesResult = { out: o.out, method: o.method, task: taskName, metrics, trainable, losses: t.losses, resumedFrom: t.resumedFrom, seconds: (performance.now() - t0) / 1000, dataNote: t.dataNote };
    if (removal) result.removal = removal;
    if (compactMaxDiff !== undefined) result.compactMaxDiff = compactMaxDiff;
    if (gateStats) result.gateStats = gateStats;
    if (t.initialThetaAuc !== undefined) result.initialThetaAuc = t.initialThetaAuc;
    if (t.finalisation) result.finalisation = t.finalisation;
    if (o.keepModels) {
      keep = true;
      result.models = { dense: model, full, test, padId, ...(compacted ? { compacted } : {}), ...(compactedNoGather ? { compactedNoGather } : {}) };
    }
    return result;
  } finally {
    t.dispose({ models: keep });
  }
}

/** Saving a baseline: the weights its view uses (merged LoRA, trained biases, fine-tuned weights). */
export function adaptedWeight(a: Adapter): (name: string, t: tf.Tensor) => tf.Tensor {
  return (name, t) => {
    if (a instanceof OverrideAdapter) return a.variables.get(name)?.clone() ?? t;
    if (a instanceof LoraAdapter) {
      const ab = a.lora.get(name);
      return ab ? tf.tidy(() => tf.add(t, tf.matMul(ab.b, ab.a))) : t;
    }
    return t;
  };
}

/** The decoder classifier's pad id: config.json pad_token_id, which must be the tokenizer's pad token (transformers finds the last real token with it). */
function decoderPadId(dir: string, full: EncoderModel, tokenizer: Tokenizer): number {
  const cfgPad = full.config.padTokenId;
  const tokPad = tokenizer.specialIds.pad;
  if (cfgPad < 0) throw new Error(`${path.join(dir, 'config.json')}: field "pad_token_id" is missing; a sequence classifier finds each row's last real token with it (set it to the tokenizer's pad token id${tokPad !== undefined ? `, ${tokPad}` : ''})`);
  if (tokPad !== undefined && tokPad !== cfgPad) throw new Error(`${path.join(dir, 'config.json')}: field "pad_token_id" is ${cfgPad} but the tokenizer pads with id ${tokPad}; they must be the same token`);
  return cfgPad;
}

/** The decoder classifier with the trained score head in place of its own, and config.json's labels set to the task's. */
export function withTrainedScoreHead(full: EncoderModel, head: DecoderScoreHead, labels: readonly string[]): EncoderModel {
  const params = new Map(full.params);
  params.set(head.weightName, head.params.get(head.weightName)!);
  const id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  const raw: Record<string, unknown> = { ...full.config.raw, id2label, label2id };
  delete raw.num_labels;
  return new EncoderModel({ ...full.config, raw, numLabels: labels.length }, params, full.prefix);
}

function maxLogitDiff(model: EncoderModel, adapter: FineGatesAdapter, small: EncoderModel, head: TaskHead, set: Awaited<ReturnType<typeof tokenize>>, padId: number, paddingSide: 'left' | 'right' = 'right'): number {
  let max = 0;
  for (let i = 0; i < set.size; i += 64) {
    const idx = Int32Array.from({ length: Math.min(64, set.size - i) }, (_, k) => i + k);
    const b = makeBatch(set, idx, padId, paddingSide);
    try {
      const d = tf.tidy(() => {
        const inputs = { inputIds: b.inputIds, attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds };
        const g = head.forward(model.forward(inputs, { view: adapter.evalView() }).lastHiddenState, { inputIds: b.inputIds });
        // a compacted decoder classifier computes its own logits (score head inside)
        const out = small.forward(inputs);
        const c = small.config.head === 'cls' && out.logits ? out.logits : head.forward(out.lastHiddenState, { inputIds: b.inputIds });
        return tf.max(tf.abs(tf.sub(g, c)));
      });
      max = Math.max(max, d.dataSync()[0]!);
      d.dispose();
    } finally {
      disposeBatch(b);
    }
  }
  return max;
}

function reportMarkdown(r: { method: string; task: string; metrics: Metrics; trainable: { adapter: number; head: number; total: number }; data: { note: string }; settings: Record<string, unknown>; compactMaxDiff: number | null; seconds: number; gateStats?: GateStats | null; initialThetaAuc?: number | null }, removal?: RemovalReport): string {
  const lines = [
    `# ${r.method} on ${r.task}`, '',
    `- accuracy ${(100 * r.metrics.accuracy).toFixed(2)}%, MCC ${r.metrics.mcc.toFixed(4)}, macro-F1 ${(100 * r.metrics.macroF1).toFixed(2)}%`,
    `- trainable parameters: ${r.trainable.total} (${r.trainable.adapter} encoder-side + ${r.trainable.head} head)`,
    `- data: ${r.data.note}`,
    `- settings: ${JSON.stringify(r.settings)}`,
    `- wall time ${r.seconds.toFixed(1)} s`,
  ];
  if (removal) {
    lines.push(`- removed: ${(100 * removal.totalRemovedFraction).toFixed(2)}% of the whole model (${removal.totalBefore} → ${removal.totalAfter} parameters), ${(100 * removal.linearRemovedFraction).toFixed(2)}% of attention+FFN (${removal.linearBefore} → ${removal.linearAfter})`);
  }
  if (r.gateStats) {
    const g = r.gateStats.gates;
    lines.push(`- row/column gates (evaluation value z = clamp(tanh θ + 0.5, 0, 1)): ${g.closed} closed (z = 0), ${g.halfOpen} half-open (0 < z < 1), ${g.open} open (z = 1) of ${g.total}`);
  }
  if (r.initialThetaAuc !== undefined && r.initialThetaAuc !== null) {
    lines.push(`- AUC of the initial θ as a predictor of the closed gates: ${Number.isNaN(r.initialThetaAuc) ? 'n/a (no gate closed, or all did)' : r.initialThetaAuc.toFixed(3)} (near 1: gates closed by their random start, not by the task)`);
  }
  if (removal) {
    lines.push(`- compacted model: max |logit difference| to the gated model ${r.compactMaxDiff?.toExponential(2)}`, '', '## Parameters removed per layer', '', formatRemoval(removal));
  }
  return `${lines.join('\n')}\n`;
}
