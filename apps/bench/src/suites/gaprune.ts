// The gaprune kind: GAPrune against its baselines on a domain suite and a general suite, in miniature.
// For each base model it builds domain and general triplets from the shared datasets (never from an
// evaluated split), derives pruned models with the scoring methods of the method registry (the
// definitions `prunekit prune --method` runs; each model is an artifact folder with
// prunekit/manifest.json) (dense, magnitude, random,
// Fisher on domain data, Taylor, Wanda, GAPrune one-shot, GAPrune + retraining; a sparsity sweep for
// magnitude and GAPrune; several seeds where randomness enters), evaluates every model on both
// suites and reports a method × sparsity table, a score-versus-sparsity chart and which of the
// paper's claims held.
//   gaprune            domain = finance  (TATQARetrieval, FinancialPhraseBank, Banking77)
//   gaprune-chemistry  domain = chemistry (ChemLit-QA evaluated half, ChemLitClustering, ChemProt, SciCite)
// Both use the general suite STSBenchmark, SST2, MRPC, SciFact.
import fs from 'node:fs';
import path from 'node:path';
import type { TaskDefinition } from '@prunekit/benchmarks-mteb';
import { taskRegistry } from '@prunekit/cli-support';
import { retrainMasked, tripletsFingerprint, type DaiDiagnostics, type DaiOptions, type ScoringMethod, type Triplet } from '@prunekit/scoring-fisher';
import { MANIFEST_FILE, MaskSet, SentenceEncoder, initBackend, modelFingerprint, readManifest, writeArtifact } from '@prunekit/tensor-core';
import { evaluateInto, quickTask } from './eval.js';
import { cellsOf, runMethod, summarising } from './runs.js';
import {
  CHEMLIT_EVAL_TASK, chemistryDomainTriplets, describeSet, financeDomainTriplets, generalTriplets, splitChemlit,
  subsampleRetrievalTask, writeTriplets, type TripletSet,
} from './gaprune-data.js';
import { ablationLine, claimVerdicts, formatVerdicts, sparsityChart, summarize, summaryTable, type VariantScores } from './gaprune-table.js';
import type { BenchOutcome, BenchRunContext, BenchSuite, SuiteKind } from './types.js';

export type GapruneDomain = 'finance' | 'chemistry';

export interface GaprunePreset {
  name: string;
  /** the paper's sparsity (fraction of the targeted weights removed) */
  sparsity: number;
  /** sparsities of the sweep (magnitude and GAPrune) */
  sweep: number[];
  sweepMethods: ScoringMethod[];
  /** methods run at `sparsity` only (besides GAPrune and its retrained variant) */
  baselines: ScoringMethod[];
  /** seeds of the random scorer */
  randomSeeds: number[];
  /** seeds of GAPrune + retraining (the masks are the one-shot GAPrune masks) */
  retrainSeeds: number[];
  retrainSteps: number;
  /** statistics batches per data set (domain and general) */
  statsBatches: number;
  /** triplets per statistics batch and per retraining step */
  batchSize: number;
  /** triplet pools (statistics take statsBatches × batchSize of them, retraining its steps × batchSize) */
  domainSize: number;
  generalSize: number;
  /** share of the domain pool from same-label pairs (Banking77 / ChemProt train) */
  pairShare: number;
  dataSeed: number;
  /** task names per domain, and the general tasks */
  domainTasks: Record<GapruneDomain, string[]>;
  generalTasks: string[];
  /** tasks run as their quick variant (3 classification experiments / clustering subsets) */
  quickTasks: string[];
  /** retrieval tasks whose corpus is subsampled (relevant documents kept) to this many documents */
  corpusCaps: Record<string, number>;
  /** matrices pruned (runPrune targets; 'mlp' is the GAPrune code default) */
  targets: string;
  /**
   * GAPrune with other DAI settings at `sparsity`, reported beside the paper's setting but never
   * counted as a baseline or as GAPrune in the claims (label must start with "gaprune-").
   */
  ablations: { label: string; dai: DaiOptions; description: string }[];
}

const FINANCE = ['TATQARetrieval', 'FinancialPhraseBankClassification', 'Banking77Classification'];
const CHEMISTRY = [CHEMLIT_EVAL_TASK, 'ChemLitClustering', 'ChemProtClassification', 'SciCiteClassification'];
const GENERAL = ['STSBenchmark', 'SST2Classification', 'MRPCPairClassification', 'SciFact'];

