// Structured (group) pruning for any per-weight scorer: per-weight scores are aggregated over the
// coupling groups tensor-core describes (layerGroups: a head = its Q/K/V rows + attention-output
// columns; an FFN neuron = its up row + down column), groups are chosen for removal to a fraction of
// encoder parameters, and tensor-core's compaction writes the physically smaller model.
//
// Definitions (public contract):
// - Encoder parameters N: the weights and biases of every encoder layer's linears (Q, K, V, attention
//   output, FFN up, FFN down), i.e. tensor-core's layerLinearParameters. Embeddings, LayerNorms and
//   heads are never removed and are not counted. The parameters of a group are the weight entries of
//   its slices plus the bias entries that go with its rows.
// - Sparsity s: the fraction of N removed. Groups have discrete sizes, so the target is
//   T = floor(s·N) ("never over"), reached greedily: groups are visited from least to most important
//   (importance per parameter, see GroupAggregate) and each is removed when it still fits in what is
//   left of T and its layer keeps its minimum. The result is never over T, and the shortfall T − removed
//   is smaller than every group that could still be removed (so with FFN neurons among the candidates it
//   is under one neuron's 2·hidden + 1 parameters). With allocation 'per-layer' each layer has its own
//   target floor(s·N_l). When the groups that may be removed cannot reach T, pruneStructured throws.
import {
  compact, createRng, layerGroups, layerNames, MaskSet, planFromLists,
  type CompactionPlan, type CouplingGroup, type EncoderModel, type ExplicitRemoval, type ScoredMatrix, type Seed,
} from '@prunekit/tensor-core';

/** Which coupled groups may be removed: whole attention heads, FFN neurons. */
export type StructureKind = 'heads' | 'neurons';
export const STRUCTURE_KINDS: readonly StructureKind[] = ['heads', 'neurons'];

/** How a group's budget is spread: one ranking over all layers, or the same fraction of every layer. */
export type StructuredAllocation = 'global' | 'per-layer';
export const STRUCTURED_ALLOCATIONS: readonly StructuredAllocation[] = ['global', 'per-layer'];

/**
 * How per-weight values become a group's importance (its "cost" of removal). Groups are ranked by
 * cost ÷ parameters (importance per parameter removed, so heads and neurons compete fairly).
 *   sum      Σ s          additive saliencies (DAI, F·W², Wanda |W|·‖X‖)
 *   l2       Σ s²         group L2 norm squared; with s = W: group-magnitude (reported score √Σ W²)
 *   abs-sum  |Σ s|        first-order group Taylor with signed s = ḡ ⊙ W: |ΔL| ≈ |Σ ḡ·W| for the group
 */
export type GroupAggregate = 'sum' | 'l2' | 'abs-sum';

export interface GroupScore {
  kind: 'head' | 'ffn_neuron';
  layer: number;
  /** head index or neuron index in the layer */
  index: number;
  /** encoder parameters removed with the group (weights + bias entries) */
  params: number;
  /** weights of the group that carry a score (params minus bias entries) */
  weights: number;
  /** the group's aggregate (sum / √Σs² / |Σs|); for random scoring a uniform draw */
  score: number;
  /** ranking key: least important first */
  key: number;
}

export interface GroupScoreOptions {
  structure?: readonly StructureKind[];
  aggregate?: GroupAggregate;
}

function kindsOf(structure: readonly StructureKind[]): ('head' | 'ffn_neuron')[] {
  if (structure.length === 0) throw new Error(`structure must name at least one of ${STRUCTURE_KINDS.join(', ')}`);
  for (const s of structure) if (!STRUCTURE_KINDS.includes(s)) throw new Error(`unknown structure "${s as string}"; expected ${STRUCTURE_KINDS.join(', ')} (comma-separated)`);
  return [...(structure.includes('heads') ? ['head' as const] : []), ...(structure.includes('neurons') ? ['ffn_neuron' as const] : [])];
}

