// The finegates kind: FineGates at target sparsities 0.2 / 0.3 / 0.4 against full fine-tuning, LoRA
// (r = 4 on Q and V) and BitFit, same data, steps and head, over seeds. Every run derives its model
// through the method registry (`runMethod`: gates-finegates' finegates, lora, bitfit and full-ft, the
// definitions `prunekit prune --method` runs) and is one artifact folder under <out>/finegates/runs
// (HF folder + prunekit/manifest.json, gates.safetensors, head.safetensors, training.json); a folder
// with its manifest (and, for a timed FineGates run, its timing) is reused when the suite is run
// again (resume). For each FineGates run the compacted model's CPU encode time is measured against
// the dense encoder's (batch 1 and 32, interleaved, medians) while the models are still in memory,
// into <out>/finegates/speed/. Writes <out>/finegates/table.md and runs.json; the closing note says
// which of the paper's claims held.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend, loadModel, modelFingerprint, readManifest, writeFileAtomic, writeJsonAtomic } from '@prunekit/tensor-core';
import { FineGatesAdapter, TASKS, compactGated, measureOnnxSpeed, measureSpeed, trainedGatesOf, type Method, type SpeedResult } from '@prunekit/gates-finegates';
import { mean, pctCell, sd, presetKind, runMethod, runOrReuse, seedsTaskResult, summarising, type PresetKindOptions, type PresetName } from './runs.js';
import type { BenchOutcome, BenchRunContext, SuiteKind } from './types.js';

export interface FineGatesPreset {
  tasks: string[];
  sparsities: number[];
  baselines: Method[];
  seeds: number[];
  steps: number;
  batchSize: number;
  maxLength: number;
  maxTrain: number;
  maxTest: number;
  /** FineGates gate lr: the paper's 1e-3 unless set */
  gateLr?: number;
  /** the old setting, gate lr = gateTravel / steps (lets gates close in a smoke run's few steps); used when gateLr is absent */
  gateTravel?: number;
  /** FineGates head warm-up: steps before the regulariser starts and the gates move */
  sparsityStartStep: number;
  /** speed measurement: batches of 1 and of 32 */
  speedBatches: { one: number; many: number; repeats: number };
  /** time the compacted models of every seed (else of the first seed only) */
  speedAllSeeds: boolean;
}

const ALL_TASKS = ['glue_sst2', 'glue_mrpc', 'glue_rte', 'glue_cola', 'financial_phrasebank', 'banking77'];
const BASELINES: Method[] = ['full-ft', 'lora', 'bitfit'];

export const FINEGATES_PRESETS: Readonly<Record<PresetName, FineGatesPreset>> = {
  // smoke run, ≤ 10 minutes on 2 cores: too few steps for the paper's gate lr, so the gates travel 5/steps per step
  quick: { tasks: ['glue_sst2', 'financial_phrasebank'], sparsities: [0.2, 0.3, 0.4], baselines: BASELINES, seeds: [0], steps: 50, sparsityStartStep: 10, batchSize: 16, maxLength: 64, maxTrain: 2000, maxTest: 300, gateTravel: 5, speedBatches: { one: 12, many: 2, repeats: 5 }, speedAllSeeds: true },
  // the claim on one task, targets 0.3 and 0.5, about 1.5 h on 2 idle cores for the three seeds (≈ 0.35 s per FineGates step and
  // 0.22 s per full fine-tuning step idle; about 2.5× that under a load of 5): the paper's gate lr 1e-3, 400
  // steps of head warm-up, then 2100 gate steps: θ starts at ≈ 1 and a gate closes only below atanh(−0.5) ≈
  // −0.55, and Adam moves θ by at most ≈ lr per step, so ≥ 1550 gate steps are needed for any gate to close
  default: { tasks: ['glue_sst2'], sparsities: [0.3, 0.5], baselines: ['full-ft'], seeds: [0, 1, 2], steps: 2500, sparsityStartStep: 400, gateLr: 1e-3, batchSize: 16, maxLength: 64, maxTrain: 20000, maxTest: 1000, speedBatches: { one: 12, many: 3, repeats: 5 }, speedAllSeeds: true },
  // every task and baseline, two more targets and longer training (many hours on 2 cores)
  full: { tasks: ALL_TASKS, sparsities: [0.3, 0.5, 0.7], baselines: BASELINES, seeds: [0, 1, 2], steps: 5000, sparsityStartStep: 500, gateLr: 1e-3, batchSize: 16, maxLength: 128, maxTrain: 20000, maxTest: 1000, speedBatches: { one: 32, many: 4, repeats: 7 }, speedAllSeeds: true },
};

