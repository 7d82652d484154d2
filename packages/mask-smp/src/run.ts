// One task end to end: model + tokenizer + data → trained masks (or weights) → an output folder,
// written atomically, holding masks.bin + masks.json (bit-packed masks and the manifest),
// metrics.json (training log and evaluations) and, optionally (always for full-ft), model/: an HF
// folder with the pruned (or fine-tuned) weights. A work folder keeps checkpoints to resume from.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { Tokenizer, createRng, loadModel, modelFingerprint, saveModel, writeDirAtomic, writeJsonAtomic, type EncoderModel } from '@prunekit/tensor-core';
import { encodeExamples, loadExamples, resolveLabelWords, type Example, type HeadVariant } from './data.js';
import { saveBitMasks, type BitMaskManifest } from './maskio.js';
import { resolveTask, type TaskSpec } from './tasks.js';
import { teacherLogits, trainMethod, type EvalLog, type StepLog, type TrainConfig, type TrainResult } from './train.js';

const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export interface RunOptions extends Omit<TrainConfig, 'steps' | 'workDir'> {
  /** a masked-LM model folder (BertForMaskedLM / RobertaForMaskedLM) */
  model: string;
  /** task name (see TASKS) */
  task: string;
  /** folder holding <task>/<split>.jsonl (the shared datasets' layout) */
  datasets: string;
  /** output folder (replaced atomically) */
  out: string;
  /** total steps (default: `epochs` epochs of the training set) */
  steps?: number;
  /** default 3 (used when steps is not given) */
  epochs?: number;
  /** 'first' ([CLS] position, default: the paper and the authors' GLUE code) or 'prompt' (a template's [MASK], LM-BFF style) */
  head?: HeadVariant;
  /** one word per label (no substitutes); default: the task's words */
  labelWords?: string[];
  template?: string;
  /** token limit per input (default 128) */
  maxLength?: number;
  /** subsample the training / evaluation sets to at most this many examples (fixed seed) */
  maxTrain?: number;
  maxEval?: number;
  /** seed of the subsampling (default 0, independent of the training seed) */
  subsampleSeed?: number;
  /**
   * What to evaluate on (default 'eval-file': the task's evaluation split). 'train-holdout': a dev
   * split carved from the training file (maxEval examples, default 872, chosen by a permutation
   * seeded "dev-holdout:0"; training then samples from the rest), for choosing settings without
   * looking at the reported evaluation split.
   */
  evalSplit?: 'eval-file' | 'train-holdout';
  /** a dense fine-tuned teacher: a full-ft output folder (uses its model/) or any MLM model folder */
  teacher?: string;
  /** also write model/ with the pruned weights (always for full-ft) */
  exportModel?: boolean;
  /** checkpoints (default <out>.work); removed after a successful run unless keepWork */
  workDir?: string;
  keepWork?: boolean;
  onLog?: (line: string) => void;
  onStep?: (log: StepLog, total: number) => void;
  onEval?: (log: EvalLog) => void;
}

export interface RunResult {
  out: string;
  task: TaskSpec;
  labelWords: string[];
  final: EvalLog;
  manifest: BitMaskManifest | null;
  /** bytes of the bit-packed masks and of the full fp32 model */
  maskBytes: number | null;
  modelBytes: number;
  trainExamples: number;
  evalExamples: number;
  steps: number;
  stepsRun: number;
  seconds: number;
}

/** The model folder a --teacher argument names: <dir>/model when it is a prunekit output folder. */
export function teacherFolder(dir: string): string {
  if (fs.existsSync(path.join(dir, 'model', 'config.json'))) return path.join(dir, 'model');
  if (fs.existsSync(path.join(dir, 'config.json'))) return dir;
  throw new Error(`teacher ${dir}: neither ${dir}/config.json nor ${dir}/model/config.json exists (give a model folder, e.g. the output of --method full-ft)`);
}

/**
 * A dev split carved from a training file: `devSize` examples by a permutation seeded
 * "dev-holdout:0" (fixed, so every setting is compared on the same dev set); the training examples
 * are at most `maxTrain` of the rest, chosen by a permutation seeded "subsample:<seed>". File order
 * is kept in both.
 */
export async function trainHoldout(file: string, task: TaskSpec, devSize: number, maxTrain: number | undefined, seed: number): Promise<{ train: Example[]; dev: Example[] }> {
  const all = await loadExamples(file, task);
  if (!(Number.isInteger(devSize) && devSize > 0 && devSize < all.length)) throw new Error(`${file}: a dev split of ${devSize} examples needs a training file with more than ${devSize} examples (it has ${all.length})`);
  const perm = createRng('dev-holdout:0').permutation(all.length);
  const dev = Array.from(perm.subarray(0, devSize)).sort((a, b) => a - b).map((i) => all[i]!);
  const rest = Array.from(perm.subarray(devSize)).sort((a, b) => a - b).map((i) => all[i]!);
  if (maxTrain === undefined || maxTrain >= rest.length) return { train: rest, dev };
  const pick = Array.from(createRng(`subsample:${seed}`).permutation(rest.length).subarray(0, maxTrain)).sort((a, b) => a - b);
  return { train: pick.map((i) => rest[i]!), dev };
}

