// Compaction plans: which coupled groups (coupling.ts) of each layer a compaction keeps. A plan comes
// from a MaskSet (rows/columns left entirely zero, or with fewer than `minKept` weights, which are then
// dropped with their remaining weights), from gates (closed rows/columns by HF name; FineGates' GateSet
// produces this), or from explicit head/neuron lists. compact(model, plan) then builds the smaller model.
//
// Exactness (what makes a removal free): the model's output is unchanged when
//   - a query/key dim's KEY row is zero (q_i·k_i is then constant over keys and cancels in the softmax),
//     or its QUERY row and query bias are zero;
//   - a value dim's attention-output column is zero, or its VALUE row is zero (the head then emits the
//     constant v bias, whose effect is folded into the attention-output bias);
//   - an FFN neuron's down column is zero, or its up row is zero (the constant act(b_up) is folded into
//     the down bias);
//   - a residual feature's column is zero in every kept row of a reading linear;
//   - a head loses all its value dims (its query/key rows then do not matter).
import { RESIDUAL_READERS, type LayerShape, type ResidualReader } from '../model/config.js';
import type { EncoderModel } from '../model/model.js';
import { layerNames, parseLinearName } from '../model/names.js';
import { MaskSet } from '../prune/maskset.js';
import { headLayout } from './coupling.js';
import { planDecoderFromMasks } from './decoder-compact.js';

/** What a compaction keeps of one layer (indices in the source model's numbering). */
export interface LayerPlan {
  /** kept heads in order, each with the kept query/key and value dims within the head */
  heads: { head: number; qk: number[]; v: number[] }[];
  /** kept FFN neurons */
  ffn: number[];
  /** kept input columns of residual readers (indices into the linear's current columns); absent: all */
  inputs: Partial<Record<ResidualReader, number[]>>;
  /** removed value rows (row index in V) whose constant output v_bias is folded into the attention-output bias */
  foldV: number[];
  /** removed FFN neurons whose constant output act(b_up) is folded into the FFN-down bias */
  foldFfn: number[];
}

export interface LayerReport {
  layer: number;
  headsRemoved: number[];
  qkDimsRemoved: number;
  vDimsRemoved: number;
  neuronsRemoved: number;
  inputFeaturesRemoved: Partial<Record<ResidualReader, number>>;
  /** nonzero weights of the (masked) model that this layer's plan drops on purpose */
  droppedNonzero: number;
}

export interface PlanReport {
  perLayer: LayerReport[];
  /** nonzero (masked-model) weights the plan drops on purpose: 0 means the compacted model is exact */
  droppedNonzero: number;
  /** sum of squares of those weights */
  droppedSquaredNorm: number;
}

export interface CompactionPlan {
  source: 'masks' | 'gates' | 'explicit';
  /** layer shapes of the model the plan was made for (compact checks them) */
  shapes: LayerShape[];
  hiddenSize: number;
  layers: LayerPlan[];
  /** masks applied to the weights before they are gathered (W ⊙ M), when the plan came from masks or gates */
  masks?: MaskSet;
  report: PlanReport;
}

/** Closed (0) / open (1) rows and columns of a weight, keyed by HF name: what FineGates' GateSet produces. */
export type GateMap = ReadonlyMap<string, { rows?: Uint8Array; cols?: Uint8Array }>;

export class PlanError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'PlanError';
  }
}

export interface MaskPlanOptions {
  /** a row/column with fewer than this many nonzero weights is removed (default 1: only entirely zero ones) */
  minKept?: number;
  /** gather away residual features that every kept row of a reading linear ignores (default true) */
  gatherInputs?: boolean;
}

interface Mat {
  rows: number;
  cols: number;
  data: Float32Array;
}

function effective(model: EncoderModel, masks: MaskSet | undefined, name: string): Mat {
  const t = model.params.get(name);
  if (!t) throw new PlanError(`model has no parameter "${name}"`);
  const data = Float32Array.from(t.dataSync());
  const m = masks?.masks.get(name);
  if (m) for (let i = 0; i < data.length; i++) if (!m.data[i]) data[i] = 0;
  return { rows: t.shape[0]!, cols: t.shape.length > 1 ? t.shape[1]! : 1, data };
}

