// What the demo's table says, stated from the numbers (never from expectations): whether the export
// check passed, whether dense beats random pruning (the data is hard enough for pruning to matter),
// whether any metric is saturated, and where structured GAPrune stands against the baselines.
import type { DemoResult } from './run.js';

/** onnxruntime's embeddings must equal prunekit's within this. */
export const EXPORT_TOLERANCE = 1e-4;

export interface DemoVerdict {
  exportOk: boolean;
  maxAbsDiff: number;
  /** dense beats every random seed on the domain task */
  denseBeatsRandom: boolean;
  saturated: boolean;
  lines: string[];
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

export function demoVerdict(result: DemoResult): DemoVerdict {
  const rows = result.rows;
  const dense = rows.find((r) => r.method === 'dense');
  if (!dense) throw new Error('demo result without a dense row');
  const maxAbsDiff = Math.max(...rows.map((r) => r.maxAbsDiff));
  const exportOk = maxAbsDiff <= EXPORT_TOLERANCE;
  const random = rows.filter((r) => r.method === 'random');
  const denseBeatsRandom = random.length > 0 && random.every((r) => dense.finance > r.finance);
  const saturated = rows.every((r) => r.finance >= 0.999) || rows.every((r) => r.general >= 0.999);
  const lines: string[] = [];
  lines.push(`export check: onnxruntime-node vs prunekit (tfjs) sentence embeddings, max |diff| ${maxAbsDiff.toExponential(2)} over all models: ${exportOk ? `within ${EXPORT_TOLERANCE}` : `FAILS the ${EXPORT_TOLERANCE} tolerance`}`);
  if (random.length > 0) {
    const rf = random.map((r) => r.finance);
    lines.push(denseBeatsRandom
      ? `dense beats random pruning on finance (${dense.finance.toFixed(3)} vs ${Math.min(...rf).toFixed(3)}–${Math.max(...rf).toFixed(3)} over ${random.length} seeds)`
      : `NOTE: random pruning matches or beats dense on finance for at least one seed (${dense.finance.toFixed(3)} vs ${rf.map((x) => x.toFixed(3)).join(', ')}): on this model and data pruning is not shown to matter; read the other rows with that in mind`);
  }
  if (saturated) lines.push('NOTE: a metric is at 1.000 for every model (saturated); it cannot separate the methods');
  const named = (m: string): DemoResult['rows'][number] | undefined => rows.find((r) => r.model === m);
  const magnitude = named('magnitude');
  const pctOf = (x: number, base: number): string => `${((x / base) * 100).toFixed(0)}%`;
  for (const g of ['gaprune', 'gaprune-balanced'].map(named).filter((r) => r !== undefined)) {
    // one-shot against one-shot: GAPrune's score before recovery, when it was recovered
    const oneShot = g.financeBeforeRecovery ?? g.finance;
    const parts: string[] = [];
    if (magnitude) parts.push(`magnitude ${magnitude.finance.toFixed(3)}`);
    if (random.length > 0) parts.push(`random mean ${mean(random.map((r) => r.finance)).toFixed(3)}`);
    if (parts.length > 0) lines.push(`one-shot structured ${g.model}: finance ${oneShot.toFixed(3)} (${pctOf(oneShot, dense.finance)} of dense) against ${parts.join(', ')}; one data slice and one seed per scored method, so differences of a few points are within noise`);
  }
  const denseRecovered = rows.find((r) => r.method === 'dense' && r.financeBeforeRecovery !== null);
  const recovered = rows.filter((r) => r.method !== 'dense' && r.financeBeforeRecovery !== null);
  if (denseRecovered && recovered.length > 0) {
    lines.push(`after the same domain retraining: ${recovered.map((r) => `${r.model} ${r.finance.toFixed(3)}`).join(', ')} against the retrained dense model ${denseRecovered.finance.toFixed(3)} (${recovered.map((r) => pctOf(r.finance, denseRecovered.finance)).join(', ')}); the gain over the untouched dense model is the retraining's, not the pruning's`);
  }
  return { exportOk, maxAbsDiff, denseBeatsRandom, saturated, lines };
}
