// The structured kind: physically smaller models for a domain, and what they cost and give where users
// run them. For each base model and domain (finance: TAT-QA; chemistry: the evaluated half of
// ChemLit-QA) it derives, through the method registry's definitions and tensor-core's one artifact
// layout (compacted-model folders with prunekit/manifest.json, as `prunekit prune --structure` writes),
// structured GAPrune as published (`gaprune`) and prunekit's variant (`gaprune-balanced`), structured
// magnitude, Taylor and random (several seeds), each one-shot and with recovery (retraining with the
// structure fixed; distillation from the dense model), and FineGates at the same target (the registry's
// finegates method on the domain's labelled task) where the preset asks for it. Every model is scored on
// the domain task and a general task, exported to ONNX, checked against its tfjs outputs and timed in
// onnxruntime-node against dense (batch 1 and 32, alternating, fastest of the repeats, load average
// recorded). Writes <out>/structured/table.md, models.json, the ONNX folders, and the report's table and
// Pareto chart (quality % of dense versus speedup).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { documentMarkdown } from '@prunekit/benchmarks-mteb';
import { builtinMethods } from '@prunekit/cli-support';
import { measureOnnxSpeed, tokenize, type TokenizedSet } from '@prunekit/gates-finegates';
import { parseStructure, runStructuredPrune, type DistillLoss, type FisherNormalisation, type Rescale } from '@prunekit/scoring-fisher';
import { MANIFEST_FILE, SentenceEncoder, exportOnnx, initBackend, layerLinearParameters, openEncoder, readManifest, writeFileAtomic, writeJsonAtomic } from '@prunekit/tensor-core';
import { evaluateInto } from './eval.js';
import { prepareSuiteData, type GapruneDomain, type PreparedData, type SuiteDataSettings } from './gaprune.js';
import { CHEMLIT_EVAL_TASK } from './gaprune-data.js';
import { cellsOf, presetKind, runMethod, summarising, type PresetName } from './runs.js';
import { paretoChart, standingLines, structuredRows, structuredTable, tasksMean, type ModelMeasure, type OrtSpeed, type ScoredModel } from './structured-table.js';
import type { BenchOutcome, BenchRunContext, SuiteKind } from './types.js';

/** The structured scoring methods of the registry the suite compares. */
export type StructuredMethod = 'gaprune' | 'gaprune-balanced' | 'magnitude' | 'taylor' | 'random';

export interface Recovery {
  /** rt: retraining (InfoNCE on the domain triplets, structure fixed); kd: distillation from dense */
  kind: 'rt' | 'kd';
  steps: number;
  /** kd only: the distance (recover.ts) */
  distill?: DistillLoss;
}

export interface StructuredPreset extends SuiteDataSettings {
  name: string;
  domains: GapruneDomain[];
  /** fraction of encoder-layer linear parameters removed */
  sparsity: number;
  /** which groups may go (prunekit prune --structure) */
  structure: string;
  methods: StructuredMethod[];
  randomSeeds: number[];
  recoveries: Recovery[];
  /** methods that also get the recovered variants (default: all of `methods`) */
  recoverMethods?: StructuredMethod[];
  /** statistics batches per data set and triplets per batch (and per recovery step) */
  statsBatches: number;
  batchSize: number;
  /** FineGates at the same target on the domain's labelled task (registry method finegates); null: not run */
  finegates: { tasks: Partial<Record<GapruneDomain, string>>; steps: number; sparsityStartStep: number; gateLr: number; maxTrain: number; maxLength: number } | null;
  /** onnxruntime-node timing: batches of 1 and of 32, repeats per batch, intra-op threads, tokens per text */
  speed: { one: number; many: number; repeats: number; threads: number; maxLength: number };
}

const FINANCE_TASK = 'TATQARetrieval';
const GENERAL_TASK = 'STSBenchmark';
const ALL_METHODS: StructuredMethod[] = ['gaprune', 'gaprune-balanced', 'magnitude', 'taylor', 'random'];