function rowStats(m: Mat, r: number, cols?: number[]): { nz: number; sq: number } {
  let nz = 0;
  let sq = 0;
  const o = r * m.cols;
  if (cols) {
    for (const c of cols) {
      const v = m.data[o + c]!;
      if (v !== 0) { nz++; sq += v * v; }
    }
  } else {
    for (let c = 0; c < m.cols; c++) {
      const v = m.data[o + c]!;
      if (v !== 0) { nz++; sq += v * v; }
    }
  }
  return { nz, sq };
}

function colStats(m: Mat, c: number, rows?: number[]): { nz: number; sq: number } {
  let nz = 0;
  let sq = 0;
  const visit = (r: number): void => {
    const v = m.data[r * m.cols + c]!;
    if (v !== 0) { nz++; sq += v * v; }
  };
  if (rows) for (const r of rows) visit(r);
  else for (let r = 0; r < m.rows; r++) visit(r);
  return { nz, sq };
}

function validateMasks(model: EncoderModel, masks: MaskSet, what: string): void {
  for (const [name, { shape }] of masks.masks) {
    const t = model.params.get(name);
    if (!t) throw new PlanError(`${what} names "${name}", which the model does not have`);
    if (t.shape.join() !== shape.join()) {
      const p = parseLinearName(name);
      throw new PlanError(`${p ? `layer ${p.layer}: ` : ''}${what} for "${name}" has shape [${shape.join(', ')}] but the parameter is [${t.shape.join(', ')}]`);
    }
  }
}

/**
 * A plan from masks: removes every coupled group that the masked model does not use (exact), and with
 * minKept > 1 also rows/columns with fewer than minKept nonzero weights (their weights are dropped: the
 * report counts them). Without masks, it finds the groups the model's own zero weights leave unused.
 */