/** About an hour on 2 CPU cores with mini-encoder: everything the issue lists. */
export const DEFAULT_PRESET: GaprunePreset = {
  name: 'default',
  sparsity: 0.5,
  sweep: [0.3, 0.5, 0.7],
  sweepMethods: ['magnitude', 'gaprune'],
  baselines: ['magnitude', 'random', 'fisher', 'taylor', 'wanda'],
  randomSeeds: [0, 1, 2],
  retrainSeeds: [0, 1, 2],
  retrainSteps: 100,
  statsBatches: 32,
  batchSize: 16,
  domainSize: 2000,
  generalSize: 2000,
  pairShare: 0.2,
  dataSeed: 0,
  domainTasks: { finance: FINANCE, chemistry: CHEMISTRY },
  generalTasks: GENERAL,
  quickTasks: ['Banking77Classification', 'ChemProtClassification'],
  corpusCaps: { SciFact: 1500 },
  targets: 'mlp',
  // with γ = 0.5 the √|W| term dominates DAI on small models (see the diagnostics line); γ = 0 shows
  // what the Fisher and alignment terms alone select
  ablations: [{ label: 'gaprune-gamma0', dai: { gamma: 0 }, description: 'GAPrune with γ = 0 (DAI without the √|W| term; the paper uses γ = 0.5)' }],
};

/** At most 10 minutes on 2 CPU cores with mini-encoder. */
export const QUICK_PRESET: GaprunePreset = {
  ...DEFAULT_PRESET,
  name: 'quick',
  sweep: [0.5],
  baselines: ['magnitude', 'random', 'fisher'],
  randomSeeds: [0],
  retrainSeeds: [0],
  retrainSteps: 30,
  statsBatches: 8,
  domainTasks: { finance: ['TATQARetrieval', 'FinancialPhraseBankClassification'], chemistry: [CHEMLIT_EVAL_TASK, 'ChemLitClustering'] },
  generalTasks: ['STSBenchmark', 'MRPCPairClassification'],
  quickTasks: ['FinancialPhraseBankClassification', 'ChemLitClustering'],
  corpusCaps: {},
};

export interface Variant {
  /** dense, magnitude, random, fisher, taylor, wanda, gaprune, gaprune-rt<steps> */
  label: string;
  method: ScoringMethod | 'dense';
  sparsity: number;
  seed?: number;
  retrainSteps: number;
  /** DAI settings other than the paper's (ablations) */
  dai?: DaiOptions;
}

export const retrainLabel = (p: GaprunePreset): string => `gaprune-rt${p.retrainSteps}`;

/** "gaprune-50", "random-50-s1", "dense". */
export function variantName(v: Variant): string {
  return v.method === 'dense' ? 'dense' : `${v.label}-${Math.round(100 * v.sparsity)}${v.seed === undefined ? '' : `-s${v.seed}`}`;
}

/** The models a preset derives, in run order (the paper's comparison at its sparsity first, then the sweep). */
export function presetVariants(p: GaprunePreset): Variant[] {
  const out: Variant[] = [{ label: 'dense', method: 'dense', sparsity: 0, retrainSteps: 0 }];
  const add = (v: Variant): void => {
    if (!out.some((o) => variantName(o) === variantName(v))) out.push(v);
  };
  add({ label: 'gaprune', method: 'gaprune', sparsity: p.sparsity, retrainSteps: 0 });
  for (const m of p.baselines) {
    if (m === 'random') for (const seed of p.randomSeeds) add({ label: 'random', method: 'random', sparsity: p.sparsity, seed, retrainSteps: 0 });
    else add({ label: m, method: m, sparsity: p.sparsity, retrainSteps: 0 });
  }
  for (const a of p.ablations) add({ label: a.label, method: 'gaprune', sparsity: p.sparsity, retrainSteps: 0, dai: a.dai });
  if (p.retrainSteps > 0) for (const seed of p.retrainSeeds) add({ label: retrainLabel(p), method: 'gaprune', sparsity: p.sparsity, seed, retrainSteps: p.retrainSteps });
  for (const s of p.sweep) for (const m of p.sweepMethods) add({ label: m, method: m, sparsity: s, retrainSteps: 0 });
  return out;
}