/** Parses "heads,neurons" (CLI form). */
export function parseStructure(text: string): StructureKind[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  kindsOf(parts as StructureKind[]);
  return [...new Set(parts)] as StructureKind[];
}

function shapeOf(model: EncoderModel, name: string): number[] {
  const t = model.params.get(name);
  if (!t) throw new Error(`model has no parameter "${name}"`);
  return [...t.shape];
}

/** Parameters a coupling group removes: its slices' weight entries plus the bias entries of its rows. */
export function groupParameters(model: EncoderModel, group: CouplingGroup): { params: number; weights: number } {
  let weights = 0;
  let biases = 0;
  for (const s of group.slices) {
    const [rows, cols] = shapeOf(model, s.param) as [number, number];
    weights += s.indices.length * (s.axis === 0 ? cols : rows);
    if (s.axis === 0 && s.bias) biases += s.indices.length;
  }
  return { params: weights + biases, weights };
}

/** The names of every matrix a structure's groups touch (the scorer must cover all of them). */
export function structuredParameterNames(model: EncoderModel, structure: readonly StructureKind[]): string[] {
  const names = new Set<string>();
  for (const kind of kindsOf(structure)) {
    for (let l = 0; l < model.config.numLayers; l++) {
      const g = layerGroups(model, l, kind)[0];
      if (g) for (const s of g.slices) names.add(s.param);
    }
  }
  return [...names];
}

/** Visits the per-weight values of one slice. */
function forEachValue(scores: ScoredMatrix, axis: 0 | 1, indices: readonly number[], f: (v: number) => void): void {
  const [rows, cols] = scores.shape as [number, number];
  const s = scores.scores;
  if (axis === 0) for (const r of indices) for (let c = 0; c < cols; c++) f(s[r * cols + c]!);
  else for (let r = 0; r < rows; r++) for (const c of indices) f(s[r * cols + c]!);
}

/**
 * Importance of every removable group from per-weight values (scores, or signed ḡ⊙W for Taylor).
 * Groups come from tensor-core's coupling description, so any architecture it describes is covered.
 */
export function scoreGroups(model: EncoderModel, perWeight: ReadonlyMap<string, ScoredMatrix>, options: GroupScoreOptions = {}): GroupScore[] {
  const kinds = kindsOf(options.structure ?? STRUCTURE_KINDS);
  const aggregate = options.aggregate ?? 'sum';
  const out: GroupScore[] = [];
  for (let l = 0; l < model.config.numLayers; l++) {
    for (const kind of kinds) {
      for (const g of layerGroups(model, l, kind)) {
        let acc = 0;
        for (const sl of g.slices) {
          const sc = perWeight.get(sl.param);
          if (!sc) throw new Error(`layer ${l}: no scores for "${sl.param}"; structured ${kind === 'head' ? 'head' : 'neuron'} scoring needs scores for every matrix of the group (score with targets attention+mlp)`);
          if (sc.shape.join() !== shapeOf(model, sl.param).join()) throw new Error(`scores for "${sl.param}" have shape [${sc.shape.join(', ')}] but the weight is [${shapeOf(model, sl.param).join(', ')}]`);
          if (aggregate === 'l2') forEachValue(sc, sl.axis, sl.indices, (v) => (acc += v * v));
          else forEachValue(sc, sl.axis, sl.indices, (v) => (acc += v));
        }
        const { params, weights } = groupParameters(model, g);
        const cost = aggregate === 'abs-sum' ? Math.abs(acc) : acc;
        const score = aggregate === 'l2' ? Math.sqrt(acc) : cost;
        out.push({ kind, layer: l, index: kind === 'head' ? g.head! : g.index!, params, weights, score, key: cost / weights });
      }
    }
  }
  return out;
}