/** About an hour on 2 idle cores with mini-encoder (estimated from the quick run; not measured whole). */
export const STRUCTURED_DEFAULT: StructuredPreset = {
  name: 'default',
  domains: ['finance', 'chemistry'],
  sparsity: 0.5,
  structure: 'heads,neurons',
  methods: ALL_METHODS,
  randomSeeds: [0, 1, 2],
  recoveries: [{ kind: 'rt', steps: 60 }, { kind: 'kd', steps: 60, distill: 'cosine' }],
  statsBatches: 16,
  batchSize: 16,
  domainSize: 2000,
  generalSize: 2000,
  pairShare: 0.2,
  dataSeed: 0,
  domainTasks: { finance: [FINANCE_TASK], chemistry: [CHEMLIT_EVAL_TASK] },
  generalTasks: [GENERAL_TASK],
  quickTasks: [],
  corpusCaps: {},
  // banking77 is the finance labelled task of the shared classification table; it has no chemistry task
  finegates: { tasks: { finance: 'banking77' }, steps: 2000, sparsityStartStep: 200, gateLr: 1e-3, maxTrain: 8000, maxLength: 64 },
  speed: { one: 12, many: 3, repeats: 5, threads: 2, maxLength: 128 },
};

/** At most 10 minutes on 2 cores with mini-encoder: finance only, one random seed, distillation only, no FineGates. */
export const STRUCTURED_QUICK: StructuredPreset = {
  ...STRUCTURED_DEFAULT,
  name: 'quick',
  domains: ['finance'],
  randomSeeds: [0],
  recoveries: [{ kind: 'kd', steps: 20, distill: 'cosine' }],
  recoverMethods: ['gaprune', 'gaprune-balanced', 'magnitude'],
  statsBatches: 8,
  domainSize: 400,
  generalSize: 400,
  finegates: null,
  speed: { one: 8, many: 2, repeats: 3, threads: 2, maxLength: 128 },
};

export const STRUCTURED_PRESETS: Readonly<Record<PresetName, StructuredPreset>> = {
  quick: STRUCTURED_QUICK,
  default: STRUCTURED_DEFAULT,
  full: { ...STRUCTURED_DEFAULT, name: 'full', recoveries: [{ kind: 'rt', steps: 200 }, { kind: 'kd', steps: 200, distill: 'cosine' }], statsBatches: 32, finegates: { ...STRUCTURED_DEFAULT.finegates!, steps: 3000 } },
};

export interface StructuredVariant {
  name: string;
  method: StructuredMethod | 'dense' | 'finegates';
  seed?: number;
  recovery?: Recovery;
}

const recoveryLabel = (r: Recovery | undefined): string => (r ? `${r.kind}${r.steps}` : 'none');

/** dense, then per method its one-shot model(s) (random per seed) and their recovered variants, then FineGates. */
export function structuredVariants(p: StructuredPreset, domain: GapruneDomain): StructuredVariant[] {
  const pct = Math.round(100 * p.sparsity);
  const out: StructuredVariant[] = [{ name: 'dense', method: 'dense' }];
  for (const method of p.methods) {
    const seeds = method === 'random' ? p.randomSeeds : [undefined];
    const recovered = (p.recoverMethods ?? p.methods).includes(method);
    for (const seed of seeds) {
      const base = `${method}-${pct}${seed === undefined ? '' : `-s${seed}`}`;
      out.push({ name: base, method, ...(seed === undefined ? {} : { seed }) });
      if (recovered) for (const r of p.recoveries) out.push({ name: `${base}-${recoveryLabel(r)}`, method, ...(seed === undefined ? {} : { seed }), recovery: r });
    }
  }
  const fgTask = p.finegates?.tasks[domain];
  if (fgTask) out.push({ name: `finegates-${pct}`, method: 'finegates' });
  return out;
}

const isModelFolder = (dir: string): boolean => fs.existsSync(path.join(dir, 'config.json')) && fs.existsSync(path.join(dir, 'model.safetensors')) && fs.existsSync(path.join(dir, MANIFEST_FILE));

/**
 * A structured model through a registry method: its options validated and defaulted by the method's
 * schema (the definitions `prunekit prune --method M --structure …` parses), then the compacted-model
 * artifact written by scoring-fisher's runStructuredPrune with those options in its manifest, exactly
 * as the CLI's structured path does.
 */
