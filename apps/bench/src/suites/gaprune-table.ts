// The gaprune suites' summary: one row per (method, sparsity) with the domain and general means (mean
// ± std over seeds where randomness enters) and their percentage of dense, the score-versus-sparsity
// chart (Vega-Lite) and the verdict on the paper's three claims.
import { mainScore, type ReportTable, type TaskResult } from '@prunekit/benchmarks-mteb';
import { mean, sd } from './runs.js';

export interface VariantScores {
  /** results name of the model, e.g. "mini-encoder/gaprune-50-s1" */
  model: string;
  /** method label: dense, magnitude, random, fisher, taylor, wanda, gaprune, gaprune-rt100 */
  label: string;
  /** fraction pruned (0 for dense) */
  sparsity: number;
  seed?: number;
}

export interface SummaryRow {
  label: string;
  sparsity: number;
  /** models averaged (one per seed) */
  n: number;
  domain: number;
  domainStd: number;
  general: number;
  generalStd: number;
  /** percentages of dense (NaN without a dense row) */
  domainPct: number;
  generalPct: number;
}


/** Mean main score of a model over the named tasks (NaN when one is missing). */
export function suiteMean(results: readonly TaskResult[], model: string, tasks: readonly string[]): number {
  const scores = tasks.map((t) => results.find((r) => r.model_name === model && r.task_name === t));
  return scores.every((r) => r !== undefined) && scores.length > 0 ? mean(scores.map((r) => mainScore(r!))) : Number.NaN;
}

/** Rows in the order the variants first appear; seeds of one (label, sparsity) are averaged. */
export function summarize(results: readonly TaskResult[], variants: readonly VariantScores[], domainTasks: readonly string[], generalTasks: readonly string[]): SummaryRow[] {
  const groups = new Map<string, VariantScores[]>();
  for (const v of variants) {
    const key = `${v.label}\0${v.sparsity}`;
    groups.set(key, [...(groups.get(key) ?? []), v]);
  }
  const rows: SummaryRow[] = [];
  for (const vs of groups.values()) {
    const d = vs.map((v) => suiteMean(results, v.model, domainTasks)).filter((x) => !Number.isNaN(x));
    const g = vs.map((v) => suiteMean(results, v.model, generalTasks)).filter((x) => !Number.isNaN(x));
    if (d.length === 0 && g.length === 0) continue;
    rows.push({ label: vs[0]!.label, sparsity: vs[0]!.sparsity, n: Math.max(d.length, g.length), domain: d.length ? mean(d) : Number.NaN, domainStd: sd(d), general: g.length ? mean(g) : Number.NaN, generalStd: sd(g), domainPct: Number.NaN, generalPct: Number.NaN });
  }
  const dense = rows.find((r) => r.label === 'dense');
  for (const r of rows) {
    r.domainPct = dense ? (100 * r.domain) / dense.domain : Number.NaN;
    r.generalPct = dense ? (100 * r.general) / dense.general : Number.NaN;
  }
  return rows;
}

const fmt = (x: number, std: number, n: number): string => (Number.isNaN(x) ? '–' : n > 1 ? `${(100 * x).toFixed(2)} ± ${(100 * std).toFixed(2)}` : (100 * x).toFixed(2));
const pct = (x: number): string => (Number.isNaN(x) ? '–' : `${x.toFixed(1)}%`);

/** The summary as a report table (scores ×100). */
export function summaryTable(rows: readonly SummaryRow[], domainName: string): ReportTable {
  const num = (title: string): ReportTable['columns'][number] => ({ title, align: 'right' });
  return {
    columns: [{ title: 'method' }, num('sparsity'), num('seeds'), num(`${domainName} mean`), num('% of dense'), num('general mean'), num('% of dense')],
    rows: rows.map((r) => [r.label, `${Math.round(100 * r.sparsity)}%`, String(r.n), fmt(r.domain, r.domainStd, r.n), pct(r.domainPct), fmt(r.general, r.generalStd, r.n), pct(r.generalPct)]),
  };
}

/** Score versus sparsity, one panel per suite; lines of swept methods start at dense (0%). */
export function sparsityChart(rows: readonly SummaryRow[], domainName: string): Record<string, unknown> {
  const dense = rows.find((r) => r.label === 'dense');
  const swept = new Set(rows.filter((r) => r.label !== 'dense').map((r) => r.label).filter((l) => rows.filter((r) => r.label === l).length > 1));
  const values: { method: string; sparsity: number; suite: string; score: number; std: number; seeds: number }[] = [];
  const push = (label: string, r: SummaryRow): void => {
    if (!Number.isNaN(r.domain)) values.push({ method: label, sparsity: Math.round(100 * r.sparsity), suite: domainName, score: 100 * r.domain, std: 100 * r.domainStd, seeds: r.n });
    if (!Number.isNaN(r.general)) values.push({ method: label, sparsity: Math.round(100 * r.sparsity), suite: 'general', score: 100 * r.general, std: 100 * r.generalStd, seeds: r.n });
  };
  for (const r of rows) push(r.label, r);
  if (dense) for (const l of swept) push(l, dense);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    facet: { column: { field: 'suite', type: 'nominal', title: null, sort: [domainName, 'general'] } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 320,
      height: 240,
      mark: { type: 'line', point: { size: 60 }, tooltip: true },
      encoding: {
        x: { field: 'sparsity', type: 'quantitative', title: 'sparsity (% of MLP weights)', scale: { domain: [0, 80] } },
        y: { field: 'score', type: 'quantitative', title: 'mean main score (×100)', scale: { zero: false } },
        color: { field: 'method', type: 'nominal', legend: { orient: 'bottom', columns: 4 } },
      },
    },
  };
}