/** Random group scores (the random baseline at group level: one uniform draw per group, seeded). */
export function randomGroupScores(model: EncoderModel, seed: Seed, structure: readonly StructureKind[] = STRUCTURE_KINDS): GroupScore[] {
  const rng = createRng(seed).fork('structured-random');
  const out: GroupScore[] = [];
  for (let l = 0; l < model.config.numLayers; l++) {
    for (const kind of kindsOf(structure)) {
      for (const g of layerGroups(model, l, kind)) {
        const { params, weights } = groupParameters(model, g);
        const u = rng.next();
        out.push({ kind, layer: l, index: kind === 'head' ? g.head! : g.index!, params, weights, score: u, key: u });
      }
    }
  }
  return out;
}

export interface GroupAllocationOptions {
  /** fraction of encoder parameters to remove, in [0, 1) */
  sparsity: number;
  allocation?: StructuredAllocation;
  /** fraction of each layer's heads and of its neurons always kept (at least one of each); default 0.05 */
  minPerLayer?: number;
}

export interface GroupAllocation {
  removed: GroupScore[];
  removal: ExplicitRemoval;
  /** encoder parameters before pruning (N) */
  totalParams: number;
  /** floor(s·N) (global) or Σ_l floor(s·N_l) (per-layer) */
  targetParams: number;
  removedParams: number;
  /** removedParams / totalParams */
  achievedSparsity: number;
}

/** Chooses the groups to remove (see the file header for how exact the parameter fraction is). */
export function allocateGroups(model: EncoderModel, groups: readonly GroupScore[], options: GroupAllocationOptions): GroupAllocation {
  const s = options.sparsity;
  if (!(s >= 0 && s < 1)) throw new Error(`sparsity must be in [0, 1) (got ${s})`);
  const allocation = options.allocation ?? 'global';
  if (!STRUCTURED_ALLOCATIONS.includes(allocation)) throw new Error(`structured allocation must be ${STRUCTURED_ALLOCATIONS.join(' or ')} (got "${allocation as string}")`);
  const minFrac = options.minPerLayer ?? 0.05;
  if (!(minFrac >= 0 && minFrac < 1)) throw new Error(`minPerLayer must be a fraction in [0, 1) (got ${minFrac})`);
  const cfg = model.config;
  const layerTotals = Array.from({ length: cfg.numLayers }, (_, l) => layerLinearParametersOf(model, l));
  const totalParams = layerTotals.reduce((a, b) => a + b, 0);
  // removable per (layer, kind): count − max(1, ceil(minFrac · count))
  const slots = new Map<string, number>();
  for (let l = 0; l < cfg.numLayers; l++) {
    const sh = cfg.layers[l]!;
    slots.set(`${l}:head`, sh.numHeads - Math.max(1, Math.ceil(minFrac * sh.numHeads)));
    slots.set(`${l}:ffn_neuron`, sh.intermediateSize - Math.max(1, Math.ceil(minFrac * sh.intermediateSize)));
  }
  const order = [...groups].sort((a, b) => a.key - b.key || a.layer - b.layer || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) || a.index - b.index);
  const removed: GroupScore[] = [];
  const removedSet = new Set<GroupScore>();
  const budgets = allocation === 'global' ? [Math.floor(s * totalParams)] : layerTotals.map((n) => Math.floor(s * n));
  const left = [...budgets];
  for (const g of order) {
    const b = allocation === 'global' ? 0 : g.layer;
    const slot = `${g.layer}:${g.kind}`;
    if (g.params > left[b]! || slots.get(slot)! <= 0) continue;
    left[b]! -= g.params;
    slots.set(slot, slots.get(slot)! - 1);
    removed.push(g);
    removedSet.add(g);
  }
  // unreachable target: some budget is left and no removable group could have used it
  for (let b = 0; b < budgets.length; b++) {
    const stillRemovable = order.filter((g) => (allocation === 'global' || g.layer === b) && slots.get(`${g.layer}:${g.kind}`)! > 0 && !removedSet.has(g));
    const smallest = Math.min(...order.filter((g) => allocation === 'global' || g.layer === b).map((g) => g.params));
    if (stillRemovable.length === 0 && left[b]! >= smallest) {
      const what = allocation === 'global' ? 'the encoder' : `layer ${b}`;
      const max = budgets[b]! - left[b]!;
      const of = allocation === 'global' ? totalParams : layerTotals[b]!;
      throw new Error(`cannot remove ${(s * 100).toFixed(2)}% of ${what}'s ${of} encoder parameters with structure ${[...new Set(groups.map((g) => g.kind))].join('+')} and minPerLayer ${minFrac}: at most ${max} (${((max / of) * 100).toFixed(2)}%) can be removed; add a structure kind or lower the sparsity`);
    }
  }
  const heads = new Map<number, number[]>();
  const neurons = new Map<number, number[]>();
  for (const g of removed) {
    const m = g.kind === 'head' ? heads : neurons;
    m.set(g.layer, [...(m.get(g.layer) ?? []), g.index]);
  }
  for (const m of [heads, neurons]) for (const [l, list] of m) m.set(l, list.sort((a, c) => a - c));
  const removedParams = removed.reduce((a, g) => a + g.params, 0);
  return {
    removed, removal: { heads, neurons }, totalParams, targetParams: budgets.reduce((a, c) => a + c, 0), removedParams,
    achievedSparsity: totalParams === 0 ? 0 : removedParams / totalParams,
  };
}

