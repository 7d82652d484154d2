// `prunekit prune --method M`: every method (GAPrune and its baselines, SMP, FineGates and their
// baselines, and any plugin's) through the one MethodRegistry: flags and --help come from each
// method's zod option schema, the method returns an in-memory artifact, and writeArtifact writes the
// one prunekit layout (HF folder + prunekit/manifest.json + masks or gates + head).
//  (`prunekit score`, the gradient statistics alone: score.ts)
//  retrain: N steps of InfoNCE on domain data for a pruned folder, its masks held fixed.
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import {
  MaskSet, MethodOptionError, claimOutput, SentenceEncoder, initBackend, methodHelp, modelFingerprint, optionSpecs, parseMethodOptions, readManifest, writeArtifact,
  type MethodDefinition, type MethodRegistry, type OptionSpec,
} from '@prunekit/tensor-core';
import {
  STRUCTURED_ALLOCATIONS, loadGradStats, parseStructure, readTriplets, retrainMasked, runStructuredPrune, tripletsFingerprint,
  type DistillLoss, type FisherNormalisation, type Rescale, type ScoringMethod, type StructuredAllocation,
} from '@prunekit/scoring-fisher';
import type { CliContext } from '../util/context.js';
import { CliError, collect, positiveInt } from '@prunekit/cli-support';
import { printJson, warn } from '@prunekit/cli-support';
import { stageProgress } from '@prunekit/cli-support';

export function existingDir(flag: string, dir: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(`${flag} ${dir}: not a folder`);
  return dir;
}

/** prune's own flags (every method's options are added beside them and may not reuse these names). */
interface PipelineFlags {
  keep?: string;
  model: string;
  out: string;
  method: string;
  domain?: string;
  general?: string;
  domainStats?: string;
  generalStats?: string;
  dataRoot?: string;
  task?: string;
  teacher?: string;
  workDir?: string;
  plugin?: string[];
  force?: boolean;
  json?: boolean;
}
const PIPELINE_KEYS = new Set(['force', 'model', 'out', 'method', 'domain', 'general', 'domainStats', 'generalStats', 'dataRoot', 'task', 'teacher', 'workDir', 'plugin', 'json', 'help', 'keep']);

/** One flag per option key across all methods; the same key must be a flag or take a value in every method. */
function methodFlags(methods: readonly MethodDefinition[]): Map<string, { spec: OptionSpec; methods: string[] }> {
  const flags = new Map<string, { spec: OptionSpec; methods: string[] }>();
  for (const def of methods) {
    for (const spec of optionSpecs(def.options)) {
      if (PIPELINE_KEYS.has(spec.key)) throw new CliError(`method ${def.name}: option ${spec.flag} clashes with prunekit prune's own flag of that name`);
      const seen = flags.get(spec.key);
      if (!seen) flags.set(spec.key, { spec, methods: [def.name] });
      else if ((seen.spec.type === 'boolean') !== (spec.type === 'boolean')) {
        throw new CliError(`method ${def.name}: option ${spec.flag} is ${spec.type === 'boolean' ? 'a switch' : 'a value'} but method ${seen.methods[0]!} declares it the other way`);
      } else seen.methods.push(def.name);
    }
  }
  return flags;
}

/** The --method value in argv (for `prune --method X --help`). */
function methodInArgv(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--method') return argv[i + 1];
    if (argv[i]!.startsWith('--method=')) return argv[i]!.slice('--method='.length);
  }
  return undefined;
}

function methodsHelp(registry: MethodRegistry, only?: string): string {
  const defs = only && registry.has(only) ? [registry.get(only)] : registry.list();
  return [
    '',
    'Every method takes --sparsity as the fraction REMOVED (SMP keeps 1 - sparsity; FineGates closes that fraction of gated rows/columns).',
    'Data flags by need: domainTriplets --domain, generalTriplets --general, labelledTask --data-root + --task, teacher --teacher.',
    only && registry.has(only) ? `\nMethod ${only}:` : '\nMethods (prunekit prune --method NAME --help shows one):',
    ...defs.map((d) => `\n${methodHelp(d, '    ')}`.replace(/^\n/, '\n  ')),
    '',
  ].join('\n');
}