/** The data settings of a preset (the structured suite prepares its data with them too). */
export type SuiteDataSettings = Pick<GaprunePreset, 'domainSize' | 'generalSize' | 'pairShare' | 'dataSeed' | 'domainTasks' | 'generalTasks' | 'quickTasks' | 'corpusCaps'>;

export interface PreparedData {
  domain: TripletSet;
  general: TripletSet;
  files: { domain: string; general: string };
  domainTasks: TaskDefinition[];
  generalTasks: TaskDefinition[];
  notes: string[];
}

/**
 * Domain and general triplets written under <out>/data and the preset's tasks resolved (derived
 * ChemLit-QA half, subsampled corpora, quick variants), with notes saying where every part came from.
 */
export async function prepareSuiteData(domainName: GapruneDomain, p: SuiteDataSettings, ctx: BenchRunContext): Promise<PreparedData> {
  const dataDir = path.join(ctx.outDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const notes: string[] = [];
  const registry = taskRegistry(ctx.tasksDirs);
  const sizes = { size: p.domainSize, pairShare: p.pairShare, seed: p.dataSeed };
  let domain: TripletSet;
  const extra: TaskDefinition[] = [];
  if (domainName === 'finance') {
    domain = await financeDomainTriplets(ctx.dataRoot, sizes);
    notes.push('splits: finance triplets come from TAT-QA **dev** qrels (the suite evaluates its **test** qrels: the two share the 555-document corpus but no query id and no relevant document) and from same-intent pairs of Banking77 **train** (the suite evaluates Banking77 test; train serves there only to fit the classifier); general triplets from the **train** splits of STS-B (pairs scored ≥ 4), MRPC (paraphrases, label 1) and RTE (entailments, label 1 per its SOURCE.md), while STS-B and MRPC are evaluated on test and SST-2 on dev; SciFact and FinancialPhraseBank give no triplets.');
  } else {
    const split = splitChemlit(ctx.dataRoot, path.join(dataDir, 'chemlit_qa_retrieval-evalhalf'), `${p.dataSeed}`);
    extra.push(split.task);
    domain = await chemistryDomainTriplets(ctx.dataRoot, split, sizes);
    notes.push(`splits: ChemLit-QA has test qrels only, so its ${split.tripletQueries.length + split.evalQueries.length} queries are split by a seeded shuffle (seed ${p.dataSeed}) of the sorted query ids: ${split.tripletQueries.length} give triplets, the other ${split.evalQueries.length} are evaluated as ${CHEMLIT_EVAL_TASK} (a BEIR folder under ${path.relative(ctx.outDir, split.task.data)}/ with the whole corpus); the other chemistry triplets are same-relation pairs of ChemProt **train**, at most as many as ChemLit triplets (ChemProt is evaluated on test), so the chemistry pool is small: statistics take at most all of it and retraining cycles over it. General triplets as for finance: train splits of STS-B (≥ 4), MRPC (paraphrases), RTE (entailments).`);
  }
  const general = generalTriplets(ctx.dataRoot, { size: p.generalSize, seed: p.dataSeed });
  const files = { domain: path.join(dataDir, `${domainName}-triplets.jsonl`), general: path.join(dataDir, 'general-triplets.jsonl') };
  writeTriplets(files.domain, domain.triplets);
  writeTriplets(files.general, general.triplets);
  notes.push(`data (seeded subsamples, seed ${p.dataSeed}; BM25 hard negatives): ${domainName} triplets ${describeSet(domain)}; general triplets ${describeSet(general)}; written to ${path.relative(ctx.outDir, files.domain)} and ${path.relative(ctx.outDir, files.general)}.`);
  const resolve = (name: string): TaskDefinition => {
    let t = extra.find((e) => e.name === name) ?? registry.getTask(name);
    const cap = p.corpusCaps[name];
    if (cap !== undefined) {
      const sub = subsampleRetrievalTask(t, ctx.dataRoot, path.join(dataDir, `${t.name}-sub${cap}`), cap, p.dataSeed);
      if (sub.note) notes.push(sub.note);
      t = sub.task;
    }
    return p.quickTasks.includes(name) ? quickTask(t) : t;
  };
  const domainTasks = p.domainTasks[domainName].map(resolve);
  const generalTasks = p.generalTasks.map(resolve);
  const quick = [...domainTasks, ...generalTasks].filter((t) => t.name.endsWith('-quick')).map((t) => t.name);
  if (quick.length > 0) notes.push(`reduced repetitions: ${quick.join(', ')} run 3 classification experiments / clustering subsets instead of 10, on all of their data.`);
  return { domain, general, files, domainTasks, generalTasks, notes };
}

/** What a preset reduces compared with another (for the quick note). */
export function presetReductions(p: GaprunePreset, full: GaprunePreset, domain: GapruneDomain): string[] {
  const out: string[] = [];
  const pct = (v: readonly number[]): string => v.map((s) => `${Math.round(100 * s)}%`).join('/');
  const list = (v: readonly (string | number)[]): string => v.join(', ');
  const tasks = [...p.domainTasks[domain], ...p.generalTasks];
  const fullTasks = [...full.domainTasks[domain], ...full.generalTasks];
  if (list(tasks) !== list(fullTasks)) out.push(`tasks ${list(tasks)} instead of ${list(fullTasks)}`);
  const q = p.quickTasks.filter((t) => tasks.includes(t) && !full.quickTasks.includes(t));
  if (q.length) out.push(`${list(q)} with 3 repetitions instead of 10`);
  if (pct(p.sweep) !== pct(full.sweep)) out.push(`sparsities ${pct(p.sweep)} instead of ${pct(full.sweep)}`);
  const missing = full.baselines.filter((b) => !p.baselines.includes(b));
  if (missing.length) out.push(`baselines ${list(p.baselines)} (without ${list(missing)})`);
  if (list(p.randomSeeds) !== list(full.randomSeeds)) out.push(`random seeds ${list(p.randomSeeds)} instead of ${list(full.randomSeeds)}`);
  if (list(p.retrainSeeds) !== list(full.retrainSeeds)) out.push(`retraining seeds ${list(p.retrainSeeds)} instead of ${list(full.retrainSeeds)}`);
  if (p.retrainSteps !== full.retrainSteps) out.push(`${p.retrainSteps} retraining steps instead of ${full.retrainSteps}`);
  if (p.statsBatches !== full.statsBatches || p.batchSize !== full.batchSize) out.push(`${p.statsBatches} statistics batches of ${p.batchSize} instead of ${full.statsBatches} of ${full.batchSize}`);
  if (p.domainSize !== full.domainSize || p.generalSize !== full.generalSize) out.push(`triplet pools ${p.domainSize}/${p.generalSize} instead of ${full.domainSize}/${full.generalSize}`);
  return out;
}

function diagnosticsLine(d: DaiDiagnostics, where: string): string {
  const avg = (k: 'domainTerm' | 'generalTerm' | 'magnitudeTerm'): string => (d.layers.reduce((a, l) => a + l[k], 0) / Math.max(1, d.layers.length)).toExponential(2);
  const lo = Math.min(...d.layers.map((l) => l.alignmentFactorMin));
  const hi = Math.max(...d.layers.map((l) => l.alignmentFactorMax));
  const verdict = d.spearmanWithMagnitude > 0.99 ? 'DAI ranks weights almost exactly like magnitude (the Fisher terms are far below γ·√|W|)' : d.spearmanWithMagnitude > 0.9 ? 'DAI mostly follows magnitude, the Fisher terms reorder part of the ranking' : 'the Fisher terms reorder the ranking substantially';
  return `DAI diagnostics (${where}): Spearman(DAI, |W|) = ${d.spearmanWithMagnitude.toFixed(4)} over ${d.sampled} sampled weights; mean terms over layers: F_D·|W| ${avg('domainTerm')}, β·F_G·|W| ${avg('generalTerm')}, γ·√|W| ${avg('magnitudeTerm')} (dominant: ${d.dominantTerm}); alignment factor in [${lo.toFixed(4)}, ${hi.toFixed(4)}]. ${verdict}.`;
}

/**
 * Retrains a one-shot pruned artifact with its masks held fixed and writes a new artifact (what
 * `prunekit retrain` does: method "retrain", the one-shot artifact as its lineage).
 */
async function retrainFolder(from: string, out: string, domain: { triplets: readonly Triplet[]; file: string }, options: { steps: number; seed: number; batchSize: number; log: (l: string) => void }): Promise<number[]> {
  const masksFile = readManifest(from).files.masks;
  if (!masksFile) throw new Error(`${path.join(from, MANIFEST_FILE)}: the one-shot GAPrune artifact lists no masks file`);
  const { masks } = MaskSet.load(path.join(from, masksFile));
  const enc = await SentenceEncoder.load(from);
  try {
    const sourceFingerprint = modelFingerprint(enc.model);
    const lr = 2e-5;
    const losses = await retrainMasked(enc, masks, domain.triplets, {
      steps: options.steps, seed: options.seed, batchSize: options.batchSize, lr,
      onStep: (s, t, l) => {
        if (s === 1 || s % 10 === 0 || s === t) options.log(`retraining step ${s}/${t}, loss ${l.toFixed(4)}`);
      },
    });
    const stats = masks.stats();
    await writeArtifact({
      kind: 'pruned-model', model: enc.model, masks,
      source: { fingerprint: sourceFingerprint, parameters: enc.model.numParameters() },
      data: { domain: { fingerprint: tripletsFingerprint(domain.triplets) } },
      metrics: { losses },
      summary: `Retrained ${options.steps} steps on domain triplets with the masks of ${from} held fixed (${(100 * stats.sparsity).toFixed(2)}% of the masked weights stay zero).`,
      dispose: () => undefined,
    }, { out, method: 'retrain', options: { steps: options.steps, lr, batchSize: options.batchSize, seed: options.seed }, sourceModel: from, dataPaths: { domain: domain.file } });
    return losses;
  } finally {
    enc.dispose();
  }
}

const isModelFolder = (dir: string): boolean => fs.existsSync(path.join(dir, 'config.json')) && fs.existsSync(path.join(dir, 'model.safetensors')) && fs.existsSync(path.join(dir, MANIFEST_FILE));

/** Some tasks of a cell failed (already recorded in the outcome's failures). */
class TasksFailed extends Error {}

async function runGapruneSuite(domainName: GapruneDomain, preset: GaprunePreset, ctx: BenchRunContext): Promise<BenchOutcome> {
  const outcome: BenchOutcome = { results: [], models: [], failures: [], notes: [], sections: [] };
  const t0 = performance.now();
  const log = (l: string): void => {
    ctx.io.err(`prunekit-bench: gaprune [${((performance.now() - t0) / 1000).toFixed(0)} s]: ${l}\n`);
  };
  await initBackend({ warn: log });
  const data = await prepareSuiteData(domainName, preset, ctx);
  const variants = presetVariants(preset);
  const pct = (s: number): string => `${Math.round(100 * s)}%`;
  outcome.notes.push(
    `preset ${preset.name}${ctx.quick ? ' (--quick)' : ''}: ${variants.length} models per base model: ${variants.map(variantName).join(', ')}. Sparsity = fraction of the targeted weights set to zero; targets = ${preset.targets} (the GAPrune code's default: the feed-forward up and down matrices of every layer; attention, embeddings, LayerNorm and biases untouched), global allocation. Sweep ${preset.sweep.map(pct).join('/')} for ${preset.sweepMethods.join(' and ')}; random with seeds ${preset.randomSeeds.join(', ')}; GAPrune + ${preset.retrainSteps} retraining steps (InfoNCE on the domain triplets, AdamW lr 2e-5, batch ${preset.batchSize}, masks fixed) from the one-shot GAPrune masks with seeds ${preset.retrainSeeds.join(', ')}.`,
    `statistics: ${preset.statsBatches} batches of ${preset.batchSize} triplets per data set (${preset.statsBatches * preset.batchSize} domain and ${preset.statsBatches * preset.batchSize} general triplets of the pools; the paper samples up to 5,000), computed once and cached under work/; Fisher = ${domainName} diagonal Fisher (F ⊙ W²), Taylor = |W ⊙ ḡ_D| on ${domainName} data, Wanda on the first 256 domain queries; GAPrune DAI with β = 1, γ = 0.5, per-matrix alignment, no rescaling.`,
    ...data.notes,
  );
  if (ctx.quick) {
    const r = presetReductions(preset, DEFAULT_PRESET, domainName);
    outcome.notes.push(`quick: ${r.length ? r.join('; ') : 'nothing reduced'} (compared with the default preset).`);
  }
  const domainNames = data.domainTasks.map((t) => t.name);
  const generalNames = data.generalTasks.map((t) => t.name);
  const tasks = [...data.domainTasks, ...data.generalTasks];
  const scored: VariantScores[] = [];
  for (const base of ctx.models) {
    const baseName = path.basename(base);
    const modelsDir = path.join(ctx.outDir, 'models', baseName);
    const workDir = path.join(ctx.outDir, 'work', baseName);
    const seconds: Record<string, number> = {};
    for (const v of variants) {
      const name = `${baseName}/${variantName(v)}`;
      const tv = performance.now();
      const dir = v.method === 'dense' ? base : path.join(modelsDir, variantName(v));
      // the cell: prune (unless the folder exists) and evaluate into the results folder
      const state = { evaluated: false };
      const evaluate = async (): Promise<void> => {
        const encoder = await ctx.loadEncoder(dir, { batchSize: ctx.batchSize, name, warn: log });
        try {
          log(`${name} (${encoder.fingerprint}): ${tasks.length} tasks`);
          const before = outcome.failures.length;
          await evaluateInto(ctx, outcome, encoder, tasks, { path: dir, name, startedAt: tv });
          state.evaluated = true;
          if (outcome.failures.length > before) throw new TasksFailed(`${outcome.failures.length - before} tasks failed`);
        } finally {
          encoder.dispose?.();
        }
      };
      try {
        const available = await cellsOf(ctx).run({ key: `gaprune/${baseName}/${variantName(v)}`, label: `gaprune ${name}` }, async () => {
          if (v.method !== 'dense') {
            // the registry's options by schema key; seed and DAI only where the variant sets them
            const prune = (method: ScoringMethod, sparsity: number, out: string, extra: Record<string, unknown>, onProgress?: (stage: string, d: number, t: number) => void): Promise<unknown> => runMethod(ctx, {
              method, model: base, out, workDir,
              options: { sparsity, targets: preset.targets, batchSize: preset.batchSize, maxBatches: preset.statsBatches, ...extra },
              data: { domain: data.files.domain, general: data.files.general },
              ...(onProgress ? { onProgress } : {}),
              log: (l) => { log(`${name}: ${l}`); },
            });
            if (isModelFolder(dir)) log(`${name}: reusing ${dir}`);
            else if (v.retrainSteps > 0) {
              const oneShot = path.join(modelsDir, variantName({ label: 'gaprune', method: 'gaprune', sparsity: v.sparsity, retrainSteps: 0 }));
              if (!isModelFolder(oneShot)) await prune('gaprune', v.sparsity, oneShot, {});
              log(`${name}: ${v.retrainSteps} retraining steps (seed ${v.seed ?? 0}) from ${oneShot}`);
              const tr = performance.now();
              const losses = await retrainFolder(oneShot, dir, { triplets: data.domain.triplets, file: data.files.domain }, { steps: v.retrainSteps, seed: v.seed ?? 0, batchSize: preset.batchSize, log: (l) => { log(`${name}: ${l}`); } });
              seconds[`retrain ${variantName(v)}`] = (performance.now() - tr) / 1000;
              outcome.notes.push(`${name}: retraining loss ${losses[0]?.toFixed(4)} → ${losses.at(-1)?.toFixed(4)} over ${losses.length} steps (${((performance.now() - tr) / 1000).toFixed(0)} s).`);
            } else {
              log(`${name}: pruning (${v.method}, ${pct(v.sparsity)})`);
              let lastLogged = '';
              await prune(v.method, v.sparsity, dir, { seed: v.seed ?? 0, ...(v.dai ?? {}) }, (stage, d, t) => {
                const line = `${stage} ${d}/${t}`;
                if (line !== lastLogged && (d === t || d % 4 === 0)) log(`${name}: ${line}`);
                lastLogged = line;
              });
              const r = readManifest(dir).metrics as { seconds?: Record<string, number> };
              for (const [k, s] of Object.entries(r.seconds ?? {})) if (s > 1) seconds[k] = (seconds[k] ?? 0) + s;
            }
          }
          await evaluate();
        });
        if (!available) continue;
        const diag = path.join(dir, 'prunekit', 'diagnostics.json');
        if (v.method === 'gaprune' && v.retrainSteps === 0 && fs.existsSync(diag)) outcome.notes.push(diagnosticsLine(JSON.parse(fs.readFileSync(diag, 'utf8')) as DaiDiagnostics, `${name}, ${baseName}`));
        // a cell finished earlier (or on a queue worker): read its results back (finished tasks are not recomputed)
        if (!state.evaluated) await evaluate();
        scored.push({ model: name, label: v.label, sparsity: v.sparsity, ...(v.seed === undefined ? {} : { seed: v.seed }) });
      } catch (e) {
        if (e instanceof TasksFailed) scored.push({ model: name, label: v.label, sparsity: v.sparsity, ...(v.seed === undefined ? {} : { seed: v.seed }) });
        else {
          outcome.failures.push({ model: name, task: '(pruning)', error: (e as Error).message });
          log(`${name}: failed: ${(e as Error).message}`);
        }
      }
    }
    const stages = Object.entries(seconds).map(([k, s]) => `${k} ${s.toFixed(0)} s`);
    if (stages.length) outcome.notes.push(`${baseName} pruning time: ${stages.join(', ')}.`);
  }
  if (!summarising(ctx)) return outcome;
  const byBase = new Map<string, VariantScores[]>();
  for (const s of scored) {
    const base = s.model.slice(0, s.model.lastIndexOf('/'));
    byBase.set(base, [...(byBase.get(base) ?? []), s]);
  }
  for (const [base, vs] of byBase) {
    const rows = summarize(outcome.results, vs, domainNames, generalNames);
    const verdicts = claimVerdicts(rows, preset.sparsity, retrainLabel(preset));
    const ablations = preset.ablations.map((a) => ablationLine(rows, a.label, a.description, preset.sparsity, domainName)).filter((l) => l !== '');
    const closing = [`Paper claims on ${base} (${domainName} suite): ${formatVerdicts(verdicts, domainName)}`, ...ablations];
    outcome.sections!.push({
      title: `GAPrune vs baselines: ${base}`,
      blocks: [
        { kind: 'paragraph', text: `Mean main score ×100 over the ${domainName} suite (${domainNames.join(', ')}) and the general suite (${generalNames.join(', ')}); mean ± sample std over seeds where there are several; % of dense = ratio of the means.` },
        { kind: 'table', table: summaryTable(rows, domainName) },
        ...closing.map((text) => ({ kind: 'paragraph' as const, text })),
      ],
      charts: [{ title: `Mean score versus sparsity: ${base}`, spec: sparsityChart(rows, domainName) }],
    });
    outcome.notes.push(closing.join('\n\n'));
    if (rows.some((r) => r.label === retrainLabel(preset))) outcome.notes.push(`caveat: the retraining steps train on the ${domainName} triplets, i.e. in-domain fine-tuning (as in the paper); ${domainName === 'finance' ? 'TAT-QA dev and test queries search the same 555-document corpus, so part of the retrained model\'s gain on TATQARetrieval is adaptation to that corpus' : 'the two ChemLit-QA halves search the same corpus, so part of the retrained model\'s gain on the evaluated half is adaptation to that corpus'}, not an effect of pruning.`);
  }
  outcome.notes.push(`suite wall time ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
  return outcome;
}

export interface GapruneKindOptions {
  /** presets (tests pass a miniature one) */
  presets?: { default: GaprunePreset; quick: GaprunePreset };
}

export function makeGapruneKind(options: GapruneKindOptions = {}): SuiteKind {
  const presets = options.presets ?? { default: DEFAULT_PRESET, quick: QUICK_PRESET };
  const suite = (name: string, domain: GapruneDomain, description: string): BenchSuite => ({
    name,
    kind: 'gaprune',
    description,
    run: (ctx) => runGapruneSuite(domain, ctx.quick ? presets.quick : presets.default, ctx),
  });
  return {
    name: 'gaprune',
    description: 'GAPrune vs dense, magnitude, random, Fisher, Taylor and Wanda (plus retraining and a sparsity sweep) on a domain suite and the general suite',
    suites: () => [
      suite('gaprune', 'finance', 'GAPrune on finance: triplets from TAT-QA dev + Banking77 train, general from STS-B/MRPC/RTE train; scored on TATQARetrieval, FinancialPhraseBank, Banking77 and STSB, SST2, MRPC, SciFact (default ≈ 1 h on 2 cores, --quick ≤ 10 min)'),
      suite('gaprune-chemistry', 'chemistry', 'GAPrune on chemistry (ChemTEB analogue): triplets from half of ChemLit-QA\'s queries + ChemProt train; scored on the other half, ChemLitClustering, ChemProt, SciCite and the general suite'),
    ],
  };
}

export const gapruneKind: SuiteKind = makeGapruneKind();