async function deriveStructured(ctx: BenchRunContext, o: { method: StructuredMethod; model: string; out: string; workDir: string; raw: Record<string, unknown>; data: PreparedData; log: (l: string) => void }): Promise<void> {
  const def = (ctx.methods ?? builtinMethods()).get(o.method);
  const options = def.options.parse(o.raw) as Record<string, unknown> & { sparsity: number; structure: string; allocation: 'global' | 'per-layer'; minPerLayer: number; batchSize: number; maxBatches?: number; seed: number; retrainSteps: number; retrainLr: number; distill?: DistillLoss; beta?: number; gamma?: number; alignment?: 'per-matrix' | 'per-weight'; rescale?: Rescale; fisherNormalisation?: FisherNormalisation };
  let last = '';
  await runStructuredPrune({
    model: o.model, out: o.out, method: o.method, sparsity: options.sparsity, structure: parseStructure(options.structure), allocation: options.allocation, minPerLayer: options.minPerLayer,
    domain: o.data.domain.triplets, general: o.data.general.triplets, dataSources: { domain: o.data.files.domain, general: o.data.files.general },
    batchSize: options.batchSize, ...(options.maxBatches ? { maxBatches: options.maxBatches } : {}), seed: options.seed,
    ...(options.gamma !== undefined ? { dai: { beta: options.beta!, gamma: options.gamma, alignment: options.alignment!, rescale: options.rescale!, fisherNormalisation: options.fisherNormalisation! } } : {}),
    retrainSteps: options.retrainSteps, retrainLr: options.retrainLr, ...(options.distill ? { distill: options.distill } : {}), workDir: o.workDir,
    methodName: def.name, methodOptions: options,
    onProgress: (stage, done, total, detail) => {
      const line = `${stage} ${done}/${total}${detail ? ` ${detail}` : ''}`;
      if (stage !== last || done === total || done % 10 === 0) o.log(line);
      last = stage;
    },
  });
}

/** Texts the speed measurement and the ONNX check run on: the domain triplets' documents, unique, in pool order. */
function probeTexts(data: PreparedData, n: number): string[] {
  return [...new Set(data.domain.triplets.map((t) => t.positive))].slice(0, n);
}

async function ortSpeed(dense: SentenceEncoder, model: SentenceEncoder, set: TokenizedSet, batchSize: number, batches: number, p: StructuredPreset): Promise<OrtSpeed> {
  const padId = model.tokenizer.specialIds.pad ?? model.model.config.padTokenId;
  const before = os.loadavg()[0]!;
  const r = await measureOnnxSpeed(dense.model, model.model, set, padId, { batchSize, batches, repeats: p.speed.repeats, threads: p.speed.threads });
  return { batchSize, denseMs: r.denseMs, modelMs: r.compactMs, speedup: r.speedup, loadAverage: [before, os.loadavg()[0]!] };
}

/** Layer shapes of a model folder: models of equal shapes run the same ONNX graph cost. */
const shapeKey = (enc: SentenceEncoder): string => JSON.stringify(enc.model.config.layers.map((l) => [l.numHeads, l.headDim, l.intermediateSize]));