interface Row {
  task: string;
  method: Method;
  label: string;
  sparsity: number | null;
  seed: number;
  accuracy: number;
  mcc: number;
  main: number;
  trainable: number;
  /** attention + FFN parameters removed (fraction), FineGates only */
  removedLinear: number | null;
  removedTotal: number | null;
  removedParams: number | null;
  /** FineGates: fractions of row/column gates closed and half-open at evaluation, AUC of the initial θ vs closed */
  gatesClosed: number | null;
  gatesHalfOpen: number | null;
  initialThetaAuc: number | null;
  /** the saved compacted model (residual inputs gathered) */
  speed1: SpeedResult | null;
  speed32: SpeedResult | null;
  /** the same without gathered inputs */
  speedNg1: SpeedResult | null;
  speedNg32: SpeedResult | null;
  /** the saved compacted model against the dense encoder in onnxruntime-node (2 intra-op threads) */
  onnx1: SpeedResult | null;
  onnx32: SpeedResult | null;
  compactMaxDiff: number | null;
  seconds: number;
  dataNote: string;
}

/** the preset's gate lr: gateLr, else gateTravel / steps, else the paper's 1e-3 */
export function gateLrOf(p: FineGatesPreset): number {
  return p.gateLr ?? (p.gateTravel !== undefined ? p.gateTravel / p.steps : 1e-3);
}

const labelOf = (method: Method, s: number | null): string => (method === 'finegates' ? `finegates-${s}` : method);

interface StoredReport {
  trainable: { total: number };
  removal: { linearRemovedFraction: number; totalRemovedFraction: number; linearBefore: number; linearAfter: number } | null;
  compactMaxDiff: number | null;
  seconds: number;
  data: { note: string };
  gateStats?: { gates?: { total: number; closed: number; halfOpen: number } } | null;
  initialThetaAuc?: number | null;
}

/**
 * A run's options by the registry method's schema keys: the preset's settings, and for FineGates its
 * target sparsity, gate lr and head warm-up.
 */
export function gatesMethodOptions(p: FineGatesPreset, method: Method, sparsity: number | null, seed: number): Record<string, unknown> {
  return {
    steps: p.steps, batchSize: p.batchSize, maxLength: p.maxLength, maxTrain: p.maxTrain, maxTest: p.maxTest, seed, checkpointEvery: 25,
    ...(method === 'finegates' ? { sparsity, gateLr: gateLrOf(p), sparsityStartStep: p.sparsityStartStep } : {}),
  };
}

