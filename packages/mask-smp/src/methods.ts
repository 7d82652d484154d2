// SMP-L, SMP-S and their baselines as registry methods. `--sparsity` is the fraction removed, as for
// every method; SMP's keep fraction v_f is 1 − sparsity (rounded to 12 significant digits so that
// --sparsity 0.9 trains with exactly keep 0.1, as --keep 0.1 did).
import * as tf from '@tensorflow/tfjs-core';
import { defineMethod, seedOption, positiveIntOption, z, type MethodArtifact, type MethodContext, type MethodDefinition } from '@prunekit/tensor-core';
import { HEAD_VARIANTS } from './data.js';
import { trainSmp } from './run.js';
import { TASKS } from './tasks.js';
import { LAMBDA_SCALES, type LambdaScale, type PruneMethod } from './train.js';

const nonNegInt = (what: string, d: number): z.ZodDefault<z.ZodNumber> => z.number().int('must be an integer').min(0, 'must be ≥ 0').default(d).describe(what);
const positive = (what: string, d: number): z.ZodDefault<z.ZodNumber> => z.number().gt(0, 'must be > 0').default(d).describe(what);

const trainingOptions = {
  head: z.enum(HEAD_VARIANTS as unknown as [string, ...string[]]).default('first').describe("label-word head: first ([CLS], the paper and the authors' GLUE code) or prompt (a template's [MASK], LM-BFF style)"),
  labelWords: z.array(z.string().min(1)).optional().describe('one label word per class, in label order (comma list)'),
  template: z.string().optional().describe('prompt template with {text} or {sentence1}/{sentence2} and one [MASK]'),
  steps: positiveIntOption('total training steps (default: --epochs epochs)'),
  epochs: positiveIntOption('epochs when --steps is not given', 3),
  batchSize: positiveIntOption('examples per step', 32),
  maxLength: positiveIntOption('tokens per input', 128),
  maxTrain: positiveIntOption('subsample the training split to n examples (fixed seed)'),
  maxEval: positiveIntOption('subsample the evaluation split to n examples (fixed seed)'),
  evalSplit: z.enum(['eval-file', 'train-holdout']).default('eval-file').describe("what to evaluate on: eval-file (the task's evaluation split) or train-holdout (a dev split of --max-eval examples, default 872, carved from the training file, for choosing settings)"),
  weightLr: positive('learning rate of the weights (movement, magnitude-ft, full-ft)', 3e-5),
  seed: seedOption('seed of data order and dropout'),
  evalEvery: nonNegInt('evaluate every n steps (0: only at the end)', 0),
  checkpointEvery: nonNegInt('checkpoint every n steps into the work folder (0: never)', 50),
};

const pruningOptions = {
  sparsity: z.number().gt(0, 'must be > 0').lt(1, 'must be < 1').default(0.9).describe('fraction of the prunable weights removed; SMP keeps 1 − sparsity (0.9 keeps 0.1)'),
  finalHold: z.number().int('must be an integer').min(0, 'must be ≥ 0').optional().describe('steps at the end that hold the final keep fraction (default 30% of the steps)'),
};

const smpOptions = {
  lr: positive('learning rate of the scores', 2e-2),
  lambdaR: z.number().min(0, 'must be ≥ 0').default(400).describe('regulariser weight λ_R (SMP)'),
  lambdaScale: z.enum(LAMBDA_SCALES as unknown as [string, ...string[]]).default('paper').describe("paper: λ_R times mean σ(S) over all scores (the paper's, stronger per score on smaller models); per-score: λ_R scaled by N/N_BERT-base so each score feels the authors' BERT-base push"),
};

const schemas = {
  'smp-l': z.object({ ...pruningOptions, ...smpOptions, ...trainingOptions }),
  'smp-s': z.object({ ...pruningOptions, ...smpOptions, temperature: z.number().gt(0, 'must be > 0').optional().describe("SMP-S temperature p in R(S) = mean σ(S/p) (default: the authors' rule, 4 at keep ≥ 0.7, else 1)"), ...trainingOptions }),
  movement: z.object({ ...pruningOptions, lr: positive('learning rate of the scores', 2e-2), ...trainingOptions }),
  'magnitude-ft': z.object({ ...pruningOptions, ...trainingOptions }),
  'full-ft-mlm': z.object(trainingOptions),
};

type AnyOptions = z.output<(typeof schemas)['smp-l']> & z.output<(typeof schemas)['smp-s']>;

const DESCRIPTIONS: Record<keyof typeof schemas, string> = {
  'smp-l': 'Static Model Pruning, layer-wise: frozen weights, learned Top-v masks through the label-word head',
  'smp-s': 'Static Model Pruning with the sigmoid regulariser (global budget from the scores)',
  movement: 'baseline: movement pruning (scores and weights trained, local Top-v)',
  'magnitude-ft': 'baseline: magnitude pruning with fine-tuning (Top-v of |W| per matrix every step)',
  'full-ft-mlm': 'dense fine-tuning through the label-word head (the teacher for SMP distillation)',
};

/** keep = 1 − sparsity without the binary rounding residue (0.9 → 0.1, not 0.09999999999999998). */
export function keepFromSparsity(sparsity: number): number {
  return Number((1 - sparsity).toPrecision(12));
}