async function runStructuredSuite(ctx: BenchRunContext, presetName: PresetName, p: StructuredPreset): Promise<BenchOutcome> {
  const outcome: BenchOutcome = { results: [], models: [], failures: [], notes: [], sections: [] };
  const t0 = performance.now();
  const log = (l: string): void => {
    ctx.io.err(`prunekit-bench: structured [${((performance.now() - t0) / 1000).toFixed(0)} s]: ${l}\n`);
  };
  await initBackend({ warn: log });
  const root = path.join(ctx.outDir, 'structured');
  const pct = Math.round(100 * p.sparsity);
  const scored: ScoredModel[] = [];
  const domainTaskOf: Record<string, string> = {};
  let generalTask = p.generalTasks.join('+');
  const recoveryText = p.recoveries.map((r) => (r.kind === 'rt' ? `rt${r.steps}: ${r.steps} steps of retraining (InfoNCE on the domain triplets, AdamW lr 2e-5, the compacted structure fixed)` : `kd${r.steps}: ${r.steps} steps of distillation from the dense model (${r.distill ?? 'cosine'} distance between sentence embeddings on domain and general text)`)).join('; ');
  outcome.notes.push(
    `preset ${p.name}${ctx.quick ? ' (--quick)' : ''}: domains ${p.domains.join(', ')}; ${pct}% of the encoder-layer linear parameters (Q, K, V, attention output, FFN up/down, weights and biases) removed as whole ${p.structure.replace(',', ' and ')} (global allocation, at least 5% of each layer's heads and neurons kept), the compacted model written by the registry method with --structure ${p.structure}; methods ${p.methods.join(', ')} (random with seeds ${p.randomSeeds.join(', ')}); recovery ${recoveryText || 'none'}${p.recoverMethods ? ` for ${p.recoverMethods.join(', ')}` : ''}; statistics ${p.statsBatches} batches of ${p.batchSize} triplets per data set; the balanced variant's settings are the landed defaults (not tuned on these tables).`,
    `FineGates: ${p.finegates ? `the registry's finegates method at target ${p.sparsity} (fraction of gated rows/columns closed, attention + FFN) on ${Object.entries(p.finegates.tasks).map(([d, t]) => `${t} (${d})`).join(', ')}, ${p.finegates.steps} steps (${p.finegates.sparsityStartStep} of head warm-up), gate lr ${p.finegates.gateLr}; then prunekit's matched-count finalisation (--remove-fraction ${p.sparsity}) closes the open gates with the lowest θ until compaction removes at least ${pct}% of the same encoder-layer parameters, so FineGates sits at the other rows' parameter count (what the trained gates removed by themselves is in the note of its run); no recovery variants (FineGates trains the encoder-side weights itself); ${p.domains.filter((d) => !p.finegates!.tasks[d]).map((d) => `${d}: no labelled task in the shared classification table, not run`).join('; ') || 'every domain has a task'}` : `not run in this preset (a FineGates run needs ≥ 1,550 gate steps for any gate to close at the paper's gate lr: ≈ 10–15 minutes per run on 2 cores, more than a quick preset has); the default preset runs it on banking77 for finance`}.`,
    `speed: each model and dense exported with tensor-core's ONNX exporter, timed in onnxruntime-node (graph optimisation 'all', ${p.speed.threads} intra-op threads) on the domain's documents (≤ ${p.speed.maxLength} tokens): ${p.speed.one} batches of 1 and ${p.speed.many} of 32, each timed ${p.speed.repeats} times per model alternating with dense, fastest repeat per batch, mean over batches; speedup = dense ms / model ms. Models whose layer shapes equal an already timed model's (a recovered model and its one-shot model) reuse that measurement. The load average (1 min) at each measurement is in models.json; this machine is shared, so times are upper bounds and the ratios, measured interleaved, are what to read.`,
  );
  if (ctx.quick) outcome.notes.push(`quick: finance only (default: finance and chemistry); random seed ${p.randomSeeds.join(', ')} only (default 0, 1, 2); recovery only by distillation (${p.recoveries.map(recoveryLabel).join(', ')}) for ${(p.recoverMethods ?? p.methods).join(', ')} (default: ${STRUCTURED_DEFAULT.recoveries.map(recoveryLabel).join(' and ')} for every method); statistics ${p.statsBatches} batches (default ${STRUCTURED_DEFAULT.statsBatches}); triplet pools ${p.domainSize}/${p.generalSize} (default ${STRUCTURED_DEFAULT.domainSize}/${STRUCTURED_DEFAULT.generalSize}); no FineGates.`);
  for (const domainName of p.domains) {
    const data = await prepareSuiteData(domainName, p, ctx);
    outcome.notes.push(...data.notes.map((n) => `${domainName}: ${n}`));
    const tasks = [...data.domainTasks, ...data.generalTasks];
    domainTaskOf[domainName] = data.domainTasks.map((t) => t.name).join('+');
    generalTask = data.generalTasks.map((t) => t.name).join('+');
    const probe = probeTexts(data, Math.max(p.speed.one, 32 * p.speed.many));
    for (const base of ctx.models) {
      const baseName = path.basename(path.resolve(base));
      const modelsDir = path.join(root, 'runs', baseName, domainName);
      const onnxRoot = path.join(root, 'onnx', baseName, domainName);
      const measureDir = path.join(root, 'measure', baseName, domainName);
      const workDir = path.join(root, 'work', baseName, domainName);
      let dense: SentenceEncoder | null = null;
      let speedSet: TokenizedSet | null = null;
      const timedShapes = new Map<string, ModelMeasure>();
      try {
        for (const v of structuredVariants(p, domainName)) {
          const name = `${baseName}/${domainName}/${v.name}`;
          const dir = v.method === 'dense' ? path.resolve(base) : path.join(modelsDir, v.name);
          const measureFile = path.join(measureDir, `${v.name}.json`);
          const tv = performance.now();
          const state = { evaluated: false };
          const evaluate = async (): Promise<void> => {
            const encoder = await ctx.loadEncoder(dir, { batchSize: ctx.batchSize, name, warn: log });
            try {
              await evaluateInto(ctx, outcome, encoder, tasks, { path: dir, name, startedAt: tv });
              state.evaluated = true;
            } finally {
              encoder.dispose?.();
            }
          };
          const measure = async (): Promise<void> => {
            const enc = await SentenceEncoder.load(dir);
            try {
              const onnxDir = path.join(onnxRoot, v.name);
              const report = await exportOnnx(dir, onnxDir);
              const onnx = await openEncoder(onnxDir, { runtime: 'onnxruntime', batchSize: 8 });
              let maxDiff = 0;
              try {
                const check = probe.slice(0, 8);
                const [a, b] = [await enc.encode(check), await onnx.encode(check)];
                for (const [i, row] of a.entries()) for (const [j, x] of row.entries()) maxDiff = Math.max(maxDiff, Math.abs(x - b[i]![j]!));
              } finally {
                await onnx.dispose();
              }
              let speed: ModelMeasure['speed'] = null;
              if (v.method !== 'dense') {
                const same = timedShapes.get(shapeKey(enc));
                if (same?.speed) speed = { ...same.speed, reusedFrom: same.variant };
                else {
                  dense ??= await SentenceEncoder.load(path.resolve(base));
                  speedSet ??= await tokenize(dense.tokenizer, probe.map((text) => ({ text, label: '0' })), ['0'], p.speed.maxLength);
                  log(`${name}: onnxruntime-node speed vs dense (batch 1 and 32)`);
                  speed = { one: await ortSpeed(dense, enc, speedSet, 1, p.speed.one, p), many: await ortSpeed(dense, enc, speedSet, 32, p.speed.many, p), threads: p.speed.threads };
                }
              }
              const m: ModelMeasure = {
                model: name, base: baseName, domain: domainName, variant: v.name, method: v.method, recovery: recoveryLabel(v.recovery), seed: v.seed ?? null,
                targetSparsity: v.method === 'dense' ? null : p.sparsity,
                layers: shapeKey(enc), encoderParams: layerLinearParameters(enc.model), parameters: enc.model.numParameters(),
                safetensorsBytes: fs.statSync(path.join(dir, 'model.safetensors')).size, onnxBytes: report.bytes, onnxMaxDiff: maxDiff, speed,
              };
              writeJsonAtomic(measureFile, m);
            } finally {
              enc.dispose();
            }
          };
          try {
            const available = await cellsOf(ctx).run({ key: `structured/${baseName}/${domainName}/${v.name}`, label: `structured ${name}` }, async () => {
              if (v.method !== 'dense' && !isModelFolder(dir)) {
                log(`${name}: deriving (${v.method}${v.recovery ? `, ${recoveryLabel(v.recovery)}` : ''})`);
                if (v.method === 'finegates') {
                  const fg = p.finegates!;
                  await runMethod(ctx, {
                    method: 'finegates', model: base, out: dir, workDir: path.join(workDir, v.name),
                    options: { sparsity: p.sparsity, removeFraction: p.sparsity, steps: fg.steps, sparsityStartStep: fg.sparsityStartStep, gateLr: fg.gateLr, maxTrain: fg.maxTrain, maxLength: fg.maxLength, batchSize: p.batchSize, seed: 0 },
                    data: { dataRoot: ctx.dataRoot, task: fg.tasks[domainName]! },
                    log: (l) => { log(`${name}: ${l}`); },
                  });
                } else {
                  await deriveStructured(ctx, {
                    method: v.method, model: base, out: dir, workDir, data, log: (l) => { log(`${name}: ${l}`); },
                    raw: {
                      sparsity: p.sparsity, structure: p.structure, batchSize: p.batchSize, maxBatches: p.statsBatches, seed: v.seed ?? 0,
                      retrainSteps: v.recovery?.steps ?? 0, ...(v.recovery?.distill ? { distill: v.recovery.distill } : {}),
                    },
                  });
                }
              }
              await evaluate();
              if (!fs.existsSync(measureFile)) await measure();
            }, () => fs.existsSync(measureFile) && isModelFolderOrBase(dir, v.method));
            if (!available) continue;
            if (!state.evaluated) await evaluate();
            if (!fs.existsSync(measureFile)) await measure();
            const m = JSON.parse(fs.readFileSync(measureFile, 'utf8')) as ModelMeasure;
            if (m.speed && !m.speed.reusedFrom) timedShapes.set(m.layers, m);
            scored.push({ ...m, domainScore: tasksMean(outcome.results, name, data.domainTasks.map((t) => t.name)), generalScore: tasksMean(outcome.results, name, data.generalTasks.map((t) => t.name)) });
            if (v.method !== 'dense') {
              const man = readManifest(dir);
              const fin = (man.metrics as { finalisation?: { removedByGates: number; removed: number; extraClosed: number } }).finalisation;
              if (fin) outcome.notes.push(`${name}: the trained gates removed ${(100 * fin.removedByGates).toFixed(1)}% of the encoder-layer parameters by themselves; the matched-count finalisation closed ${fin.extraClosed} more gates (lowest θ) to reach ${(100 * fin.removed).toFixed(1)}%.`);
              const losses = (man.metrics as { recoveryLosses?: number[] }).recoveryLosses;
              if (losses?.length) outcome.notes.push(`${name}: recovery loss ${losses[0]!.toFixed(4)} → ${losses.at(-1)!.toFixed(4)} over ${losses.length} steps.`);
            }
          } catch (e) {
            outcome.failures.push({ model: name, task: '(model)', error: (e as Error).message });
            log(`${name}: failed: ${(e as Error).message}`);
          }
        }
      } finally {
        (dense as SentenceEncoder | null)?.dispose();
      }
    }
  }
  if (!summarising(ctx)) return outcome;
  const rows = structuredRows(scored);
  const table = structuredTable(rows, { domain: Object.values(domainTaskOf).join(' / '), general: generalTask });
  const loads = scored.flatMap((m) => (m.speed && !m.speed.reusedFrom ? [...m.speed.one.loadAverage, ...m.speed.many.loadAverage] : []));
  const loadLine = loads.length ? `load average (1 min) during the speed measurements ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} on ${os.cpus().length} cores` : 'no speed measured';
  const intro = `Quality: main score ×100 on the domain task (${Object.entries(domainTaskOf).map(([d, t]) => `${d}: ${t}`).join('; ')}, nDCG@10) and the general task (${generalTask}, Spearman), and its % of the same domain's dense model; mean ± sample sd over seeds where there are several. Encoder params: encoder-layer linear parameters (what structured removal targets). ORT speedup: dense ms / model ms in onnxruntime-node; ${loadLine}. ONNX max |Δ|: largest difference of the exported model's sentence embeddings from prunekit's own on 8 domain texts.`;
  const standing = standingLines(rows);
  const sectionBlocks = [{ kind: 'paragraph' as const, text: intro }, { kind: 'table' as const, table }, ...standing.map((text) => ({ kind: 'paragraph' as const, text }))];
  outcome.notes.push(...standing);
  outcome.sections!.push({
    title: `Structured pruning: quality, size and onnxruntime speed (${pct}% of encoder parameters removed)`,
    blocks: sectionBlocks,
    charts: [{ title: 'Quality (% of dense) versus onnxruntime-node speedup (batch 32), one point per model', spec: paretoChart(scored, { domain: domainTaskOf, general: generalTask }) }],
  });
  fs.mkdirSync(root, { recursive: true });
  writeFileAtomic(path.join(root, 'table.md'), documentMarkdown({ title: `Structured suite (${presetName} preset)`, blocks: sectionBlocks }));
  writeJsonAtomic(path.join(root, 'models.json'), { preset: p, models: scored });
  outcome.notes.push(`${loadLine}; table: ${path.join(root, 'table.md')}; per-model measurements: ${path.join(root, 'models.json')}; model folders under ${path.join(root, 'runs')} and their ONNX exports under ${path.join(root, 'onnx')} (reused when the suite is run again).`);
  outcome.notes.push(`suite wall time ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
  return outcome;
}

const isModelFolderOrBase = (dir: string, method: string): boolean => method === 'dense' || isModelFolder(dir);

export interface StructuredKindOptions {
  /** presets (tests pass miniature ones) */
  presets?: Readonly<Record<PresetName, StructuredPreset>>;
}

export function makeStructuredKind(options: StructuredKindOptions = {}): SuiteKind {
  return presetKind({
    name: 'structured',
    description: 'structured pruning to a physically smaller model: GAPrune (published and balanced), magnitude, Taylor, random, FineGates, with and without recovery; quality vs ONNX size and onnxruntime speed',
    presets: options.presets ?? STRUCTURED_PRESETS,
    run: runStructuredSuite,
    suites: [['structured', 'default', 'structured pruning at 50% of encoder parameters on finance (TAT-QA) and chemistry (ChemLit-QA half) + STS-B: quality % of dense vs onnxruntime-node speedup, params, safetensors/ONNX size, Pareto chart (default ≈ 1 h on 2 cores, --quick ≤ 10 min)']],
  });
}

export const structuredKind: SuiteKind = makeStructuredKind();