/** A finished run's row from its artifact folder (manifest metrics, training report) and timing file; null while either is missing. */
function rowFrom(out: string, speedFile: string, task: string, method: Method, sparsity: number | null, seed: number, timed: boolean): Row | null {
  if (!fs.existsSync(path.join(out, 'prunekit', 'manifest.json'))) return null;
  if (method === 'finegates' && timed && !fs.existsSync(speedFile)) return null;
  const metrics = readManifest(out).metrics as { accuracy: number; mcc: number };
  const r = JSON.parse(fs.readFileSync(path.join(out, 'prunekit', 'training.json'), 'utf8')) as StoredReport;
  const sp = method === 'finegates' && fs.existsSync(speedFile) ? (JSON.parse(fs.readFileSync(speedFile, 'utf8')) as { one: SpeedResult; many: SpeedResult; noGatherOne: SpeedResult; noGatherMany: SpeedResult; onnxOne?: SpeedResult | null; onnxMany?: SpeedResult | null }) : null;
  const metric = TASKS[task]!.metric;
  return {
    task, method, label: labelOf(method, sparsity), sparsity, seed,
    accuracy: metrics.accuracy, mcc: metrics.mcc, main: metric === 'mcc' ? metrics.mcc : metrics.accuracy,
    trainable: r.trainable.total,
    removedLinear: r.removal?.linearRemovedFraction ?? null, removedTotal: r.removal?.totalRemovedFraction ?? null,
    removedParams: r.removal ? r.removal.linearBefore - r.removal.linearAfter : null,
    gatesClosed: r.gateStats?.gates ? r.gateStats.gates.closed / r.gateStats.gates.total : null,
    gatesHalfOpen: r.gateStats?.gates ? r.gateStats.gates.halfOpen / r.gateStats.gates.total : null,
    initialThetaAuc: r.initialThetaAuc ?? null,
    speed1: sp?.one ?? null, speed32: sp?.many ?? null, speedNg1: sp?.noGatherOne ?? null, speedNg32: sp?.noGatherMany ?? null, onnx1: sp?.onnxOne ?? null, onnx32: sp?.onnxMany ?? null, compactMaxDiff: r.compactMaxDiff, seconds: r.seconds, dataNote: r.data.note,
  };
}