async function runSmpMethod(name: keyof typeof schemas, ctx: MethodContext<Partial<AnyOptions>>): Promise<MethodArtifact> {
  const o = ctx.options;
  const method: PruneMethod = name === 'full-ft-mlm' ? 'full-ft' : name;
  if (!ctx.data.dataRoot || !ctx.data.task) throw new Error(`method ${name} needs --data-root DIR and --task NAME (${Object.keys(TASKS).join(', ')})`);
  const t = await trainSmp({
    model: ctx.model, task: ctx.data.task, datasets: ctx.data.dataRoot, method, keep: o.sparsity === undefined ? 1 : keepFromSparsity(o.sparsity),
    head: o.head as 'first' | 'prompt', ...(o.labelWords ? { labelWords: o.labelWords } : {}), ...(o.template !== undefined ? { template: o.template } : {}),
    ...(o.steps ? { steps: o.steps } : {}), epochs: o.epochs!, batchSize: o.batchSize!, maxLength: o.maxLength!,
    ...(o.maxTrain ? { maxTrain: o.maxTrain } : {}), ...(o.maxEval ? { maxEval: o.maxEval } : {}), ...(o.evalSplit ? { evalSplit: o.evalSplit as 'eval-file' | 'train-holdout' } : {}),
    ...(o.lr !== undefined ? { scoreLr: o.lr } : {}), weightLr: o.weightLr!, ...(o.lambdaR !== undefined ? { lambdaR: o.lambdaR } : {}), ...(o.lambdaScale !== undefined ? { lambdaScale: o.lambdaScale as LambdaScale } : {}),
    ...(o.temperature !== undefined ? { temperature: o.temperature } : {}), ...(o.finalHold !== undefined ? { finalHold: o.finalHold } : {}),
    seed: o.seed!, evalEvery: o.evalEvery!, checkpointEvery: o.checkpointEvery!, workDir: ctx.workDir, keepWork: true,
    ...(ctx.data.teacher ? { teacher: ctx.data.teacher } : {}),
    onLog: ctx.log,
    onStep: (s, total) => { ctx.onProgress('training', s.step, total, `loss ${s.loss.toFixed(4)} keep ${s.kept.toFixed(3)}`); },
    onEval: (e) => { ctx.log(`eval at step ${e.step} (keep ${e.keep.toFixed(3)}): accuracy ${e.scores.accuracy.toFixed(4)}, mcc ${e.scores.mcc.toFixed(4)}, f1 ${e.scores.f1.toFixed(4)}`); },
  });
  const { model, result } = t;
  const maskT = result.masks ? result.masks.toTensors() : new Map<string, tf.Tensor>();
  const { final, ...describe } = t.describe;
  return {
    kind: result.masks ? 'pruned-model' : 'fine-tuned-model',
    model,
    // W ⊙ M (or the trained weights ⊙ M): the same weights the legacy model/ export held
    override: (n, w0) => {
      const w = result.weights?.get(n) ?? w0;
      const m = maskT.get(n);
      return m ? tf.mul(w, m) : w === w0 ? w0 : w.clone();
    },
    ...(result.masks ? { masks: result.masks } : {}),
    source: { fingerprint: t.describe.modelFingerprint, parameters: model.numParameters() },
    data: { task: { fingerprint: t.dataFingerprint, path: ctx.data.dataRoot } },
    metrics: { task: t.task.name, metric: t.task.metric, score: final.main, scores: final.scores, steps: t.steps, stepsRun: result.stepsRun, trainExamples: t.trainExamples, evalExamples: t.evalExamples },
    reports: { training: { ...describe, final, history: result.history, evals: result.evals, seconds: result.seconds } },
    summary: `${name} on ${t.task.name}: ${t.task.metric} ${final.main.toFixed(4)} after ${t.steps} steps${result.masks ? `, keeping ${(100 * (1 - result.masks.stats().sparsity)).toFixed(2)}% of the prunable weights (masked weights stored as zeros; the masked-LM head with label words ${t.labelWords.join('/')} is the classifier)` : ''}.`,
    dispose: () => {
      for (const m of maskT.values()) m.dispose();
      t.dispose();
    },
  };
}

/** SMP-L, SMP-S, movement, magnitude-ft and the label-word fine-tuning teacher, for a MethodRegistry. */
export const smpMethods: readonly MethodDefinition[] = (Object.keys(schemas) as (keyof typeof schemas)[]).map((name) =>
  defineMethod({
    name, description: DESCRIPTIONS[name], family: name === 'full-ft-mlm' ? 'fine-tuning' : 'mask-learning', options: schemas[name] as z.ZodObject,
    needs: { labelledTask: true, mlmHead: true, teacher: 'optional' },
    preflight: ({ data }) => {
      if (data.task !== undefined && !(data.task in TASKS)) {
        throw new Error(data.task === 'glue_stsb'
          ? "--task glue_stsb is a regression task; SMP's label-word head is a classifier (see packages/mask-smp/README.md)"
          : `--task: unknown task "${data.task}" (known: ${Object.keys(TASKS).join(', ')})`);
      }
      return [];
    },
    run: (ctx) => runSmpMethod(name, ctx as MethodContext<Partial<AnyOptions>>),
  }) as unknown as MethodDefinition,
);
