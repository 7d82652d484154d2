// Trained gates → a physically smaller model. The evaluation gates are folded into the weights
// (W' = diag(z_r)·W·diag(z_c), b' = z_r ⊙ b with the trained biases), so a closed row/column is exactly
// zero (bias included); tensor-core's planFromGates then removes every coupled group the folded model
// does not use (heads / query-key dims / value dims with the attention output's columns, FFN neurons
// with the down projection's columns, residual input features gathered away) and compact() builds the
// model. Its outputs equal the gated model's evaluation outputs up to float rounding.
import * as tf from '@tensorflow/tfjs-core';
import {
  compact, headLayout, layerLinearParameters, layerNames, planFromGates, EncoderModel, PlanError,
  type CompactionPlan, type LayerReport,
} from '@prunekit/tensor-core';
import type { FineGatesAdapter } from './adapters.js';

/** A copy of the model whose gated linears carry the folded evaluation gates and trained biases. */
export function foldGates(model: EncoderModel, adapter: FineGatesAdapter): EncoderModel {
  const params = new Map<string, tf.Tensor>();
  const gates = adapter.gates.evalGates();
  try {
    for (const [name, t] of model.params) {
      const g = gates.get(name);
      if (g) {
        params.set(name, tf.tidy(() => tf.mul(tf.mul(t, tf.reshape(g.rows, [-1, 1])), tf.reshape(g.cols, [1, -1]))));
        continue;
      }
      const b = adapter.biases.get(name);
      if (b) {
        const w = name.replace(/\.bias$/, '.weight');
        params.set(name, tf.tidy(() => tf.mul(b, gates.get(w)!.rows)));
        continue;
      }
      params.set(name, t.clone());
    }
  } catch (err) {
    for (const t of params.values()) t.dispose();
    throw err;
  } finally {
    for (const g of gates.values()) tf.dispose([g.rows, g.cols]);
  }
  return new EncoderModel(model.config, params, model.prefix);
}

export interface LayerRemoval extends LayerReport {
  /** attention + FFN linear parameters (weights and biases) before and after compaction */
  paramsBefore: number;
  paramsAfter: number;
  removed: number;
  /** gated weights in closed rows/columns (some, e.g. rows writing the residual stream, stay as zeros) */
  gatedOff: number;
}

export interface RemovalReport {
  layers: LayerRemoval[];
  /** all parameters of the model before / after */
  totalBefore: number;
  totalAfter: number;
  /** attention + FFN linear parameters before / after */
  linearBefore: number;
  linearAfter: number;
  /** removed / linearBefore */
  linearRemovedFraction: number;
  /** removed / totalBefore */
  totalRemovedFraction: number;
}

function layerParams(model: EncoderModel, l: number): number {
  let n = 0;
  for (const k of Object.values(layerNames(model.prefix, l).linear)) n += (model.params.get(k.weight)?.size ?? 0) + (model.params.get(k.bias)?.size ?? 0);
  return n;
}

export interface CompactResult {
  model: EncoderModel;
  plan: CompactionPlan;
  report: RemovalReport;
}

/**
 * Gives every kept head of a layer the same number of query/key and of value dims (the layer's largest),
 * by keeping back removed dims, lowest first. Those dims are zero in the folded model (or their constant
 * value bias was to be folded: it then stays in the model instead), so the result is unchanged; the
 * forward then runs all heads in one batched matmul instead of one head at a time, which matters at
 * small batches where per-op overhead dominates.
 */
export function uniformHeads(plan: CompactionPlan): CompactionPlan {
  const layers = plan.layers.map((lp, l) => {
    if (lp.heads.length === 0) return lp;
    const lay = headLayout(plan.shapes[l]!);
    const maxQk = Math.max(...lp.heads.map((h) => h.qk.length));
    const maxV = Math.max(...lp.heads.map((h) => h.v.length));
    const readded = new Set<number>();
    const pad = (kept: number[], size: number, target: number, onAdd: (d: number) => void): number[] => {
      const set = new Set(kept);
      for (let d = 0; d < size && set.size < target; d++) {
        if (!set.has(d)) {
          set.add(d);
          onAdd(d);
        }
      }
      return [...set].sort((a, b) => a - b);
    };
    const heads = lp.heads.map((h) => ({
      head: h.head,
      qk: pad(h.qk, lay.qkDims[h.head]!, maxQk, () => undefined),
      v: pad(h.v, lay.vDims[h.head]!, maxV, (d) => readded.add(lay.vOffsets[h.head]! + d)),
    }));
    return { ...lp, heads, foldV: lp.foldV.filter((r) => !readded.has(r)) };
  });
  return { ...plan, layers };
}

export interface CompactGatedOptions {
  /** pad kept heads to equal sizes (default true; see uniformHeads) */
  uniformHeads?: boolean;
  /**
   * gather away the residual features a reading linear (Q, K, V, FFN up) no longer uses (default true).
   * Smaller, but each gather copies activations: on tfjs CPU, leaving those columns as zeros is often faster.
   */
  gatherInputs?: boolean;
}