export function registerPrune(program: Command, ctx: CliContext): void {
  const registry = ctx.methods;
  const flags = methodFlags(registry.list());
  const cmd = program
    .command('prune')
    .description('prune or adapt a model with any registered method; writes a HF model folder + prunekit/manifest.json (+ masks or gates and head)')
    .requiredOption('--model <dir>', 'source model folder (HF / sentence-transformers; MLM checkpoints for SMP); never modified')
    .requiredOption('--out <dir>', 'output artifact folder (written atomically)')
    .option('--method <name>', `method: ${registry.names().join(', ')}`, 'gaprune')
    .option('--domain <file>', 'domain triplets jsonl {query, positive, negative?} (GAPrune and the scoring baselines)')
    .option('--general <file>', 'general triplets jsonl {query, positive, negative?} (gaprune, fisher-general)')
    .option('--domain-stats <file>', 'domain gradient statistics from `prunekit score` (or merged shards) instead of computing them from --domain')
    .option('--general-stats <file>', 'general gradient statistics from `prunekit score` (or merged shards) instead of computing them from --general')
    .option('--data-root <dir>', 'datasets root holding <task>/<split>.jsonl (SMP, FineGates and their baselines)')
    .option('--task <name>', 'classification task under --data-root (e.g. glue_sst2)')
    .option('--teacher <dir>', 'dense teacher model folder for distillation (SMP methods; e.g. a --method full-ft-mlm output)')
    .option('--work-dir <dir>', 'checkpoints and statistics (default <out>.work, removed after success; a given folder is kept); rerun to resume')
    .option('--plugin <module>', 'load methods from a plugin module (repeatable; also PRUNEKIT_PLUGINS)', collect)
    .option('--force', 'replace --out even when it is not an earlier prunekit output of this kind')
    .option('--json', 'print the result as JSON on stdout');
  for (const { spec, methods } of flags.values()) {
    const scope = methods.length === registry.list().length ? '' : ` [${methods.join(', ')}]`;
    cmd.addOption(new Option(spec.type === 'boolean' ? spec.flag : `${spec.flag} <${spec.type}>`, `${spec.description}${scope}`));
  }
  // SMP's old knob, refused with the conversion (one convention: --sparsity is the fraction removed)
  cmd.addOption(new Option('--keep <fraction>').hideHelp());
  cmd.addHelpText('after', () => methodsHelp(registry, methodInArgv(ctx.argv)));
  cmd.action(async (o: PipelineFlags & Record<string, string | boolean | undefined>) => {
    if (o.keep !== undefined) {
      const keep = Number(o.keep);
      throw new CliError(`--keep is gone: --sparsity is the fraction removed for every method${Number.isFinite(keep) ? ` (--keep ${o.keep} is --sparsity ${Number((1 - keep).toPrecision(12))})` : ''}`);
    }
    let def: MethodDefinition;
    try {
      def = registry.get(o.method);
    } catch (e) {
      throw new CliError(`--method: ${(e as Error).message}`);
    }
    const raw: Record<string, string | boolean | undefined> = {};
    for (const [k, v] of Object.entries(o)) if (!PIPELINE_KEYS.has(k)) raw[k] = v;
    let options: Record<string, unknown>;
    try {
      options = parseMethodOptions(def, raw) as Record<string, unknown>;
    } catch (e) {
      throw new CliError(e instanceof MethodOptionError ? e.message : String(e));
    }
    existingDir('--model', o.model);
    const claim = claimOutput({ out: o.out, kind: 'model', inputs: [o.model, o.domain, o.general, o.domainStats, o.generalStats, o.teacher].filter((x): x is string => x !== undefined), force: o.force });
    if (typeof options.structure === 'string') {
      await pruneStructuredCommand(ctx, def.name as ScoringMethod, options as unknown as StructuredFlags, o, options);
      return;
    }
    if (options.distill !== undefined) throw new CliError('--distill applies to structured pruning (--structure heads,neurons)');
    const need = def.needs;
    if (need.domainTriplets && !o.domain && !o.domainStats) throw new CliError(`--method ${def.name} needs --domain FILE (domain triplets)`);
    if (need.generalTriplets && !o.general && !o.generalStats) throw new CliError(`--method ${def.name} needs --general FILE (general triplets)`);
    if (need.labelledTask && (!o.dataRoot || !o.task)) throw new CliError(`--method ${def.name} needs --data-root DIR and --task NAME (a labelled classification task)`);
    if (need.teacher === 'required' && !o.teacher) throw new CliError(`--method ${def.name} needs --teacher DIR`);
    if (o.dataRoot) existingDir('--data-root', o.dataRoot);
    for (const [flag, file] of [['--domain', o.domain], ['--general', o.general], ['--domain-stats', o.domainStats], ['--general-stats', o.generalStats]] as const) {
      if (file === undefined) continue;
      if (!fs.existsSync(file)) throw new CliError(`${flag} ${file}: no such file`);
      if (fs.statSync(file).isDirectory()) throw new CliError(`${flag} ${file}: is a folder; expected a ${flag.endsWith('-stats') ? '.safetensors' : '.jsonl'} file`);
    }
    const data = {
      ...(o.domain ? { domain: o.domain } : {}), ...(o.general ? { general: o.general } : {}),
      ...(o.domainStats ? { domainStats: o.domainStats } : {}), ...(o.generalStats ? { generalStats: o.generalStats } : {}),
      ...(o.dataRoot ? { dataRoot: o.dataRoot } : {}), ...(o.task ? { task: o.task } : {}), ...(o.teacher ? { teacher: o.teacher } : {}),
    };
    try {
      for (const w of def.preflight?.({ model: o.model, options, data }) ?? []) warn(ctx.io, w);
    } catch (e) {
      throw new CliError(e instanceof Error ? e.message : String(e));
    }
    const workDir = o.workDir ?? claim.workDir;
    await initBackend({ warn: (l) => { ctx.io.err(`${l}\n`); } });
    const progress = stageProgress(ctx.io, def.name);
    try {
      const artifact = await def.run({
        model: o.model, options, data, workDir,
        onProgress: (stage, done, total, detail) => { progress.update(stage, done, total, detail); },
        log: (line) => { ctx.io.err(`prunekit: ${line}\n`); },
      });
      try {
        progress.update('saving', 0, 1);
        const manifest = await writeArtifact(artifact, {
          out: o.out, method: def.name, options, sourceModel: o.model,
          dataPaths: { ...(o.domain ? { domain: o.domain } : {}), ...(o.general ? { general: o.general } : {}), ...(o.dataRoot ? { task: path.join(o.dataRoot, o.task ?? '') } : {}) },
        });
        progress.update('saving', 1, 1);
        progress.stop();
        // the claimed work area is removed by settleOutputs once the command succeeded
        if (o.json) {
          printJson(ctx.io, { out: path.resolve(o.out), method: def.name, kind: manifest.kind, sparsity: manifest.sparsity?.total ?? null, parameters: manifest.parameters, metrics: manifest.metrics, options });
        } else {
          ctx.io.out(`${artifact.summary}\nwritten to ${o.out} (${manifest.kind}; \`prunekit inspect ${o.out}\` describes it)\n`);
        }
      } finally {
        artifact.dispose();
      }
    } finally {
      progress.stop();
    }
  });

  program
    .command('retrain')
    .description('retrain a pruned model folder (from `prunekit prune`) on domain triplets with its masks held fixed')
    .requiredOption('--model <dir>', 'pruned model folder (with prunekit/masks.safetensors)')
    .requiredOption('--domain <file>', 'domain triplets jsonl')
    .requiredOption('--out <dir>', 'output model folder')
    .option('--steps <n>', 'training steps', positiveInt('--steps'), 100)
    .option('--lr <x>', 'learning rate', (v) => Number(v), 2e-5)
    .option('--batch-size <n>', 'triplets per step', positiveInt('--batch-size'), 16)
    .option('--seed <n>', 'seed', (v) => Number(v), 0)
    .option('--force', 'replace --out even when it is not an earlier prunekit output of this kind')
    .option('--json', 'print the losses as JSON on stdout')
    .action(async (o: { model: string; domain: string; out: string; steps: number; lr: number; batchSize: number; seed: number; force?: boolean; json?: boolean }) => {
      existingDir('--model', o.model);
      claimOutput({ out: o.out, kind: 'model', inputs: [o.model, o.domain], force: o.force });
      let manifest;
      try {
        manifest = readManifest(o.model);
      } catch (e) {
        throw new CliError(`--model ${(e as Error).message}`);
      }
      if (!manifest.files.masks) throw new CliError(`--model ${o.model}: a ${manifest.kind} made by ${manifest.method} has no masks to hold fixed (retrain takes a masked artifact, e.g. from \`prunekit prune --method gaprune\`)`);
      const maskFile = path.join(o.model, manifest.files.masks);
      const triplets = await readTriplets(o.domain);
      await initBackend();
      const { masks } = MaskSet.load(maskFile);
      const enc = await SentenceEncoder.load(o.model);
      const sourceFingerprint = modelFingerprint(enc.model);
      const progress = stageProgress(ctx.io, 'retrain');
      try {
        const losses = await retrainMasked(enc, masks, triplets, { steps: o.steps, lr: o.lr, batchSize: o.batchSize, seed: o.seed, onStep: (s, t, l) => { progress.update('steps', s, t, `loss ${l.toFixed(4)}`); } });
        progress.stop();
        const stats = masks.stats();
        await writeArtifact({
          kind: 'pruned-model', model: enc.model, masks,
          source: { fingerprint: sourceFingerprint, parameters: enc.model.numParameters() },
          data: { domain: { fingerprint: tripletsFingerprint(triplets) } },
          metrics: { losses },
          summary: `Retrained ${o.steps} steps on domain triplets with the masks of ${o.model} held fixed (${(100 * stats.sparsity).toFixed(2)}% of the masked weights stay zero).`,
          dispose: () => undefined,
        }, { out: o.out, method: 'retrain', options: { steps: o.steps, lr: o.lr, batchSize: o.batchSize, seed: o.seed }, sourceModel: o.model, dataPaths: { domain: o.domain } });
        if (o.json) printJson(ctx.io, { out: path.resolve(o.out), losses });
        else ctx.io.out(`retrained ${o.steps} steps (loss ${losses[0]?.toFixed(4)} -> ${losses.at(-1)?.toFixed(4)}); model written to ${o.out}\n`);
      } finally {
        progress.stop();
        enc.dispose();
      }
    });
}