export function planFromMasks(model: EncoderModel, masks?: MaskSet, options: MaskPlanOptions = {}, source: CompactionPlan['source'] = 'masks'): CompactionPlan {
  if (model.config.family === 'decoder') {
    if (masks) validateMasks(model, masks, source === 'gates' ? 'gate' : 'mask');
    return { ...planDecoderFromMasks(model, masks, options), source };
  }
  const k = options.minKept ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new PlanError(`minKept must be a positive integer (got ${k})`);
  const gather = options.gatherInputs ?? true;
  const what = source === 'gates' ? 'gate' : 'mask';
  if (masks) validateMasks(model, masks, what);
  const cfg = model.config;
  const layers: LayerPlan[] = [];
  const perLayer: LayerReport[] = [];
  let totalDropped = 0;
  let totalSq = 0;
  for (let l = 0; l < cfg.numLayers; l++) {
    const n = layerNames(model.prefix, l);
    const s = cfg.layers[l]!;
    const lay = headLayout(s);
    const E = {
      query: effective(model, masks, n.linear.query.weight),
      key: effective(model, masks, n.linear.key.weight),
      value: effective(model, masks, n.linear.value.weight),
      attn_output: effective(model, masks, n.linear.attn_output.weight),
      ffn_up: effective(model, masks, n.linear.ffn_up.weight),
      ffn_down: effective(model, masks, n.linear.ffn_down.weight),
    };
    const bq = effective(model, masks, n.linear.query.bias).data;
    const bv = effective(model, masks, n.linear.value.bias).data;
    let dropped = 0;
    let droppedSq = 0;
    const drop = (st: { nz: number; sq: number }): void => {
      dropped += st.nz;
      droppedSq += st.sq;
    };

    // value dims, then heads
    const heads: LayerPlan['heads'] = [];
    const headsRemoved: number[] = [];
    const foldV: number[] = [];
    let qkRemoved = 0;
    let vRemoved = 0;
    for (let h = 0; h < s.numHeads; h++) {
      const keptV: number[] = [];
      const headFold: number[] = [];
      const vDrops: { nz: number; sq: number }[] = [];
      for (let d = 0; d < lay.vDims[h]!; d++) {
        const r = lay.vOffsets[h]! + d;
        const vRow = rowStats(E.value, r);
        const oCol = colStats(E.attn_output, r);
        if (oCol.nz < k && (oCol.nz <= vRow.nz || vRow.nz >= k)) {
          vDrops.push(oCol);
        } else if (vRow.nz < k) {
          vDrops.push(vRow);
          if (bv[r] !== 0) headFold.push(r);
        } else {
          keptV.push(d);
        }
      }
      if (keptV.length === 0) {
        headsRemoved.push(h);
        foldV.push(...headFold);
        for (const st of vDrops) drop(st);
        vRemoved += lay.vDims[h]!;
        qkRemoved += lay.qkDims[h]!;
        continue;
      }
      foldV.push(...headFold);
      for (const st of vDrops) drop(st);
      vRemoved += lay.vDims[h]! - keptV.length;
      const keptQk: number[] = [];
      let best = -1;
      let bestNz = -1;
      const qkDrops: { nz: number; sq: number }[] = [];
      for (let d = 0; d < lay.qkDims[h]!; d++) {
        const r = lay.qkOffsets[h]! + d;
        const kRow = rowStats(E.key, r);
        const qRow = rowStats(E.query, r);
        if (kRow.nz + qRow.nz > bestNz) {
          best = d;
          bestNz = kRow.nz + qRow.nz;
        }
        const viaQ = qRow.nz < k && bq[r] === 0;
        if (kRow.nz < k && (!viaQ || kRow.nz <= qRow.nz)) qkDrops.push(kRow);
        else if (viaQ) qkDrops.push(qRow);
        else keptQk.push(d);
      }
      if (keptQk.length === 0) {
        // a head needs one query/key dim: keep the most used one (with whatever weights it has)
        // (every dim was dropped, so qkDrops[d] belongs to dim d)
        keptQk.push(best);
        qkDrops.splice(best, 1);
      }
      for (const st of qkDrops) drop(st);
      qkRemoved += lay.qkDims[h]! - keptQk.length;
      heads.push({ head: h, qk: keptQk, v: keptV });
    }
    if (heads.length === 0) throw new PlanError(`layer ${l}: the plan removes every attention head (all ${s.numHeads}); a layer must keep at least one`);

    // FFN neurons
    const ffn: number[] = [];
    const foldFfn: number[] = [];
    for (let j = 0; j < s.intermediateSize; j++) {
      const up = rowStats(E.ffn_up, j);
      const down = colStats(E.ffn_down, j);
      if (down.nz < k && (down.nz <= up.nz || up.nz >= k)) drop(down);
      else if (up.nz < k) {
        drop(up);
        foldFfn.push(j);
      } else ffn.push(j);
    }
    if (ffn.length === 0) throw new PlanError(`layer ${l}: the plan removes every FFN neuron (all ${s.intermediateSize}); a layer must keep at least one`);

    // residual features each reader ignores (over its kept rows)
    const inputs: LayerPlan['inputs'] = {};
    const inputFeaturesRemoved: LayerReport['inputFeaturesRemoved'] = {};
    if (gather) {
      const qkRows = heads.flatMap((hd) => hd.qk.map((d) => lay.qkOffsets[hd.head]! + d));
      const vRows = heads.flatMap((hd) => hd.v.map((d) => lay.vOffsets[hd.head]! + d));
      const rowsFor: Record<ResidualReader, number[]> = { query: qkRows, key: qkRows, value: vRows, ffn_up: ffn };
      for (const reader of RESIDUAL_READERS) {
        const m = E[reader];
        const kept: number[] = [];
        const drops: { nz: number; sq: number }[] = [];
        let best = 0;
        let bestNz = -1;
        for (let c = 0; c < m.cols; c++) {
          const st = colStats(m, c, rowsFor[reader]);
          if (st.nz > bestNz) {
            best = c;
            bestNz = st.nz;
          }
          if (st.nz < k) drops.push(st);
          else kept.push(c);
        }
        if (kept.length === 0) {
          // a linear reads at least one feature (every column was dropped, so drops[c] belongs to column c)
          kept.push(best);
          drops.splice(best, 1);
        }
        if (kept.length < m.cols) {
          inputs[reader] = kept;
          inputFeaturesRemoved[reader] = m.cols - kept.length;
          for (const st of drops) drop(st);
        }
      }
    }
    layers.push({ heads, ffn, inputs, foldV, foldFfn });
    perLayer.push({ layer: l, headsRemoved, qkDimsRemoved: qkRemoved, vDimsRemoved: vRemoved, neuronsRemoved: s.intermediateSize - ffn.length, inputFeaturesRemoved, droppedNonzero: dropped });
    totalDropped += dropped;
    totalSq += droppedSq;
  }
  const plan: CompactionPlan = {
    source, shapes: cfg.layers.map(cloneShape), hiddenSize: cfg.hiddenSize, layers,
    report: { perLayer, droppedNonzero: totalDropped, droppedSquaredNorm: totalSq },
  };
  if (masks) plan.masks = masks;
  return plan;
}

