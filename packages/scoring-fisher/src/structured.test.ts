// Structured scoring and allocation against an independent PyTorch reference
// (tools/fixtures/make_structured_refs.py), hand-checkable allocation cases, exact parameter counts after
// compaction, and compacted output == masked output.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, layerLinearParameters, loadModel, type EncoderModel, type ScoredMatrix } from '@prunekit/tensor-core';
import { workspaceRoot } from '../../../tools/test-support/shared.js';
import {
  allocateGroups, groupMasks, parseStructure, pruneStructured, randomGroupScores, scoreGroups, structuredParameterNames,
  type GroupScore, type StructureKind,
} from './structured.js';

const fixtures = path.join(workspaceRoot, 'tools', 'fixtures', 'data');
interface RefGroup { kind: 'head' | 'ffn_neuron'; layer: number; index: number; weights: number; params: number; sum: number; l2: number; absSum: number }
interface RefAllocation { kinds: ('head' | 'ffn_neuron')[]; sparsity: number; allocation: 'global' | 'per-layer'; minPerLayer: number; target: number; removedParams: number; removed: [string, number, number][] }
const refs = JSON.parse(fs.readFileSync(path.join(fixtures, 'structured', 'refs.json'), 'utf8')) as { groups: RefGroup[]; layerParams: number[]; allocations: RefAllocation[] };

let model: EncoderModel;
let signed: Map<string, ScoredMatrix>;
const all: StructureKind[] = ['heads', 'neurons'];
const structureOf = (kinds: string[]): StructureKind[] => [...(kinds.includes('head') ? ['heads' as const] : []), ...(kinds.includes('ffn_neuron') ? ['neurons' as const] : [])];

beforeAll(async () => {
  await initBackend();
  model = loadModel(path.join(fixtures, 'models', 'bert-base'));
  signed = new Map(structuredParameterNames(model, all).map((n) => {
    const t = model.params.get(n)!;
    return [n, { shape: [...t.shape], scores: t.dataSync() as Float32Array }];
  }));
});

function find(groups: GroupScore[], r: { kind: string; layer: number; index: number }): GroupScore {
  const g = groups.find((x) => x.kind === r.kind && x.layer === r.layer && x.index === r.index);
  if (!g) throw new Error(`no group ${r.kind} ${r.layer}/${r.index}`);
  return g;
}

describe('group scores against PyTorch', () => {
  it('sum, l2 and abs-sum of per-weight values over every head and neuron, with weight and parameter counts', () => {
    const sum = scoreGroups(model, signed, { structure: all, aggregate: 'sum' });
    const l2 = scoreGroups(model, signed, { structure: all, aggregate: 'l2' });
    const abs = scoreGroups(model, signed, { structure: all, aggregate: 'abs-sum' });
    expect(sum).toHaveLength(refs.groups.length);
    for (const r of refs.groups) {
      const label = `${r.kind} ${r.layer}/${r.index}`;
      const g = find(sum, r);
      expect(g.weights, label).toBe(r.weights);
      expect(g.params, label).toBe(r.params);
      expect(g.score, label).toBeCloseTo(r.sum, 5);
      expect(find(l2, r).score, label).toBeCloseTo(r.l2, 5);
      expect(find(abs, r).score, label).toBeCloseTo(r.absSum, 5);
      // ranking key: cost per weight (l2: Σs² per weight)
      expect(find(l2, r).key, label).toBeCloseTo((r.l2 * r.l2) / r.weights, 7);
    }
    // hand check of the counts: a head is Q, K, V rows (8 × 32 + 8 bias each) + 8 output columns of 32
    expect(find(sum, { kind: 'head', layer: 0, index: 0 }).params).toBe(3 * (8 * 32 + 8) + 32 * 8);
    expect(find(sum, { kind: 'ffn_neuron', layer: 1, index: 5 }).params).toBe(32 + 1 + 32);
  });

  it('only the requested kinds; missing scores and unknown kinds are clear errors', () => {
    expect(scoreGroups(model, signed, { structure: ['neurons'] }).every((g) => g.kind === 'ffn_neuron')).toBe(true);
    expect(scoreGroups(model, signed, { structure: ['heads'] })).toHaveLength(8);
    const noQuery = new Map([...signed].filter(([n]) => !n.includes('query')));
    expect(() => scoreGroups(model, noQuery, { structure: ['heads'] })).toThrow(/no scores for ".*query.weight".*attention\+mlp/);
    expect(() => parseStructure('heads,layers')).toThrow(/unknown structure "layers"; expected heads, neurons/);
    expect(parseStructure('neurons, heads,neurons')).toEqual(['neurons', 'heads']);
  });
});