/** The structured path's options, as the scoring methods' schema gives them. */
interface StructuredFlags {
  sparsity: number;
  allocation: string;
  structure: string;
  minPerLayer: number;
  distill?: DistillLoss;
  batchSize: number;
  maxBatches?: number;
  microBatch?: number;
  seed: number;
  beta?: number;
  gamma?: number;
  alignment?: 'per-matrix' | 'per-weight';
  rescale?: Rescale;
  fisherNormalisation?: FisherNormalisation;
  retrainSteps: number;
  retrainLr: number;
}

/**
 * `prune --structure heads,neurons`: scores summed over coupling groups, whole heads and neurons
 * removed, the compacted (physically smaller) model written by runStructuredPrune.
 */
async function pruneStructuredCommand(ctx: CliContext, method: ScoringMethod, s: StructuredFlags, o: PipelineFlags, methodOptions: Record<string, unknown>): Promise<void> {
  let structure;
  try {
    structure = parseStructure(s.structure);
  } catch (err) {
    throw new CliError(`--structure: ${(err as Error).message}`);
  }
  if (!(STRUCTURED_ALLOCATIONS as readonly string[]).includes(s.allocation)) throw new CliError(`--allocation with --structure must be ${STRUCTURED_ALLOCATIONS.join(' or ')} (got "${s.allocation}")`);
  const domain = o.domain ? await readTriplets(o.domain) : undefined;
  const general = o.general ? await readTriplets(o.general) : undefined;
  await initBackend();
  const progress = stageProgress(ctx.io, `${method} structured`);
  try {
    const r = await runStructuredPrune({
      model: o.model, out: o.out, method, sparsity: s.sparsity, structure, allocation: s.allocation as StructuredAllocation, minPerLayer: s.minPerLayer,
      ...(domain ? { domain } : {}), ...(general ? { general } : {}),
      ...(o.domainStats ? { domainStats: loadGradStats(o.domainStats) } : {}), ...(o.generalStats ? { generalStats: loadGradStats(o.generalStats) } : {}),
      dataSources: { ...(o.domain ? { domain: path.resolve(o.domain) } : {}), ...(o.general ? { general: path.resolve(o.general) } : {}) },
      batchSize: s.batchSize, ...(s.maxBatches ? { maxBatches: s.maxBatches } : {}), ...(s.microBatch ? { microBatch: s.microBatch } : {}), seed: s.seed,
      dai: { ...(s.beta === undefined ? {} : { beta: s.beta }), ...(s.gamma === undefined ? {} : { gamma: s.gamma }), ...(s.alignment ? { alignment: s.alignment } : {}), ...(s.rescale ? { rescale: s.rescale } : {}), ...(s.fisherNormalisation ? { fisherNormalisation: s.fisherNormalisation } : {}) },
      retrainSteps: s.retrainSteps, retrainLr: s.retrainLr, ...(s.distill ? { distill: s.distill } : {}), ...(o.workDir ? { workDir: o.workDir } : {}),
      methodName: method, methodOptions,
      onProgress: (stage, done, total, detail) => { progress.update(stage, done, total, detail); },
    });
    progress.stop();
    const al = r.allocation;
    if (o.json) {
      printJson(ctx.io, { out: path.resolve(r.out), method, structure, targetSparsity: s.sparsity, achievedSparsity: al.achievedSparsity, encoderParameters: r.encoderParameters, parameters: r.parameters, removedHeads: al.removed.filter((g) => g.kind === 'head').length, removedNeurons: al.removed.filter((g) => g.kind === 'ffn_neuron').length, kind: r.manifest.kind, recoveryLosses: r.recoveryLosses ?? null, seconds: r.seconds });
    } else {
      ctx.io.out(`removed ${al.removedParams} of ${al.totalParams} encoder parameters (${(al.achievedSparsity * 100).toFixed(2)}%; target ${al.targetParams}) as ${al.removed.filter((g) => g.kind === 'head').length} heads and ${al.removed.filter((g) => g.kind === 'ffn_neuron').length} FFN neurons with ${method}; model ${r.parameters.before} -> ${r.parameters.after} parameters; compacted model written to ${r.out} (\`prunekit inspect ${r.out}\` describes it; \`prunekit export ${r.out} --format onnx --out DIR\` makes it portable)\n`);
    }
  } finally {
    progress.stop();
  }
}