/**
 * A plan from gates: closed (0) rows and columns by HF weight name (1 = open), e.g. FineGates' GateSet.
 * The plan keeps exactly what the gated model diag(z_r) W diag(z_c) (binary z, biases ungated) uses.
 */
export function planFromGates(model: EncoderModel, gates: GateMap, options: Omit<MaskPlanOptions, 'minKept'> = {}): CompactionPlan {
  const masks = new MaskSet();
  for (const [name, g] of gates) {
    const t = model.params.get(name);
    if (!t) throw new PlanError(`gate names "${name}", which the model does not have`);
    const p = parseLinearName(name);
    if (!p || p.param !== 'weight') throw new PlanError(`gate names "${name}", which is not the weight of an encoder linear (gates close rows/columns of Q, K, V, attention output, FFN up/down)`);
    const [rows, cols] = t.shape as [number, number];
    if (g.rows && g.rows.length !== rows) throw new PlanError(`layer ${p.layer}: gate for "${name}" has ${g.rows.length} row gates but the weight has ${rows} rows`);
    if (g.cols && g.cols.length !== cols) throw new PlanError(`layer ${p.layer}: gate for "${name}" has ${g.cols.length} column gates but the weight has ${cols} columns`);
    const data = new Uint8Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      if (g.rows && !g.rows[r]) continue;
      for (let c = 0; c < cols; c++) data[r * cols + c] = !g.cols || g.cols[c] ? 1 : 0;
    }
    masks.set(name, [rows, cols], data);
  }
  return planFromMasks(model, masks, { ...options, minKept: 1 }, 'gates');
}

export interface ExplicitRemoval {
  /** layer -> heads to remove (current numbering) */
  heads?: Readonly<Record<number, readonly number[]>> | ReadonlyMap<number, readonly number[]>;
  /** layer -> FFN neurons to remove */
  neurons?: Readonly<Record<number, readonly number[]>> | ReadonlyMap<number, readonly number[]>;
}

function entries(x: ExplicitRemoval['heads']): [number, readonly number[]][] {
  if (!x) return [];
  if (x instanceof Map) return [...(x as ReadonlyMap<number, readonly number[]>).entries()];
  return Object.entries(x).map(([k, v]) => [Number(k), v as readonly number[]]);
}

/**
 * A plan that removes whole heads and FFN neurons by index. Their weights are dropped (the report
 * counts them); the result equals the model with those heads' attention-output columns and those
 * neurons' down-projection columns zeroed.
 */
