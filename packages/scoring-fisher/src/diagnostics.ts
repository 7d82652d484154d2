// DAI diagnostics: how large each term is per layer, and how closely DAI's ranking follows plain
// magnitude — so a user can see when DAI degenerates to magnitude pruning (e.g. when the Fisher
// terms are orders of magnitude below γ·√|W|).
import { createRng, parseLinearName } from '@prunekit/tensor-core';
import type { DaiTerms, Weights } from './scorers.js';
import type { ScoredMatrix } from '@prunekit/tensor-core';

export interface LayerDiagnostics {
  layer: number;
  /** mean of F_D·|W| */
  domainTerm: number;
  /** mean of β·F_G·|W| */
  generalTerm: number;
  alignmentFactorMin: number;
  alignmentFactorMax: number;
  /** mean of γ·√|W| */
  magnitudeTerm: number;
}

export interface DaiDiagnostics {
  layers: LayerDiagnostics[];
  /** Spearman rank correlation between DAI and |W| over (a sample of) all scored weights */
  spearmanWithMagnitude: number;
  sampled: number;
  /** the largest term on average, over all layers */
  dominantTerm: 'domainTerm' | 'generalTerm' | 'magnitudeTerm';
}

/** Average ranks (ties share the mean rank), 1-based. */
export function ranks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]!] = r;
    i = j + 1;
  }
  return out;
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = ra.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += ra[i]!;
    mb += rb[i]!;
  }
  ma /= n;
  mb /= n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da === 0 || db === 0 ? 0 : num / Math.sqrt(da * db);
}

export function daiDiagnostics(weights: Weights, scores: ReadonlyMap<string, ScoredMatrix>, terms: ReadonlyMap<string, DaiTerms>, sampleSize = 100_000, seed = 0): DaiDiagnostics {
  const byLayer = new Map<number, { n: number; d: number; g: number; m: number; lo: number; hi: number }>();
  for (const [name, t] of terms) {
    const layer = parseLinearName(name)?.layer ?? -1;
    const acc = byLayer.get(layer) ?? { n: 0, d: 0, g: 0, m: 0, lo: Infinity, hi: -Infinity };
    for (let i = 0; i < t.domainTerm.length; i++) {
      acc.d += t.domainTerm[i]!;
      acc.g += t.generalTerm[i]!;
      acc.m += t.magnitudeTerm[i]!;
      acc.lo = Math.min(acc.lo, t.alignmentFactor[i]!);
      acc.hi = Math.max(acc.hi, t.alignmentFactor[i]!);
    }
    acc.n += t.domainTerm.length;
    byLayer.set(layer, acc);
  }
  const layers = [...byLayer.entries()].sort((a, b) => a[0] - b[0]).map(([layer, a]) => ({
    layer, domainTerm: a.d / a.n, generalTerm: a.g / a.n, alignmentFactorMin: a.lo, alignmentFactorMax: a.hi, magnitudeTerm: a.m / a.n,
  }));
  // Spearman over a seeded sample (ranking millions of weights twice is slow and says no more)
  const total = [...scores.values()].reduce((s, m) => s + m.scores.length, 0);
  const take = Math.min(sampleSize, total);
  const rng = createRng(seed).fork('spearman');
  const dai: number[] = [];
  const mag: number[] = [];
  const names = [...scores.keys()];
  const offsets: number[] = [];
  let acc = 0;
  for (const n of names) {
    offsets.push(acc);
    acc += scores.get(n)!.scores.length;
  }
  for (let s = 0; s < take; s++) {
    const flat = take === total ? s : rng.int(total);
    let k = names.length - 1;
    while (offsets[k]! > flat) k--;
    const name = names[k]!;
    const i = flat - offsets[k]!;
    dai.push(scores.get(name)!.scores[i]!);
    mag.push(Math.abs(weights.get(name)!.data[i]!));
  }
  const sum = (key: 'domainTerm' | 'generalTerm' | 'magnitudeTerm'): number => layers.reduce((a, l) => a + Math.abs(l[key]), 0);
  const dominant = (['domainTerm', 'generalTerm', 'magnitudeTerm'] as const).reduce<'domainTerm' | 'generalTerm' | 'magnitudeTerm'>((best, k) => (sum(k) > sum(best) ? k : best), 'domainTerm');
  return { layers, spearmanWithMagnitude: spearman(dai, mag), sampled: take, dominantTerm: dominant };
}

/** A printable table of the diagnostics. */
export function formatDiagnostics(d: DaiDiagnostics): string {
  const f = (x: number): string => x.toExponential(2);
  const lines = ['| layer | F_D·|W| | β·F_G·|W| | alignment factor | γ·√|W| |', '|---|---|---|---|---|'];
  for (const l of d.layers) lines.push(`| ${l.layer} | ${f(l.domainTerm)} | ${f(l.generalTerm)} | ${l.alignmentFactorMin.toFixed(4)}–${l.alignmentFactorMax.toFixed(4)} | ${f(l.magnitudeTerm)} |`);
  lines.push('', `Spearman(DAI, |W|) = ${d.spearmanWithMagnitude.toFixed(4)} over ${d.sampled} weights; dominant term: ${d.dominantTerm}.`);
  if (d.spearmanWithMagnitude > 0.99) lines.push('DAI ranks weights almost exactly like magnitude: the Fisher terms barely move the ranking.');
  return lines.join('\n');
}