export interface ClaimVerdict {
  claim: string;
  held: boolean | null;
  detail: string;
}

/** The paper's claims on the domain suite at the main sparsity. */
export function claimVerdicts(rows: readonly SummaryRow[], sparsity: number, retrainLabel: string): ClaimVerdict[] {
  const at = (label: string): SummaryRow | undefined => rows.find((r) => r.label === label && Math.abs(r.sparsity - sparsity) < 1e-9);
  const dense = rows.find((r) => r.label === 'dense');
  const g = at('gaprune');
  const rt = at(retrainLabel);
  const s = `${Math.round(100 * sparsity)}%`;
  const v = (x: number): string => (100 * x).toFixed(2);
  const out: ClaimVerdict[] = [];
  out.push(dense && g
    ? { claim: `GAPrune one-shot at ${s} within 2.5% of dense`, held: g.domainPct >= 97.5, detail: `${v(g.domain)} vs dense ${v(dense.domain)} = ${g.domainPct.toFixed(1)}% of dense` }
    : { claim: `GAPrune one-shot at ${s} within 2.5% of dense`, held: null, detail: 'not measured' });
  // GAPrune's own variants (retraining, ablations "gaprune-…") are not baselines
  const baselines = rows.filter((r) => Math.abs(r.sparsity - sparsity) < 1e-9 && !r.label.startsWith('gaprune') && r.label !== retrainLabel && r.label !== 'dense');
  if (g && baselines.length > 0) {
    const beaten = baselines.filter((b) => g.domain >= b.domain);
    const lost = baselines.filter((b) => g.domain < b.domain);
    out.push({ claim: `GAPrune one-shot at ${s} above all baselines`, held: lost.length === 0, detail: `gaprune ${v(g.domain)}; ${baselines.map((b) => `${b.label} ${v(b.domain)}`).join(', ')}${lost.length ? `; below ${lost.map((b) => b.label).join(', ')}` : `; above all ${beaten.length}`}` });
  } else out.push({ claim: `GAPrune one-shot at ${s} above all baselines`, held: null, detail: 'not measured' });
  out.push(dense && rt
    ? { claim: `GAPrune + retraining at ${s} above dense`, held: rt.domain >= dense.domain, detail: `${v(rt.domain)}${rt.n > 1 ? ` ± ${v(rt.domainStd)} (${rt.n} seeds)` : ''} vs dense ${v(dense.domain)} = ${rt.domainPct.toFixed(1)}% of dense` }
    : { claim: `GAPrune + retraining at ${s} above dense`, held: null, detail: 'not measured' });
  return out;
}

/** One line on an ablation (a GAPrune variant with other DAI settings) against dense and the baselines; '' when it did not run. */
export function ablationLine(rows: readonly SummaryRow[], label: string, description: string, sparsity: number, domainName: string): string {
  const at = (r: SummaryRow): boolean => Math.abs(r.sparsity - sparsity) < 1e-9;
  const a = rows.find((r) => r.label === label && at(r));
  const dense = rows.find((r) => r.label === 'dense');
  if (!a || !dense) return '';
  const baselines = rows.filter((r) => at(r) && !r.label.startsWith('gaprune') && r.label !== 'dense');
  const lost = baselines.filter((b) => a.domain < b.domain);
  const v = (x: number): string => (100 * x).toFixed(2);
  return `Ablation ${label}, ${description}, not one of the paper's claims: ${domainName} mean ${v(a.domain)} = ${a.domainPct.toFixed(1)}% of dense, general ${v(a.general)} = ${a.generalPct.toFixed(1)}% of dense; ${lost.length === 0 ? `above all ${baselines.length} baselines` : `below ${lost.map((b) => `${b.label} ${v(b.domain)}`).join(', ')}`} at ${Math.round(100 * sparsity)}%.`;
}

export function formatVerdicts(verdicts: readonly ClaimVerdict[], domainName: string): string {
  return verdicts.map((c) => `${c.claim} (${domainName} mean): ${c.held === null ? 'NOT MEASURED' : c.held ? 'HELD' : 'DID NOT HOLD'} — ${c.detail}.`).join(' ');
}