/** Gates → plan → smaller model, with the per-layer removal report. The source model is not changed. */
export function compactGated(model: EncoderModel, adapter: FineGatesAdapter, options: CompactGatedOptions = {}): CompactResult {
  const folded = foldGates(model, adapter);
  try {
    const map = adapter.gates.gateMap();
    const exact = planFromGates(folded, map, { gatherInputs: options.gatherInputs ?? true });
    const plan = options.uniformHeads ?? true ? uniformHeads(exact) : exact;
    const small = compact(folded, plan);
    const gatedOff = new Map<number, number>();
    for (const s of adapter.gates.specs) {
      const g = map.get(s.name)!;
      const openR = g.rows!.reduce((a, x) => a + x, 0);
      const openC = g.cols!.reduce((a, x) => a + x, 0);
      gatedOff.set(s.layer, (gatedOff.get(s.layer) ?? 0) + s.rows * s.cols - openR * openC);
    }
    const layers: LayerRemoval[] = plan.report.perLayer.map((r) => {
      const before = layerParams(model, r.layer);
      const after = layerParams(small, r.layer);
      // dims counted from the plan actually applied (uniformHeads keeps some back)
      const lay = headLayout(plan.shapes[r.layer]!);
      const kept = plan.layers[r.layer]!.heads;
      const qkDimsRemoved = lay.qkDims.reduce((a, b) => a + b, 0) - kept.reduce((a, h) => a + h.qk.length, 0);
      const vDimsRemoved = lay.vDims.reduce((a, b) => a + b, 0) - kept.reduce((a, h) => a + h.v.length, 0);
      return { ...r, qkDimsRemoved, vDimsRemoved, paramsBefore: before, paramsAfter: after, removed: before - after, gatedOff: gatedOff.get(r.layer) ?? 0 };
    });
    const linearBefore = layerLinearParameters(model);
    const linearAfter = layerLinearParameters(small);
    const totalBefore = model.numParameters();
    const totalAfter = small.numParameters();
    return {
      model: small, plan,
      report: {
        layers, totalBefore, totalAfter, linearBefore, linearAfter,
        linearRemovedFraction: (linearBefore - linearAfter) / linearBefore,
        totalRemovedFraction: (totalBefore - totalAfter) / totalBefore,
      },
    };
  } finally {
    folded.dispose();
  }
}

export interface RemovalMatch {
  /** the fraction of attention + FFN linear parameters asked for */
  target: number;
  /** what the trained gates removed by themselves (the paper's rule: closed iff z = 0) */
  removedByGates: number;
  /** what compaction removes after the finalisation (≥ target, unless the gates already removed more) */
  removed: number;
  /** gates closed on top of the trained ones (the lowest θ first) */
  extraClosed: number;
  /** θ of the last gate closed (null when none was): the threshold the finalisation used */
  threshold: number | null;
  /** compactions tried by the search */
  evaluations: number;
}

/**
 * Matched-count finalisation (prunekit's, for comparing FineGates with other methods at the same number
 * of parameters): closes the open gates with the lowest θ, as few as possible, until compaction removes at
 * least `fraction` of the attention + FFN linear parameters. Each candidate count is compacted for real
 * (uniform heads included), so the result is exact, and a binary search keeps it to about log2(gates)
 * compactions. Gates that already remove more are left as they are. Changes the adapter's θ in place.
 */
export function closeGatesToRemoval(model: EncoderModel, adapter: FineGatesAdapter, fraction: number, options: CompactGatedOptions = {}): RemovalMatch {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`removal target must be in (0, 1) (got ${fraction})`);
  const gates = adapter.gates;
  const trained = gates.theta();
  const measured = new Map<number, number>(); // extra gates closed -> fraction removed
  const removedWith = (extra: number): number => {
    gates.assign(trained);
    gates.closeLowest(extra);
    try {
      const c = compactGated(model, adapter, options);
      c.model.dispose();
      measured.set(extra, c.report.linearRemovedFraction);
    } catch (e) {
      // a plan that removes a whole layer's attention or FFN is past any target
      if (!(e instanceof PlanError)) throw e;
      measured.set(extra, Number.POSITIVE_INFINITY);
    }
    return measured.get(extra)!;
  };
  const removedByGates = removedWith(0);
  if (removedByGates >= fraction) {
    gates.assign(trained);
    return { target: fraction, removedByGates, removed: removedByGates, extraClosed: 0, threshold: null, evaluations: measured.size };
  }
  let lo = 0;
  let hi = gates.openCount();
  if (removedWith(hi) < fraction) {
    gates.assign(trained);
    throw new Error(`closing every gate removes less than ${(100 * fraction).toFixed(1)}% of the attention + FFN parameters`);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (removedWith(mid) >= fraction) hi = mid;
    else lo = mid;
  }
  // leave the adapter with the chosen gates closed; their removal was measured by the search
  gates.assign(trained);
  const threshold = gates.closeLowest(hi);
  return { target: fraction, removedByGates, removed: measured.get(hi)!, extraClosed: hi, threshold, evaluations: measured.size };
}

/** A Markdown table of a removal report. */
export function formatRemoval(r: RemovalReport): string {
  const lines = ['| layer | heads removed | q/k dims | v dims | FFN neurons | input features gathered | linear params before | after | removed | gated-off weights |', '|---:|---|---:|---:|---:|---|---:|---:|---:|---:|'];
  for (const l of r.layers) {
    const inputs = Object.entries(l.inputFeaturesRemoved).map(([k, v]) => `${k} ${v}`).join(', ') || '-';
    lines.push(`| ${l.layer} | ${l.headsRemoved.join(', ') || '-'} | ${l.qkDimsRemoved} | ${l.vDimsRemoved} | ${l.neuronsRemoved} | ${inputs} | ${l.paramsBefore} | ${l.paramsAfter} | ${l.removed} | ${l.gatedOff} |`);
  }
  lines.push('', `Attention + FFN parameters: ${r.linearBefore} → ${r.linearAfter} (${(100 * r.linearRemovedFraction).toFixed(2)}% removed); whole model ${r.totalBefore} → ${r.totalAfter} (${(100 * r.totalRemovedFraction).toFixed(2)}%).`);
  return lines.join('\n');
}
