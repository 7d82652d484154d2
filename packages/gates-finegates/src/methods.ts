// FineGates and its baselines (LoRA, BitFit, full fine-tuning) as registry methods. FineGates returns
// the compacted model (rows/columns its closed gates remove, physically gone) with its gates and the
// classification head; the baselines return the adapted dense model and the head.
import { createHash } from 'node:crypto';
import { defineMethod, seedOption, targetsOption, positiveIntOption, z, type HostTensor, type MethodArtifact, type MethodContext, type MethodDefinition } from '@prunekit/tensor-core';
import { FineGatesAdapter, type Method } from './adapters.js';
import { TASKS } from './data.js';
import { adaptedWeight, DEFAULT_LR, trainGates, withTrainedScoreHead, type GatesTrained } from './run.js';
import { DecoderScoreHead } from './head.js';

// The training run behind each artifact these methods return, for callers in the same process that
// measure the models before the artifact frees them (the bench times the compacted model against the
// dense one); a WeakMap so that the method contract stays what every method shares.
const trainedRuns = new WeakMap<MethodArtifact, GatesTrained>();

/**
 * The in-memory run (dense encoder, adapter, head, tokenised test set, compacted model) behind an
 * artifact that a method of `gatesMethods` returned; undefined for any other artifact. Valid until
 * the artifact's dispose(), which frees it.
 */
export function trainedGatesOf(artifact: MethodArtifact): GatesTrained | undefined {
  return trainedRuns.get(artifact);
}

const positive = (what: string): z.ZodOptional<z.ZodNumber> => z.number().gt(0, 'must be > 0').optional().describe(what);

const common = {
  steps: positiveIntOption('training steps', 300),
  batchSize: positiveIntOption('examples per step', 16),
  headLr: z.number().gt(0, 'must be > 0').default(1e-3).describe('learning rate of the classification head'),
  maxLength: positiveIntOption('tokens per input (longer inputs are truncated)', 128),
  maxTrain: positiveIntOption('train examples (a seeded random subset when the split is larger)', 4000),
  maxTest: positiveIntOption('test examples (a seeded random subset when the split is larger)', 1000),
  seed: seedOption('seed (initialisation, batches, dropout, gate noise)'),
  checkpointEvery: positiveIntOption('steps between checkpoints in the work folder', 50),
};

const schemas = {
  finegates: z.object({
    sparsity: z.number().gt(0, 'must be > 0').lt(1, 'must be < 1').default(0.4).describe('target fraction of gated rows/columns closed (removed)'),
    removeFraction: z.number().gt(0, 'must be > 0').lt(1, 'must be < 1').optional().describe("prunekit's matched-count finalisation: after training, close the open gates with the lowest θ until compaction removes at least this fraction of the attention + FFN parameters (unset: the paper's rule, a gate goes iff its evaluation value is 0)"),
    lr: positive('learning rate of the encoder-side parameters (default 1e-3)'),
    gateLr: positive("learning rate of the gate parameters (default: --lr, the paper's 1e-3)"),
    sparsityStartStep: z.number().int('must be a whole number').min(0, 'must be ≥ 0').default(0).describe("head warm-up: steps before the regulariser starts and the gates move (the authors' sparsity_start_epoch, in steps)"),
    freezeGatesInWarmup: z.boolean().default(true).describe('hold the gates still during the warm-up (false: only switch the regulariser off, as the authors\' code does)'),
    lambda: z.number().min(0, 'must be ≥ 0').default(50).describe('weight λ of the target-sparsity regulariser'),
    kurtosis: z.boolean().default(false).describe("kurtosis-weighted regulariser (the authors' --kurt)"),
    targets: targetsOption('attention+mlp', 'gated linears: attention+mlp, attention, mlp, or a list of query,key,value,attn_output,ffn_up,ffn_down'),
    ...common,
  }),
  lora: z.object({ lr: positive('learning rate of the LoRA factors (default 1e-3)'), loraRank: positiveIntOption('LoRA rank (on Q and V)', 4), ...common }),
  bitfit: z.object({ lr: positive('learning rate of the biases (default 1e-3)'), ...common }),
  'full-ft': z.object({ lr: positive('learning rate of all encoder weights (default 1e-4)'), ...common }),
};

