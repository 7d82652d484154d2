// The structured suite's summary: per model (one point each) its quality as % of dense on the domain and
// general task, encoder parameters, file sizes and onnxruntime-node speedup; per variant (seeds averaged)
// one table row; the Pareto chart (quality % of dense versus ORT speedup at batch 32, one point per model,
// the Pareto front drawn as a line per panel).
import { mainScore, type ReportTable, type TaskResult } from '@prunekit/benchmarks-mteb';
import { mean, sd } from './runs.js';

export interface OrtSpeed {
  batchSize: number;
  /** ms per batch: fastest of the repeats, mean over batches */
  denseMs: number;
  modelMs: number;
  /** denseMs / modelMs */
  speedup: number;
  /** 1-minute load average when the measurement started and ended */
  loadAverage: [number, number];
}

/** What the suite measured on one model (written to <out>/structured/measure/…json). */
export interface ModelMeasure {
  /** results name: <base>/<domain>/<variant> */
  model: string;
  base: string;
  domain: string;
  /** e.g. magnitude-50-kd20, random-50-s1, dense */
  variant: string;
  /** dense, a structured scoring method, or finegates */
  method: string;
  /** 'none' or the recovery label (rt<steps>: retraining, kd<steps>: distillation) */
  recovery: string;
  seed: number | null;
  /** fraction of encoder-layer linear parameters asked to be removed (null for dense) */
  targetSparsity: number | null;
  /** [heads, head size, FFN size] per layer (JSON): models of equal shapes run the same ONNX graph cost */
  layers: string;
  /** encoder-layer linear parameters (Q, K, V, O, FFN up/down weights and biases) */
  encoderParams: number;
  /** every parameter of the model folder (embeddings included) */
  parameters: number;
  safetensorsBytes: number;
  onnxBytes: number;
  /** largest |difference| of the ONNX export's sentence embeddings from the tfjs model's on the probe texts */
  onnxMaxDiff: number;
  /** onnxruntime-node, this model against dense (null for dense itself) */
  speed: { one: OrtSpeed; many: OrtSpeed; threads: number; reusedFrom?: string } | null;
}

export interface ScoredModel extends ModelMeasure {
  domainScore: number;
  generalScore: number;
}

/** Mean main score of a model over the named tasks (NaN when one is missing). */
export function tasksMean(results: readonly TaskResult[], model: string, tasks: readonly string[]): number {
  const found = tasks.map((t) => results.find((r) => r.model_name === model && r.task_name === t));
  return found.length > 0 && found.every((r) => r !== undefined) ? mean(found.map((r) => mainScore(r!))) : Number.NaN;
}

export interface StructuredRow {
  domain: string;
  /** the variant without its seed (random-50-s1 → random-50) */
  label: string;
  method: string;
  recovery: string;
  n: number;
  encoderParams: number;
  /** % of dense's encoder parameters */
  encoderPct: number;
  safetensorsMB: number;
  onnxMB: number;
  domain_: number[];
  general: number[];
  domainPct: number[];
  generalPct: number[];
  speedOne: number[];
  speedMany: number[];
  onnxMaxDiff: number;
}

const seedless = (variant: string): string => variant.replace(/-s\d+(?=-|$)/, '');