/** A trained SMP run in memory: the model (with its MLM head), masks and/or trained weights, and what to record. */
export interface SmpTrained {
  model: EncoderModel;
  result: TrainResult;
  task: TaskSpec;
  labelWords: string[];
  /** settings, data and final evaluation (the manifest's description of the run) */
  describe: Record<string, unknown> & { final: EvalLog; modelFingerprint: string };
  trainExamples: number;
  evalExamples: number;
  steps: number;
  modelBytes: number;
  workDir: string;
  /** fingerprint of the training data (task, head, subsample, label words, teacher) */
  dataFingerprint: string;
  /** frees the model and the trained weights */
  dispose(): void;
}

/** Trains one SMP method (or baseline) in memory; checkpoints go to the work folder (default <out>.work). */
export async function trainSmp(opts: Omit<RunOptions, 'out'> & { out?: string }): Promise<SmpTrained> {
  const log = opts.onLog ?? (() => undefined);
  const task = resolveTask(opts.task, { labelWords: opts.labelWords, template: opts.template });
  const taskDir = path.join(opts.datasets, task.name);
  if (!fs.existsSync(taskDir)) throw new Error(`${taskDir} does not exist (--datasets should hold ${task.name}/${task.trainFile})`);
  const variant = opts.head ?? 'first';
  const maxLength = opts.maxLength ?? 128;
  const tokenizer = await Tokenizer.fromPretrained(opts.model);
  const labels = await resolveLabelWords(tokenizer, task);
  let trainEx: Example[];
  let evalEx: Example[];
  // a string: JavaScript callers can pass anything
  const evalSplit: string = opts.evalSplit ?? 'eval-file';
  if (evalSplit !== 'eval-file' && evalSplit !== 'train-holdout') throw new Error(`evalSplit must be 'eval-file' or 'train-holdout' (got "${evalSplit}")`);
  if (evalSplit === 'train-holdout') {
    ({ train: trainEx, dev: evalEx } = await trainHoldout(path.join(taskDir, task.trainFile), task, opts.maxEval ?? 872, opts.maxTrain, opts.subsampleSeed ?? 0));
  } else {
    trainEx = await loadExamples(path.join(taskDir, task.trainFile), task, { ...(opts.maxTrain ? { max: opts.maxTrain } : {}), seed: opts.subsampleSeed ?? 0 });
    evalEx = await loadExamples(path.join(taskDir, task.evalFile), task, { ...(opts.maxEval ? { max: opts.maxEval } : {}), seed: opts.subsampleSeed ?? 0 });
  }
  const train = await encodeExamples(tokenizer, task, trainEx, { variant, maxLength });
  const evalSet = await encodeExamples(tokenizer, task, evalEx, { variant, maxLength });
  log(`${task.name}: ${train.length} training and ${evalSet.length} evaluation examples; label words ${labels.words.join('/')}; head ${variant}`);
  const padId = tokenizer.specialIds.pad ?? 0;
  const model = loadModel(opts.model);
  let trainResult: TrainResult | null = null;
  try {
    let teacher: Float32Array | undefined;
    if (opts.teacher) {
      const tdir = teacherFolder(opts.teacher);
      const tm = loadModel(tdir);
      try {
        teacher = teacherLogits(tm, train, labels.ids, 64, padId);
      } finally {
        tm.dispose();
      }
      log(`teacher logits from ${tdir}`);
    }
    const bs = Math.min(opts.batchSize ?? 32, train.length);
    const steps = opts.steps ?? (opts.epochs ?? 3) * Math.floor(train.length / bs);
    const dataFp = createHash('sha256').update(JSON.stringify([task, variant, maxLength, opts.maxTrain ?? null, opts.subsampleSeed ?? 0, labels.ids, opts.teacher ? teacherFolder(opts.teacher) : null, ...(evalSplit === 'eval-file' ? [] : [evalSplit, opts.maxEval ?? 872])])).digest('hex').slice(0, 16);
    if (!opts.workDir && !opts.out) throw new Error('trainSmp needs workDir (or out)');
    const workDir = opts.workDir ?? `${path.resolve(opts.out!)}.work`;
    const { model: _m, task: _t, datasets: _d, out: _o, epochs: _e, head: _h, labelWords: _l, template: _tp, maxLength: _ml, maxTrain: _mt, maxEval: _me, subsampleSeed: _ss, teacher: _te, exportModel: _ex, workDir: _w, keepWork: _k, onLog: _ol, onStep: _os, onEval: _oe, evalSplit: _es, ...trainOpts } = opts;
    const config: TrainConfig = { ...trainOpts, steps, workDir, checkpointEvery: opts.checkpointEvery ?? 50 };
    trainResult = await trainMethod(model, { train, eval: evalSet, numClasses: task.labels.length, labelIds: labels.ids, metric: task.metric, padId, fingerprint: dataFp, ...(teacher ? { teacherLogits: teacher } : {}) }, config, {
      ...(opts.onStep ? { onStep: opts.onStep } : {}),
      ...(opts.onEval ? { onEval: opts.onEval } : {}),
      onCheckpoint: (s) => {
        log(`checkpoint at step ${s}`);
      },
      onWarning: (w) => {
        log(`warning: ${w}`);
      },
    });
    const result = trainResult;
    const modelBytes = model.numParameters() * 4;
    const describe = {
      method: opts.method,
      task: task.name,
      keep: opts.method === 'full-ft' ? 1 : opts.keep,
      keepDefinition: 'fraction of the prunable weights (Q, K, V, attention output, FFN up, FFN down) that are kept',
      head: { variant, labelWords: labels.words, labelIds: labels.ids, labels: task.labels, template: variant === 'prompt' ? task.template : null, maxLength },
      hyperparameters: { ...trainOpts, steps, distillation: teacher ? { temperature: opts.kdTemperature ?? 2, alpha: opts.kdAlpha ?? 0.5 } : null },
      regulariserCheck: result.regulariserCheck,
      data: {
        train: path.join(taskDir, task.trainFile), eval: evalSplit === 'eval-file' ? path.join(taskDir, task.evalFile) : `${path.join(taskDir, task.trainFile)} (held-out dev split, seed "dev-holdout:0")`, evalSplit,
        trainExamples: train.length, evalExamples: evalSet.length,
        subsample: opts.maxTrain || opts.maxEval ? `at most ${opts.maxTrain ?? 'all'} training / ${opts.maxEval ?? 'all'} evaluation examples, chosen by a permutation seeded "subsample:${opts.subsampleSeed ?? 0}", file order kept` : null,
      },
      metric: task.metric,
      final: result.final,
      baseModel: path.resolve(opts.model),
      modelFingerprint: modelFingerprint(model),
      modelBytes,
      packageVersions: { '@prunekit/mask-smp': version },
      createdAt: new Date().toISOString(),
    };
    return {
      model, result, task, labelWords: labels.words, describe, trainExamples: train.length, evalExamples: evalSet.length, steps, modelBytes, workDir, dataFingerprint: dataFp,
      dispose: () => {
        if (result.weights) for (const t of result.weights.values()) t.dispose();
        model.dispose();
      },
    };
  } catch (e) {
    if (trainResult?.weights) for (const t of trainResult.weights.values()) t.dispose();
    model.dispose();
    throw e;
  }
}