/** Encoder parameters of one layer: weights and biases of its linears (layerLinearParameters, per layer). */
function layerLinearParametersOf(model: EncoderModel, layer: number): number {
  let n = 0;
  for (const k of Object.values(layerNames(model.prefix, layer).linear)) n += (model.params.get(k.weight)?.size ?? 0) + (model.params.get(k.bias)?.size ?? 0);
  return n;
}

/** Masks that zero every weight of the removed groups: the masked model the compacted model equals. */
export function groupMasks(model: EncoderModel, removed: readonly GroupScore[]): MaskSet {
  const data = new Map<string, Uint8Array>();
  const byLayer = new Map<string, CouplingGroup[]>();
  for (const g of removed) {
    const key = `${g.layer}:${g.kind}`;
    if (!byLayer.has(key)) byLayer.set(key, layerGroups(model, g.layer, g.kind));
  }
  for (const g of removed) {
    const cg = byLayer.get(`${g.layer}:${g.kind}`)!.find((x) => (g.kind === 'head' ? x.head : x.index) === g.index)!;
    for (const sl of cg.slices) {
      const [rows, cols] = shapeOf(model, sl.param) as [number, number];
      let m = data.get(sl.param);
      if (!m) {
        m = new Uint8Array(rows * cols).fill(1);
        data.set(sl.param, m);
      }
      if (sl.axis === 0) for (const r of sl.indices) m.fill(0, r * cols, (r + 1) * cols);
      else for (let r = 0; r < rows; r++) for (const c of sl.indices) m[r * cols + c] = 0;
    }
  }
  const masks = new MaskSet();
  for (const [name, m] of data) masks.set(name, shapeOf(model, name), m);
  return masks;
}

export interface StructuredPruneOptions extends GroupAllocationOptions, GroupScoreOptions {}

export interface StructuredPruneResult {
  /** the compacted model (new tensors; the input model is left as it is) */
  model: EncoderModel;
  plan: CompactionPlan;
  allocation: GroupAllocation;
  groups: GroupScore[];
}

/**
 * Scores groups from per-weight values, allocates to the parameter fraction and compacts:
 * the library form of `prunekit prune --structure heads,neurons --sparsity s`.
 * Pass precomputed group scores (e.g. randomGroupScores) instead of per-weight values when a scorer
 * works at group level.
 */
export function pruneStructured(model: EncoderModel, scores: ReadonlyMap<string, ScoredMatrix> | readonly GroupScore[], options: StructuredPruneOptions): StructuredPruneResult {
  const groups = Array.isArray(scores) ? [...(scores as readonly GroupScore[])] : scoreGroups(model, scores as ReadonlyMap<string, ScoredMatrix>, options);
  const allocation = allocateGroups(model, groups, options);
  const plan = planFromLists(model, allocation.removal);
  return { model: compact(model, plan), plan, allocation, groups };
}