type AnyOptions = Partial<z.output<(typeof schemas)['finegates']> & z.output<(typeof schemas)['lora']>>;

const DESCRIPTIONS: Record<Method, string> = {
  finegates: 'FineGates: learned stochastic row/column gates over frozen weights, then a physically smaller model',
  lora: 'baseline: LoRA (rank r on Q and V) with a classification head',
  bitfit: 'baseline: BitFit (biases only) with a classification head',
  'full-ft': 'baseline: dense fine-tuning with a classification head',
};

async function runGatesMethod(method: Method, ctx: MethodContext<AnyOptions>): Promise<MethodArtifact> {
  const o = ctx.options;
  if (!ctx.data.dataRoot || !ctx.data.task) throw new Error(`method ${method} needs --data-root DIR and --task NAME (${Object.keys(TASKS).join(', ')})`);
  const t = await trainGates({
    model: ctx.model, task: ctx.data.task, dataRoot: ctx.data.dataRoot, method, workDir: ctx.workDir,
    ...(o.sparsity !== undefined ? { sparsity: o.sparsity } : {}), ...(o.removeFraction !== undefined ? { removeFraction: o.removeFraction } : {}), steps: o.steps!, batchSize: o.batchSize!, headLr: o.headLr!,
    ...(o.lr !== undefined ? { lr: o.lr } : {}), ...(o.gateLr !== undefined ? { gateLr: o.gateLr } : {}),
    ...(o.sparsityStartStep !== undefined ? { sparsityStartStep: o.sparsityStartStep } : {}),
    ...(o.freezeGatesInWarmup !== undefined ? { freezeGatesInWarmup: o.freezeGatesInWarmup } : {}),
    ...(o.lambda !== undefined ? { lambda: o.lambda } : {}), kurtosis: o.kurtosis ?? false, ...(o.targets ? { targets: o.targets } : {}),
    ...(o.loraRank ? { loraRank: o.loraRank } : {}), maxLength: o.maxLength!, maxTrain: o.maxTrain!, maxTest: o.maxTest!, seed: o.seed!, checkpointEvery: o.checkpointEvery!,
    onProgress: ctx.onProgress,
  });
  try {
    const head = new Map<string, HostTensor>();
    for (const [n, v] of t.head.params) head.set(n, { dtype: 'F32', shape: [...v.shape], data: Float32Array.from(v.dataSync()) });
    const headFile = { tensors: head, metadata: { labels: JSON.stringify(t.labels) } };
    const source = { fingerprint: t.report.modelFingerprint, parameters: t.model.numParameters() };
    // the task selection: name, labels, split sizes and subsample note (the examples come from dataRoot/<task>/)
    const data = { task: { fingerprint: createHash('sha256').update(JSON.stringify([ctx.data.task, t.report.data, o.maxLength])).digest('hex').slice(0, 16), path: ctx.data.dataRoot } };
    const metrics = { task: ctx.data.task, ...t.metrics, trainable: t.trainable, lr: o.lr ?? DEFAULT_LR[method] };
    const reports = { training: { ...t.report } };
    const a = t.adapter;
    const remember = (artifact: MethodArtifact): MethodArtifact => {
      trainedRuns.set(artifact, t);
      return artifact;
    };
    if (a instanceof FineGatesAdapter) {
      const gates = a.gates.toHost({ method, task: ctx.data.task, targetSparsity: o.sparsity, modelFingerprint: t.report.modelFingerprint });
      const removal = t.removal!;
      const compacted = t.compacted!;
      const kept = `${removal.totalAfter.toLocaleString('en-US')} of ${removal.totalBefore.toLocaleString('en-US')} parameters kept`;
      const fin = t.finalisation;
      const finalised = fin ? ` prunekit's matched-count finalisation (--remove-fraction ${fin.target}) closed ${fin.extraClosed} more gates, the lowest θ first; the trained gates alone removed ${(100 * fin.removedByGates).toFixed(1)}%.` : '';
      return remember({
        kind: 'compacted-model',
        model: compacted,
        gates: { tensors: gates.tensors, metadata: { manifest: JSON.stringify({ ...gates.manifest, gates: undefined }), gates: JSON.stringify(gates.manifest.gates) } },
        // a decoder classifier's trained score head is in the model itself (score.weight, config.json's labels)
        ...(t.headInModel ? {} : { head: headFile }),
        source, data, metrics: { ...metrics, compactMaxDiff: t.compactMaxDiff, ...(fin ? { finalisation: fin } : {}) }, reports,
        sparsity: {
          definition: 'fraction of the attention + FFN linear parameters removed by compaction',
          total: removal.linearRemovedFraction,
          perMatrix: removal.layers.map((l, i) => ({ name: `layer ${i}`, numel: l.paramsBefore, kept: l.paramsAfter, sparsity: l.paramsBefore ? l.removed / l.paramsBefore : 0 })),
        },
        summary: t.headInModel
          ? `FineGates on ${ctx.data.task}: accuracy ${(100 * t.metrics.accuracy).toFixed(2)}%; closed gates removed ${(100 * removal.linearRemovedFraction).toFixed(1)}% of the attention + MLP parameters (${kept}); this folder holds the compacted sequence classifier with its trained score head (last non-pad token) and the task's labels in config.json.${finalised}`
          : `FineGates on ${ctx.data.task}: accuracy ${(100 * t.metrics.accuracy).toFixed(2)}%; closed gates removed ${(100 * removal.linearRemovedFraction).toFixed(1)}% of the attention + FFN parameters (${kept}); this folder holds the compacted encoder, the classification head is prunekit/head.safetensors.${finalised}`,
        dispose: () => { t.dispose(); },
      });
    }
    return remember({
      kind: 'fine-tuned-model',
      // a decoder classifier keeps its trained score head inside (score.weight, config.json's labels)
      model: t.head instanceof DecoderScoreHead ? withTrainedScoreHead(t.full, t.head, t.labels) : t.full,
      override: adaptedWeight(a),
      ...(t.headInModel ? {} : { head: headFile }),
      source, data, metrics, reports,
      summary: `${method} on ${ctx.data.task}: accuracy ${(100 * t.metrics.accuracy).toFixed(2)}% with ${t.trainable.total.toLocaleString('en-US')} trainable parameters; the adapted weights are merged into this folder, ${t.headInModel ? 'with the trained score head inside' : 'the classification head is prunekit/head.safetensors'}.`,
      dispose: () => { t.dispose(); },
    });
  } catch (e) {
    t.dispose();
    throw e;
  }
}

