import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, variableGrads } from '@prunekit/tensor-core';
import { workspaceRoot } from '../../../tools/test-support/shared.js';
import { evalGate, kurtosisWeights, openProbability, sparsityRegulariser, trainingGate, type RegulariserTerm } from './regulariser.js';

// PyTorch reference values: tools/fixtures/make_finegates_refs.py
interface RefLinear {
  rows: number; cols: number;
  rowTheta: number[]; colTheta: number[]; rowNoise: number[]; colNoise: number[]; weight: number[]; inputMean: number[];
  trainRows: number[]; trainCols: number[]; evalRows: number[]; evalCols: number[]; pRows: number[]; pCols: number[];
  gradRows: number[]; gradCols: number[]; kurtRowWeights: number[]; kurtColWeights: number[]; kurtGradRows: number[]; kurtGradCols: number[];
}
const refs = JSON.parse(fs.readFileSync(path.join(workspaceRoot, 'tools/fixtures/data/finegates/refs.json'), 'utf8')) as {
  keep: number; lambda: number; tau: number; regulariser: number; loss: number; kurtosisRegulariser: number; kurtosisLoss: number; linears: RefLinear[];
};

const close = (actual: ArrayLike<number>, expected: readonly number[], tol: number): void => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!), `index ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol);
};

beforeAll(async () => {
  await initBackend();
});

describe('gate values', () => {
  it('training gates clamp(tanh θ + ε + 0.5, 0, 1) and evaluation gates clamp(tanh θ + 0.5, 0, 1) match PyTorch', () => {
    for (const L of refs.linears) {
      tf.tidy(() => {
        close(trainingGate(tf.tensor1d(L.rowTheta), tf.tensor1d(L.rowNoise)).dataSync(), L.trainRows, 1e-6);
        close(trainingGate(tf.tensor1d(L.colTheta), tf.tensor1d(L.colNoise)).dataSync(), L.trainCols, 1e-6);
        close(evalGate(tf.tensor1d(L.rowTheta)).dataSync(), L.evalRows, 1e-6);
        close(evalGate(tf.tensor1d(L.colTheta)).dataSync(), L.evalCols, 1e-6);
        close(openProbability(tf.tensor1d(L.rowTheta)).dataSync(), L.pRows, 1e-6);
        close(openProbability(tf.tensor1d(L.colTheta)).dataSync(), L.pCols, 1e-6);
      });
      // θ = −1.5 gives μ = −0.905: the evaluation gate is exactly 0 (closed)
      expect(L.evalRows[0]).toBe(0);
    }
  });

  it('evaluation gates are exactly 0 below θ = atanh(−0.5) and exactly 1 above atanh(0.5)', () => {
    const z = tf.tidy(() => evalGate(tf.tensor1d([-0.56, -0.54, 0, 0.54, 0.56, 3])).dataSync());
    expect(z[0]).toBe(0);
    expect(z[1]).toBeGreaterThan(0);
    expect(z[2]).toBeCloseTo(0.5, 6);
    expect(z[3]).toBeLessThan(1);
    expect(z[4]).toBe(1);
    expect(z[5]).toBe(1);
  });
});

function termsAndVars(kurtosis: boolean): { terms: RegulariserTerm[]; vars: Map<string, tf.Variable> } {
  const vars = new Map<string, tf.Variable>();
  const terms = refs.linears.map((L, i) => {
    const r = tf.variable(tf.tensor1d(L.rowTheta), true, `ref-r-${kurtosis}-${i}`);
    const c = tf.variable(tf.tensor1d(L.colTheta), true, `ref-c-${kurtosis}-${i}`);
    vars.set(`r${i}`, r);
    vars.set(`c${i}`, c);
    const t: RegulariserTerm = { rowTheta: r, colTheta: c };
    if (kurtosis) {
      const open = (z: number[]): Uint8Array => Uint8Array.from(z, (x) => (x > 0 ? 1 : 0));
      const w = kurtosisWeights(Float32Array.from(L.weight), L.rows, L.cols, Float32Array.from(L.inputMean), open(L.evalRows), open(L.evalCols), refs.tau);
      close(w.rows, L.kurtRowWeights, 1e-6);
      close(w.cols, L.kurtColWeights, 1e-6);
      t.rowWeights = tf.tensor1d(w.rows);
      t.colWeights = tf.tensor1d(w.cols);
    }
    return t;
  });
  return { terms, vars };
}

describe('target-sparsity regulariser', () => {
  for (const kurtosis of [false, true]) {
    it(`value and gradient match PyTorch${kurtosis ? ' (kurtosis-weighted)' : ''}`, () => {
      const { terms, vars } = termsAndVars(kurtosis);
      const value = tf.tidy(() => sparsityRegulariser(terms, 1 - refs.keep).dataSync()[0]!);
      expect(value).toBeCloseTo(kurtosis ? refs.kurtosisRegulariser : refs.regulariser, 6);
      const { value: loss, grads } = variableGrads(() => tf.mul(sparsityRegulariser(terms, 1 - refs.keep), refs.lambda) as tf.Scalar, vars);
      expect(loss.dataSync()[0]).toBeCloseTo(kurtosis ? refs.kurtosisLoss : refs.loss, 4);
      refs.linears.forEach((L, i) => {
        close(grads[`r${i}`]!.dataSync(), kurtosis ? L.kurtGradRows : L.gradRows, 1e-5);
        close(grads[`c${i}`]!.dataSync(), kurtosis ? L.kurtGradCols : L.gradCols, 1e-5);
      });
      tf.dispose([loss, ...Object.values(grads), ...vars.values(), ...terms.flatMap((t) => [t.rowWeights, t.colWeights]).filter((x): x is tf.Tensor => x !== undefined)]);
    });
  }

  it('rejects a target sparsity outside [0, 1)', () => {
    const t = { rowTheta: tf.ones([2]), colTheta: tf.ones([2]) };
    expect(() => sparsityRegulariser([t], 1)).toThrow(/\[0, 1\)/);
    tf.dispose([t.rowTheta, t.colTheta]);
  });
});