async function runFineGatesSuite(ctx: BenchRunContext, presetName: PresetName, p: FineGatesPreset): Promise<BenchOutcome> {
  const outcome: BenchOutcome = { results: [], models: [], failures: [], notes: [] };
  await initBackend({ warn: (l) => { ctx.io.err(`${l}\n`); } });
  const root = path.join(ctx.outDir, 'finegates');
  const gateLr = gateLrOf(p);
  const allRows: Row[] = [];
  const sections: string[] = [];
  for (const modelDir of ctx.models) {
    const t0 = performance.now();
    const probe = loadModel(modelDir);
    const fp = modelFingerprint(probe);
    probe.dispose();
    const modelName = path.basename(path.resolve(modelDir));
    const runs: { task: string; method: Method; sparsity: number | null; seed: number }[] = [];
    for (const task of p.tasks) {
      for (const seed of p.seeds) {
        for (const method of p.baselines) runs.push({ task, method, sparsity: null, seed });
        for (const s of p.sparsities) runs.push({ task, method: 'finegates', sparsity: s, seed });
      }
    }
    const rows: Row[] = [];
    let i = 0;
    for (const r of runs) {
      i++;
      const label = labelOf(r.method, r.sparsity);
      const out = path.join(root, 'runs', modelName, r.task, `${label}-seed${r.seed}`);
      const speedFile = path.join(root, 'speed', modelName, r.task, `${label}-seed${r.seed}.json`);
      const timed = r.method === 'finegates' && (p.speedAllSeeds || r.seed === p.seeds[0]);
      const row = await runOrReuse(ctx, outcome, {
        key: path.relative(ctx.outDir, out),
        read: () => rowFrom(out, speedFile, r.task, r.method, r.sparsity, r.seed, timed),
        announce: `prunekit-bench finegates [${i}/${runs.length}] ${modelName} ${r.task} ${label} seed ${r.seed}`,
        failure: { model: `${modelName} ${label} seed ${r.seed}`, task: r.task },
        execute: async () => {
          const workDir = path.join(root, 'work', modelName, r.task, path.basename(out));
          const t0 = performance.now();
          const manifest = await runMethod(ctx, {
            method: r.method, model: modelDir, out, workDir,
            options: gatesMethodOptions(p, r.method, r.sparsity, r.seed),
            data: { dataRoot: ctx.dataRoot, task: r.task },
            log: () => undefined,
            use: async (artifact) => {
              const t = trainedGatesOf(artifact);
              if (!timed || !t?.compacted || !(t.adapter instanceof FineGatesAdapter)) return;
              // the same compaction with the closed residual-input columns left as zeros instead of gathered away
              const compactedNoGather = compactGated(t.model, t.adapter, { gatherInputs: false }).model;
              try {
                const { model: dense, compacted, test, padId } = t;
                const b1 = { batchSize: 1, batches: p.speedBatches.one, repeats: p.speedBatches.repeats };
                const b32 = { batchSize: 32, batches: p.speedBatches.many, repeats: p.speedBatches.repeats };
                const tfjs = {
                  one: measureSpeed(dense, compacted, test, padId, b1), many: measureSpeed(dense, compacted, test, padId, b32),
                  noGatherOne: measureSpeed(dense, compactedNoGather, test, padId, b1), noGatherMany: measureSpeed(dense, compactedNoGather, test, padId, b32),
                };
                // onnxruntime-node: the exported dense and compacted encoders, 2 intra-op threads (the machine's cores)
                let onnx: { onnxOne: SpeedResult | null; onnxMany: SpeedResult | null; onnxError?: string } = { onnxOne: null, onnxMany: null };
                try {
                  onnx = { onnxOne: await measureOnnxSpeed(dense, compacted, test, padId, { ...b1, threads: 2 }), onnxMany: await measureOnnxSpeed(dense, compacted, test, padId, { ...b32, threads: 2 }) };
                } catch (e) {
                  onnx.onnxError = (e as Error).message;
                  ctx.io.err(`  onnxruntime timing failed: ${onnx.onnxError}\n`);
                }
                fs.mkdirSync(path.dirname(speedFile), { recursive: true });
                writeJsonAtomic(speedFile, {
                  ...tfjs, ...onnx, loadAverage: os.loadavg(),
                  note: 'encoder forward on test inputs, dense and compacted alternating, fastest repeat per batch, mean over batches (ms); tfjs-node and onnxruntime-node (graph optimisation all, 2 intra-op threads); loadAverage: the machine\'s 1/5/15-minute load after timing',
                });
              } finally {
                compactedNoGather.dispose();
              }
            },
          });
          // the checkpoints served only this run (a finished run is read back from its folder)
          fs.rmSync(workDir, { recursive: true, force: true });
          const m = manifest.metrics as { accuracy: number };
          const removed = manifest.sparsity?.total;
          ctx.io.err(`  accuracy ${(100 * m.accuracy).toFixed(2)}%${removed !== undefined ? `, ${(100 * removed).toFixed(1)}% of attention+FFN parameters removed` : ''} in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
        },
      });
      if (row) rows.push(row);
    }
    allRows.push(...rows);
    if (!summarising(ctx)) continue;

    // results in the bench's layout: one "model" per method, mean over seeds
    for (const label of [...new Set(rows.map((r) => r.label))]) {
      for (const task of p.tasks) {
        const rs = rows.filter((r) => r.label === label && r.task === task);
        if (!rs.length) continue;
        const spec = TASKS[task]!;
        outcome.results.push(seedsTaskResult({
          task: `${task}-finegates`,
          type: task === 'glue_mrpc' || task === 'glue_rte' ? 'pair-classification' : 'classification',
          domain: task === 'financial_phrasebank' || task === 'banking77' ? 'finance' : 'general',
          split: spec.test.replace('.jsonl', ''),
          mainMetric: spec.metric === 'mcc' ? 'mcc' : 'accuracy',
          modelName: `${modelName} ${label}`,
          fingerprint: fp,
          runs: rs,
          metrics: { accuracy: mean(rs.map((r) => r.accuracy)), mcc: mean(rs.map((r) => r.mcc)) },
          extra: {
            trainable_parameters: rs[0]!.trainable,
            ...(rs[0]!.removedLinear !== null ? { removed_linear_fraction: mean(rs.map((r) => r.removedLinear!)) } : {}),
            ...(rs.some((r) => r.speed1) ? { speedup_batch1: mean(rs.filter((r) => r.speed1).map((r) => r.speed1!.speedup)), speedup_batch32: mean(rs.filter((r) => r.speed32).map((r) => r.speed32!.speedup)) } : {}),
          },
        }));
      }
    }
    outcome.models.push({ path: modelDir, name: modelName, fingerprint: fp, wallTime: (performance.now() - t0) / 1000 });
    sections.push(modelTable(modelName, rows, p));
  }
  if (!summarising(ctx)) return outcome;

  const setup = `${p.steps} steps of batch ${p.batchSize} (inputs ≤ ${p.maxLength} tokens) for every method, seeds ${p.seeds.join(', ')}; AdamW, constant lr, no weight decay; head (RoBERTa-style dense+tanh+out_proj on the first token) lr 1e-3; encoder-side lr 1e-3 (FineGates biases, LoRA, BitFit) and 1e-4 (full fine-tuning); FineGates λ = 50, σ = 0.1, σ_reg = 0.5, gates on Q/K/V/O/FFN up/down, gate lr ${gateLr.toPrecision(3)}${p.gateLr === undefined && p.gateTravel !== undefined ? ` (= ${p.gateTravel} / steps: a smoke setting, see below)` : ' (the paper\'s)'}, head warm-up ${p.sparsityStartStep} steps (regulariser off and gates held still before it); train splits subsampled to ${p.maxTrain} and test splits to ${p.maxTest} examples by a permutation seeded per task (the same subset for every method and seed); SST-2, RTE and CoLA evaluate on dev (GLUE test labels are hidden)`;
  const lines = [`# FineGates suite (${presetName} preset)`, '', `Setup: ${setup}.`, '', ...sections, claimsNote(allRows, p)];
  writeFileAtomic(path.join(root, 'table.md'), `${lines.join('\n')}\n`);
  writeJsonAtomic(path.join(root, 'runs.json'), { preset: presetName, settings: p, gateLr, rows: allRows });
  ctx.io.err(`${lines.join('\n')}\n`);
  outcome.notes.push(
    `finegates suite, ${presetName} preset${ctx.quick ? ' (--quick)' : ''}: ${setup}.`,
    `Gate learning rate: the paper trains gates at lr 1e-3 for ~100 epochs (thousands of steps). A gate closes at evaluation only when θ falls from ≈1 to below atanh(−0.5) ≈ −0.55, and Adam moves θ by at most ≈ lr per step, so at 1e-3 a gate needs ≥ 1550 steps after the warm-up to close; ${gateLr * (p.steps - p.sparsityStartStep) >= 1.55 ? `this preset gives the gates ${p.steps - p.sparsityStartStep} steps at ${gateLr.toPrecision(3)}` : `this preset's ${p.steps - p.sparsityStartStep} gate steps at ${gateLr.toPrecision(3)} cannot close a gate at the paper's rate (a smoke run)`}.`,
    `Table with trainable parameters, parameters removed and measured CPU speedups: ${path.join(root, 'table.md')}; run folders (artifact folders: the compacted model or the adapted weights, prunekit/manifest.json with the metrics, gates, head and training report) under ${path.join(root, 'runs')}, timings under ${path.join(root, 'speed')} (both reused when the suite is run again).`,
    claimsNote(allRows, p).replace(/^## .*\n\n/, ''),
  );
  return outcome;
}

function modelTable(modelName: string, rows: Row[], p: FineGatesPreset): string {
  const labels = [...p.baselines.map((m) => labelOf(m, null)), ...p.sparsities.map((s) => labelOf('finegates', s))];
  const lines = [`## ${modelName}`, '', `Score ×100 (accuracy; CoLA: Matthews correlation), mean${p.seeds.length > 1 ? ' ± sd' : ''} over ${p.seeds.length} seed${p.seeds.length > 1 ? 's' : ''}.`, ''];
  lines.push(`| method | ${p.tasks.join(' | ')} | mean | trainable params | attn+FFN params removed | whole model removed | CPU speedup b=1 | b=32 | b=1, no gather | b=32, no gather | ONNX Runtime b=1 | ORT b=32 |`);
  lines.push(`|---|${p.tasks.map(() => '---:|').join('')}---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const label of labels) {
    const rs = rows.filter((r) => r.label === label);
    if (!rs.length) continue;
    const perTask = p.tasks.map((t) => pctCell(rs.filter((r) => r.task === t).map((r) => r.main)));
    const taskMeans = p.tasks.map((t) => rs.filter((r) => r.task === t).map((r) => r.main)).filter((v) => v.length > 0).map(mean);
    const fg = rs[0]!.removedLinear !== null;
    const tr = [...new Set(rs.map((r) => r.trainable))];
    const trainable = tr.length === 1 ? String(tr[0]) : `${Math.min(...tr)}–${Math.max(...tr)}`;
    lines.push(`| ${label} | ${perTask.join(' | ')} | ${(100 * mean(taskMeans)).toFixed(1)} | ${trainable} | ${fg ? pctCell(rs.map((r) => r.removedLinear!)) + '%' : '0'} | ${fg ? pctCell(rs.map((r) => r.removedTotal!)) + '%' : '0'} | ${[(r: Row) => r.speed1, (r: Row) => r.speed32, (r: Row) => r.speedNg1, (r: Row) => r.speedNg32, (r: Row) => r.onnx1, (r: Row) => r.onnx32].map((f) => (!fg ? '1' : rs.some((r) => f(r)) ? `${mean(rs.filter((r) => f(r)).map((r) => f(r)!.speedup)).toFixed(2)}×` : '–')).join(' | ')} |`);
  }
  const fgRows = rows.filter((r) => r.method === 'finegates');
  const timedRows = fgRows.filter((r) => r.speed1);
  if (fgRows.length) {
    const diff = Math.max(...fgRows.map((r) => r.compactMaxDiff ?? 0));
    lines.push('', `Compacted vs gated model, max |logit difference| over every FineGates run's test set: ${diff.toExponential(2)}.`);
    lines.push(`Encode time (ms per batch, dense → compacted → compacted without gathered inputs), mean over runs: ${p.sparsities.map((s) => {
      const rs = timedRows.filter((r) => r.sparsity === s);
      const f = (k: (r: Row) => number, d: number): string => mean(rs.map(k)).toFixed(d);
      return `s=${s}: b=1 ${f((r) => r.speed1!.denseMs, 1)} → ${f((r) => r.speed1!.compactMs, 1)} → ${f((r) => r.speedNg1!.compactMs, 1)}, b=32 ${f((r) => r.speed32!.denseMs, 0)} → ${f((r) => r.speed32!.compactMs, 0)} → ${f((r) => r.speedNg32!.compactMs, 0)}`;
    }).join('; ')}${p.speedAllSeeds ? '' : ` (seed ${p.seeds[0]} only)`}. Speedups: "no gather" is the same compaction with the closed residual-input columns of Q/K/V/FFN-up left as zeros instead of gathered away (each gather copies activations).`);
  }
  lines.push('', `Data: ${[...new Set(rows.map((r) => `${r.task}: ${r.dataNote}`))].join('; ')}.`, '');
  return lines.join('\n');
}

/** Which of the paper's claims held, from the numbers (no tuning after the fact). */
function claimsNote(rows: Row[], p: FineGatesPreset): string {
  const lines = ['## Claims (../shared/METHODS.md)', ''];
  const full = rows.filter((r) => r.method === 'full-ft');
  if (!full.length || !rows.some((r) => r.method === 'finegates')) return `${lines.join('\n')}Not enough runs to judge.\n`;
  const ms = (v: readonly number[], scale = 100, d = 1): string => (v.length ? `${(scale * mean(v)).toFixed(d)} ± ${(scale * sd(v)).toFixed(d)}` : '–');
  const few = 0.03;
  let held = false;
  for (const s of p.sparsities) {
    const fg = rows.filter((r) => r.method === 'finegates' && r.sparsity === s);
    if (!fg.length) continue;
    // per seed: FineGates' score minus full fine-tuning's of the same task and seed, averaged over tasks
    const seeds = [...new Set(fg.map((r) => r.seed))].filter((seed) => full.some((f) => f.seed === seed));
    const gaps = seeds.map((seed) => mean(fg.filter((r) => r.seed === seed).map((r) => mean(full.filter((f) => f.task === r.task && f.seed === seed).map((f) => f.main)) - r.main)));
    const whole = fg.map((r) => r.removedTotal!);
    const timed = fg.filter((r) => r.speed1 && r.speed32);
    const best = timed.map((r) => Math.max(r.speed1!.speedup, r.speed32!.speedup, r.speedNg1?.speedup ?? 0, r.speedNg32?.speedup ?? 0, r.onnx1?.speedup ?? 0, r.onnx32?.speedup ?? 0));
    const ok = gaps.length > 0 && mean(whole) >= 0.2 && mean(whole) <= 0.4 && mean(gaps) <= few && best.length > 0 && mean(best) > 1;
    if (ok) held = true;
    lines.push(`- target ${s}: ${ms(whole)}% of the whole model removed (${ms(fg.map((r) => r.removedLinear!))}% of attention+FFN); score ${ms(gaps)} points below full fine-tuning (FineGates − full-ft per seed, mean ± sd over ${gaps.length} seed${gaps.length === 1 ? '' : 's'}; negative = above); tfjs-node CPU speedup of the compacted model b=1 ${ms(timed.map((r) => r.speed1!.speedup), 1, 2)}×, b=32 ${ms(timed.map((r) => r.speed32!.speedup), 1, 2)}×; onnxruntime-node b=1 ${ms(fg.filter((r) => r.onnx1).map((r) => r.onnx1!.speedup), 1, 2)}×, b=32 ${ms(fg.filter((r) => r.onnx32).map((r) => r.onnx32!.speedup), 1, 2)}×; gates closed ${ms(fg.map((r) => r.gatesClosed ?? 0), 100, 1)}%, half-open ${ms(fg.map((r) => r.gatesHalfOpen ?? 0), 100, 1)}%; AUC of the initial θ vs closed ${ms(fg.filter((r) => r.initialThetaAuc !== null && !Number.isNaN(r.initialThetaAuc)).map((r) => r.initialThetaAuc!), 1, 3)}.`);
  }
  lines.push('',
    `- Claim "FineGates removes 20-40% of the whole model within a few points (here ≤ 3) of full fine-tuning with a measured CPU speedup": ${held ? 'HELD' : 'NOT HELD'} (at some target of this run: mean whole-model removal in [20%, 40%], mean gap ≤ 3 points, mean best speedup > 1×; at this budget, on the tasks above).`,
    '');
  return lines.join('\n');
}

/** The finegates kind; tests pass miniature presets. */
export function makeFineGatesKind(options: PresetKindOptions<FineGatesPreset> = {}): SuiteKind {
  return presetKind({
    name: 'finegates',
    description: 'FineGates at per-gate target sparsities vs full fine-tuning, LoRA (r = 4) and BitFit: score, trainable parameters, parameters removed, CPU speedup of the compacted model',
    presets: options.presets ?? FINEGATES_PRESETS,
    run: runFineGatesSuite,
    suites: [
      ['finegates', 'default', 'FineGates at targets 0.3 and 0.5 vs full fine-tuning on glue_sst2, 3 seeds, 2500 steps at the paper\'s gate lr after a 400-step head warm-up (about 1.5 h on 2 idle cores; --quick: a smoke run on glue_sst2 and financial_phrasebank with LoRA and BitFit, one seed, under 10 minutes)'],
      ['finegates-full', 'full', 'the finegates suite with 600 training steps and longer inputs (several hours on 2 cores)'],
    ],
  });
}

export const finegatesKind: SuiteKind = makeFineGatesKind();