export async function runSmp(opts: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const trained = await trainSmp(opts);
  const { model, result, task, describe, steps, modelBytes, workDir } = trained;
  try {
    let manifest: BitMaskManifest | null = null;
    await writeDirAtomic(opts.out, async (dir) => {
      if (result.masks) {
        manifest = saveBitMasks(dir, result.masks, describe);
        writeJsonAtomic(path.join(dir, 'masks.json'), { ...manifest, maskToModelBytes: manifest.maskBytes / modelBytes });
      }
      writeJsonAtomic(path.join(dir, 'metrics.json'), { ...describe, history: result.history, evals: result.evals, seconds: result.seconds });
      if (opts.exportModel || opts.method === 'full-ft') await exportModel(model, result, path.join(dir, 'model'), opts.model, describe);
    });
    if (!opts.keepWork) fs.rmSync(workDir, { recursive: true, force: true });
    const m = manifest as BitMaskManifest | null;
    return {
      out: opts.out, task, labelWords: trained.labelWords, final: result.final, manifest: m, maskBytes: m ? m.maskBytes : null, modelBytes,
      trainExamples: trained.trainExamples, evalExamples: trained.evalExamples, steps, stepsRun: result.stepsRun, seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    trained.dispose();
  }
}

/** HF folder with W ⊙ M (or the trained weights ⊙ M) in place of each weight. */
async function exportModel(model: EncoderModel, result: TrainResult, dir: string, companions: string, describe: Record<string, unknown>): Promise<void> {
  const maskT = result.masks ? result.masks.toTensors() : new Map<string, tf.Tensor>();
  try {
    await saveModel(model, dir, {
      companionsFrom: companions,
      override: (name, t) => {
        const w = result.weights?.get(name) ?? t;
        const m = maskT.get(name);
        return m ? tf.mul(w, m) : w === t ? t : w.clone();
      },
      metadata: { pruned_by: `prunekit ${String(describe.method)}` },
      extraJson: { 'prunekit_smp.json': describe },
    });
  } finally {
    for (const t of maskT.values()) t.dispose();
  }
}