export function planFromLists(model: EncoderModel, removal: ExplicitRemoval): CompactionPlan {
  const cfg = model.config;
  const removeHeads = new Map<number, Set<number>>();
  const removeNeurons = new Map<number, Set<number>>();
  const collect = (src: ExplicitRemoval['heads'], into: Map<number, Set<number>>, what: 'head' | 'neuron'): void => {
    for (const [layer, list] of entries(src)) {
      if (!Number.isInteger(layer) || layer < 0 || layer >= cfg.numLayers) throw new PlanError(`layer ${layer}: no such layer (the model has layers 0..${cfg.numLayers - 1})`);
      const size = what === 'head' ? cfg.layers[layer]!.numHeads : cfg.layers[layer]!.intermediateSize;
      const set = new Set<number>();
      for (const i of list) {
        if (!Number.isInteger(i) || i < 0 || i >= size) throw new PlanError(`layer ${layer}: ${what} ${i} does not exist (the layer has ${size} ${what}s)`);
        if (set.has(i)) throw new PlanError(`layer ${layer}: ${what} ${i} is listed twice`);
        set.add(i);
      }
      if (set.size === size) throw new PlanError(`layer ${layer}: the plan removes every ${what === 'head' ? 'attention head' : 'FFN neuron'} (all ${size}); a layer must keep at least one`);
      into.set(layer, set);
    }
  };
  collect(removal.heads, removeHeads, 'head');
  collect(removal.neurons, removeNeurons, 'neuron');
  const layers: LayerPlan[] = [];
  const perLayer: LayerReport[] = [];
  let total = 0;
  let totalSq = 0;
  for (let l = 0; l < cfg.numLayers; l++) {
    const s = cfg.layers[l]!;
    const lay = headLayout(s);
    const n = layerNames(model.prefix, l);
    const rh = removeHeads.get(l) ?? new Set<number>();
    const rn = removeNeurons.get(l) ?? new Set<number>();
    let dropped = 0;
    let sq = 0;
    if (rh.size > 0) {
      // the dropped weights that mattered: the removed heads' attention-output columns
      const o = effective(model, undefined, n.linear.attn_output.weight);
      for (const h of rh) for (let d = 0; d < lay.vDims[h]!; d++) {
        const st = colStats(o, lay.vOffsets[h]! + d);
        dropped += st.nz;
        sq += st.sq;
      }
    }
    if (rn.size > 0) {
      const down = effective(model, undefined, n.linear.ffn_down.weight);
      for (const j of rn) {
        const st = colStats(down, j);
        dropped += st.nz;
        sq += st.sq;
      }
    }
    const heads = Array.from({ length: s.numHeads }, (_, h) => h).filter((h) => !rh.has(h)).map((h) => ({
      head: h, qk: Array.from({ length: lay.qkDims[h]! }, (_, d) => d), v: Array.from({ length: lay.vDims[h]! }, (_, d) => d),
    }));
    const ffn = Array.from({ length: s.intermediateSize }, (_, j) => j).filter((j) => !rn.has(j));
    layers.push({ heads, ffn, inputs: {}, foldV: [], foldFfn: [] });
    perLayer.push({ layer: l, headsRemoved: [...rh].sort((a, b) => a - b), qkDimsRemoved: [...rh].reduce((a, h) => a + lay.qkDims[h]!, 0), vDimsRemoved: [...rh].reduce((a, h) => a + lay.vDims[h]!, 0), neuronsRemoved: rn.size, inputFeaturesRemoved: {}, droppedNonzero: dropped });
    total += dropped;
    totalSq += sq;
  }
  return { source: 'explicit', shapes: cfg.layers.map(cloneShape), hiddenSize: cfg.hiddenSize, layers, report: { perLayer, droppedNonzero: total, droppedSquaredNorm: totalSq } };
}

export function cloneShape(s: LayerShape): LayerShape {
  const c: LayerShape = { numHeads: s.numHeads, headDim: s.headDim, intermediateSize: s.intermediateSize };
  if (s.numKvHeads !== undefined) c.numKvHeads = s.numKvHeads;
  if (s.qkDims) c.qkDims = [...s.qkDims];
  if (s.vDims) c.vDims = [...s.vDims];
  if (s.inputFeatures) c.inputFeatures = { ...s.inputFeatures };
  return c;
}