describe('allocation to a fraction of encoder parameters', () => {
  it('matches the reference greedy (global, per-layer, neurons only), never over the target', () => {
    expect(layerLinearParameters(model)).toBe(refs.layerParams.reduce((a, b) => a + b, 0));
    for (const r of refs.allocations.filter((a) => a.removedParams === a.target || a.target - a.removedParams < 65)) {
      const groups = scoreGroups(model, signed, { structure: structureOf(r.kinds), aggregate: 'l2' });
      const a = allocateGroups(model, groups, { sparsity: r.sparsity, allocation: r.allocation, minPerLayer: r.minPerLayer });
      const label = `${r.kinds.join('+')} ${r.sparsity} ${r.allocation}`;
      expect(a.targetParams, label).toBe(r.target);
      expect(a.removedParams, label).toBe(r.removedParams);
      expect(a.removedParams, label).toBeLessThanOrEqual(a.targetParams);
      expect(a.removed.map((g) => [g.kind, g.layer, g.index]).sort(), label).toEqual(r.removed.map((x) => [...x]).sort());
    }
  });

  it('an unreachable fraction is an error naming the most that can be removed', () => {
    const r = refs.allocations.find((a) => a.minPerLayer === 0.5)!;
    const groups = scoreGroups(model, signed, { structure: all, aggregate: 'l2' });
    expect(() => allocateGroups(model, groups, { sparsity: r.sparsity, minPerLayer: r.minPerLayer })).toThrow(new RegExp(`at most ${r.removedParams} \\(`));
    expect(() => allocateGroups(model, groups, { sparsity: 1 })).toThrow(/sparsity must be in \[0, 1\)/);
    expect(() => allocateGroups(model, groups, { sparsity: 0.5, allocation: 'per-matrix' as 'global' })).toThrow(/global or per-layer/);
  });

  it('hand-checkable: skips a group that would overshoot and takes a smaller one after it', () => {
    // layer 0 of the fixture: 4 heads (1048 params), 64 neurons (65 params); N = 16832, 10% → 1683
    const g = (kind: 'head' | 'ffn_neuron', index: number, key: number): GroupScore => ({ kind, layer: 0, index, params: kind === 'head' ? 1048 : 65, weights: kind === 'head' ? 1024 : 64, score: key, key });
    const groups = [g('head', 0, 0.1), g('head', 1, 0.2), g('ffn_neuron', 0, 0.3), g('ffn_neuron', 1, 0.4), g('head', 2, 0.5)];
    const a = allocateGroups(model, groups, { sparsity: 0.1, minPerLayer: 0 });
    // head 0 (1048) fits; head 1 would reach 2096 > 1683: skipped; both neurons fit (1178); head 2 does not
    expect(a.removed.map((x) => `${x.kind}${x.index}`)).toEqual(['head0', 'ffn_neuron0', 'ffn_neuron1']);
    expect(a.targetParams).toBe(1683);
    expect(a.removedParams).toBe(1048 + 130);
    // max(1, ceil(0.5·4)) = 2 heads are kept, so only 2 of the 3 cheap heads go (target floor(0.13·16832) = 2188)
    const b = allocateGroups(model, [g('head', 0, 0.1), g('head', 1, 0.2), g('head', 3, 0.3), g('ffn_neuron', 0, 0.9)], { sparsity: 0.13, minPerLayer: 0.5 });
    expect(b.removed.map((x) => `${x.kind}${x.index}`)).toEqual(['head0', 'head1', 'ffn_neuron0']);
    expect(b.removedParams).toBe(2 * 1048 + 65);
  });

  it('random group scores are seeded', () => {
    const a = randomGroupScores(model, 3, all).map((x) => x.score);
    expect(randomGroupScores(model, 3, all).map((x) => x.score)).toEqual(a);
    expect(randomGroupScores(model, 4, all).map((x) => x.score)).not.toEqual(a);
  });
});

describe('compaction of the chosen groups', () => {
  it('removes exactly the allocated parameters and equals the masked model', () => {
    const magnitude = scoreGroups(model, signed, { structure: all, aggregate: 'l2' });
    const r = pruneStructured(model, magnitude, { sparsity: 0.5, minPerLayer: 0.05 });
    const before = layerLinearParameters(model);
    expect(before - layerLinearParameters(r.model)).toBe(r.allocation.removedParams);
    let total = 0;
    for (const t of model.params.values()) total += t.size;
    let after = 0;
    for (const t of r.model.params.values()) after += t.size;
    expect(total - after).toBe(r.allocation.removedParams);
    expect(r.allocation.achievedSparsity).toBeGreaterThan(0.5 - 65 / before);
    expect(r.allocation.achievedSparsity).toBeLessThanOrEqual(0.5);
    // the compacted model computes what the model with the groups' weights zeroed computes
    const masks = groupMasks(model, r.allocation.removed);
    const view = masks.view(model);
    const ids = tf.tensor2d([[2, 17, 40, 99, 5, 3], [2, 64, 8, 3, 0, 0]], [2, 6], 'int32');
    const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], [2, 6], 'int32');
    const x = { inputIds: ids, attentionMask: mask, tokenTypeIds: tf.zerosLike(ids) };
    const masked = tf.tidy(() => model.forward(x, { view: view.view }).lastHiddenState.arraySync() as number[][][]);
    const compacted = tf.tidy(() => r.model.forward(x).lastHiddenState.arraySync() as number[][][]);
    const dense = tf.tidy(() => model.forward(x).lastHiddenState.arraySync() as number[][][]);
    let maxDiff = 0;
    let denseDiff = 0;
    masked.flat(2).forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - compacted.flat(2)[i]!));
      denseDiff = Math.max(denseDiff, Math.abs(v - dense.flat(2)[i]!));
    });
    expect(maxDiff).toBeLessThan(1e-5);
    expect(denseDiff).toBeGreaterThan(1e-3); // the pruning did change the model
    view.dispose();
    tf.dispose([ids, mask, x.tokenTypeIds]);
    // the removed groups are gone from the config
    const removedHeads = r.allocation.removed.filter((g) => g.kind === 'head' && g.layer === 0).length;
    expect(r.model.config.layers[0]!.numHeads).toBe(4 - removedHeads);
    r.model.dispose();
  });
});