/** Rows per (domain, variant without seed), in the order the models come; percentages against that domain's dense. */
export function structuredRows(models: readonly ScoredModel[]): StructuredRow[] {
  const groups = new Map<string, ScoredModel[]>();
  for (const m of models) {
    const key = `${m.base}\0${m.domain}\0${seedless(m.variant)}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const rows: StructuredRow[] = [];
  for (const ms of groups.values()) {
    const first = ms[0]!;
    const dense = models.find((m) => m.base === first.base && m.domain === first.domain && m.method === 'dense');
    const pct = (x: number, d: number | undefined): number => (d === undefined ? Number.NaN : (100 * x) / d);
    rows.push({
      domain: first.domain,
      label: seedless(first.variant),
      method: first.method,
      recovery: first.recovery,
      n: ms.length,
      encoderParams: mean(ms.map((m) => m.encoderParams)),
      encoderPct: pct(mean(ms.map((m) => m.encoderParams)), dense?.encoderParams),
      safetensorsMB: mean(ms.map((m) => m.safetensorsBytes)) / 1e6,
      onnxMB: mean(ms.map((m) => m.onnxBytes)) / 1e6,
      domain_: ms.map((m) => m.domainScore),
      general: ms.map((m) => m.generalScore),
      domainPct: ms.map((m) => pct(m.domainScore, dense?.domainScore)),
      generalPct: ms.map((m) => pct(m.generalScore, dense?.generalScore)),
      speedOne: ms.map((m) => (m.method === 'dense' ? 1 : m.speed?.one.speedup ?? Number.NaN)),
      speedMany: ms.map((m) => (m.method === 'dense' ? 1 : m.speed?.many.speedup ?? Number.NaN)),
      onnxMaxDiff: Math.max(...ms.map((m) => m.onnxMaxDiff)),
    });
  }
  return rows;
}

/** "12.34", "12.34 ± 0.56" over several values; "–" when none is a number. */
function cell(values: readonly number[], digits: number, scale = 1): string {
  const v = values.filter((x) => Number.isFinite(x)).map((x) => x * scale);
  if (v.length === 0) return '–';
  return v.length > 1 ? `${mean(v).toFixed(digits)} ± ${sd(v).toFixed(digits)}` : mean(v).toFixed(digits);
}

/** The table (scores ×100, sizes in MB, speedups as ×). */
export function structuredTable(rows: readonly StructuredRow[], tasks: { domain: string; general: string }): ReportTable {
  const num = (title: string): ReportTable['columns'][number] => ({ title, align: 'right' });
  return {
    columns: [
      { title: 'domain' }, { title: 'model' }, { title: 'recovery' }, num('seeds'), num('encoder params'), num('% of dense'), num('safetensors MB'), num('ONNX MB'),
      num(`${tasks.domain} ×100`), num('% of dense'), num(`${tasks.general} ×100`), num('% of dense'), num('ORT speedup b1'), num('ORT speedup b32'), num('ONNX max |Δ|'),
    ],
    rows: rows.map((r) => [
      r.domain, r.label, r.recovery, String(r.n), Math.round(r.encoderParams).toLocaleString('en-US'), Number.isFinite(r.encoderPct) ? `${r.encoderPct.toFixed(1)}%` : '–',
      r.safetensorsMB.toFixed(2), r.onnxMB.toFixed(2),
      cell(r.domain_, 2, 100), cell(r.domainPct, 1), cell(r.general, 2, 100), cell(r.generalPct, 1),
      r.method === 'dense' ? '1 (ref.)' : cell(r.speedOne, 2), r.method === 'dense' ? '1 (ref.)' : cell(r.speedMany, 2), r.onnxMaxDiff.toExponential(1),
    ]),
  };
}

/** Points not dominated by another point of their panel (higher or equal on both axes, higher on one). */
export function paretoFront<T extends { x: number; y: number }>(points: readonly T[]): T[] {
  return points.filter((p) => !points.some((q) => q !== p && q.x >= p.x && q.y >= p.y && (q.x > p.x || q.y > p.y)));
}

/**
 * Quality as % of dense versus onnxruntime-node speedup at batch 32, one point per model (seeds apart),
 * a panel per domain (rows) and task (columns: domain task, general task); the Pareto front of each
 * panel as a line.
 */
export function paretoChart(models: readonly ScoredModel[], tasks: { domain: Record<string, string>; general: string }): Record<string, unknown> {
  const values: Record<string, unknown>[] = [];
  const domains = [...new Set(models.map((m) => `${m.base}\0${m.domain}`))];
  for (const key of domains) {
    const ms = models.filter((m) => `${m.base}\0${m.domain}` === key);
    const dense = ms.find((m) => m.method === 'dense');
    if (!dense) continue;
    for (const which of ['domain task', 'general task'] as const) {
      const pts = ms.map((m) => ({
        m,
        x: m.method === 'dense' ? 1 : m.speed?.many.speedup ?? Number.NaN,
        y: which === 'domain task' ? (100 * m.domainScore) / dense.domainScore : (100 * m.generalScore) / dense.generalScore,
      })).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
      const front = new Set(paretoFront(pts));
      for (const p of pts) {
        values.push({
          panel: `${p.m.base} ${p.m.domain}`, task: which, taskName: which === 'domain task' ? tasks.domain[p.m.domain] ?? p.m.domain : tasks.general,
          model: p.m.variant, method: p.m.method, recovery: p.m.recovery, speedup: Number(p.x.toFixed(3)), quality: Number(p.y.toFixed(2)),
          encoderParamsPct: Number(((100 * p.m.encoderParams) / dense.encoderParams).toFixed(1)), front: front.has(p),
        });
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { row: { field: 'panel', type: 'nominal', title: null }, column: { field: 'task', type: 'nominal', title: null, sort: ['domain task', 'general task'] } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 320,
      height: 240,
      layer: [
        {
          transform: [{ filter: 'datum.front' }],
          mark: { type: 'line', color: '#999', strokeDash: [4, 3] },
          encoding: { x: { field: 'speedup', type: 'quantitative', sort: 'ascending' }, y: { field: 'quality', type: 'quantitative' } },
        },
        {
          mark: { type: 'point', filled: true, size: 70, tooltip: { content: 'data' } },
          encoding: {
            x: { field: 'speedup', type: 'quantitative', title: 'onnxruntime-node speedup vs dense, batch 32 (×)', scale: { zero: false } },
            y: { field: 'quality', type: 'quantitative', title: 'quality (% of dense)', scale: { zero: false } },
            color: { field: 'method', type: 'nominal', legend: { orient: 'bottom', columns: 4 } },
            shape: { field: 'recovery', type: 'nominal', legend: { orient: 'bottom' } },
          },
        },
      ],
    },
  };
}

/**
 * Where structured GAPrune (published and balanced) stands against structured magnitude and Taylor on the
 * domain task, per domain and recovery: the scores and their order; '' when neither GAPrune setting ran.
 */
export function standingLines(rows: readonly StructuredRow[]): string[] {
  const out: string[] = [];
  const compared = ['gaprune', 'gaprune-balanced', 'magnitude', 'taylor'];
  for (const domain of [...new Set(rows.map((r) => r.domain))]) {
    for (const recovery of [...new Set(rows.filter((r) => r.domain === domain).map((r) => r.recovery))]) {
      const rs = rows.filter((r) => r.domain === domain && r.recovery === recovery && compared.includes(r.method));
      if (!rs.some((r) => r.method.startsWith('gaprune')) || rs.length < 2) continue;
      const score = (r: StructuredRow): number => mean(r.domain_);
      const ordered = [...rs].sort((a, b) => score(b) - score(a));
      const fmt = (r: StructuredRow): string => `${r.method} ${(100 * score(r)).toFixed(2)} (${mean(r.domainPct).toFixed(1)}% of dense)`;
      out.push(`Structured GAPrune vs magnitude and Taylor, ${domain}, ${recovery === 'none' ? 'one-shot' : `recovery ${recovery}`} (domain task ×100, best first): ${ordered.map(fmt).join(' > ')}.`);
    }
  }
  return out;
}