/** FineGates, LoRA, BitFit and full fine-tuning, for a MethodRegistry. */
export const gatesMethods: readonly MethodDefinition[] = (Object.keys(schemas) as Method[]).map((name) =>
  defineMethod({
    name, description: DESCRIPTIONS[name], family: name === 'finegates' ? 'gating' : 'fine-tuning', options: schemas[name] as z.ZodObject,
    needs: { labelledTask: true },
    preflight: ({ data, options }) => {
      if (data.task !== undefined && !TASKS[data.task]) throw new Error(`--task must be one of ${Object.keys(TASKS).join(', ')} (got "${data.task}")`);
      const o = options as AnyOptions;
      if (name !== 'finegates') return [];
      // θ starts near 1 and a gate is closed only below atanh(−0.5) ≈ −0.55; Adam moves θ by ≤ ~lr per step
      const gateLr = o.gateLr ?? o.lr ?? DEFAULT_LR.finegates;
      // the gates move only after the warm-up (when it holds them still)
      const steps = (o.steps ?? 300) - (o.freezeGatesInWarmup === false ? 0 : (o.sparsityStartStep ?? 0));
      return gateLr * steps < 1.6
        ? [`gate parameters can move at most ~${(gateLr * steps).toPrecision(2)} in ${steps} gate steps at gate lr ${gateLr}, but must move ~1.55 to close a gate: expect few or no closed rows/columns (raise --steps or --gate-lr, e.g. --gate-lr ${(5 / Math.max(1, steps)).toPrecision(2)})`]
        : [];
    },
    run: (ctx) => runGatesMethod(name, ctx as MethodContext<AnyOptions>),
  }) as unknown as MethodDefinition,
);
