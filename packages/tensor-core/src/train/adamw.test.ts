// AdamW behaviour beyond the PyTorch parity values, and a full training loop whose tf.memory()
// stays flat over 200 steps.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { GradientAccumulator } from './accumulate.js';
import { AdamW, isNoDecayParam } from './adamw.js';
import { infoNCELoss } from './losses.js';
import { Rng } from './rng.js';
import { linearWarmupSchedule } from './schedules.js';
import { disposeTensors, variableGrads } from './variables.js';

beforeAll(async () => {
  await initBackend();
});

describe('AdamW', () => {
  it('excludes biases and LayerNorm parameters from weight decay by default', () => {
    for (const n of ['encoder.layer.0.attention.self.query.bias', 'encoder.layer.0.output.LayerNorm.weight', 'embeddings.LayerNorm.bias', 'bias', 'x.layer_norm.weight', 'ln_f.weight']) {
      expect(isNoDecayParam(n), n).toBe(true);
    }
    for (const n of ['encoder.layer.0.attention.self.query.weight', 'embeddings.word_embeddings.weight', 'biased.weight']) {
      expect(isNoDecayParam(n), n).toBe(false);
    }
  });

  it('with a zero gradient only weight decay moves a parameter: p ← p·(1 − lr·wd)', () => {
    const w = tf.variable(tf.fill([3], 2), true, 'adamw-test-w');
    const b = tf.variable(tf.fill([3], 2), true, 'adamw-test-b');
    const opt = new AdamW({ w, bias: b }, { lr: 0.1, weightDecay: 0.5 });
    const g = { w: tf.zeros([3]), bias: tf.zeros([3]) };
    opt.step(g);
    expect(Array.from(w.dataSync())).toEqual([1.899999976158142, 1.899999976158142, 1.899999976158142]);
    expect(Array.from(b.dataSync())).toEqual([2, 2, 2]);
    expect(opt.stepCount).toBe(1);
    disposeTensors(g);
    opt.dispose();
    tf.dispose([w, b]);
  });

  it('first step moves each element by lr·sign(g) (bias correction), skips variables without a gradient', () => {
    const a = tf.variable(tf.zeros([2]), true, 'adamw-test-a');
    const c = tf.variable(tf.zeros([2]), true, 'adamw-test-c');
    const opt = new AdamW(new Map([['a', a], ['c', c]]), { lr: 0.01, weightDecay: 0 });
    const g = { a: tf.tensor1d([3, -0.5]) };
    opt.step(g);
    const got = Array.from(a.dataSync());
    expect(got[0]).toBeCloseTo(-0.01, 7);
    expect(got[1]).toBeCloseTo(0.01, 7);
    expect(Array.from(c.dataSync())).toEqual([0, 0]);
    expect(opt.moments('c')!.step).toBe(0);
    expect(opt.moments('a')!.step).toBe(1);
    disposeTensors(g);
    opt.dispose();
    tf.dispose([a, c]);
  });

  it('state() / loadState() resume exactly where an uninterrupted run would be', () => {
    const rng = new Rng('adamw-state');
    const init = rng.normalArray(6);
    const grads = Array.from({ length: 6 }, (_, i) => rng.fork(`g${i}`).normalArray(6));
    const run = (resumeAt: number | null): Float32Array => {
      let w = tf.variable(tf.tensor2d(init, [2, 3]), true);
      const sched = linearWarmupSchedule(2, 6);
      let opt = new AdamW({ w }, { lr: 0.1, schedule: sched });
      for (let i = 0; i < 6; i++) {
        if (i === resumeAt) {
          const st = opt.state();
          expect(Object.keys(st.tensors).sort()).toEqual(['w.exp_avg', 'w.exp_avg_sq']);
          const saved = tf.clone(w);
          opt.dispose();
          w.dispose();
          w = tf.variable(saved, true);
          opt = new AdamW({ w }, { lr: 0.1, schedule: sched });
          opt.loadState(st);
          disposeTensors(st.tensors);
          saved.dispose();
        }
        const g = { w: tf.tensor2d(grads[i]!, [2, 3]) };
        opt.step(g);
        disposeTensors(g);
      }
      const out = Float32Array.from(w.dataSync());
      opt.dispose();
      w.dispose();
      return out;
    };
    const straight = run(null);
    expect(run(3)).toEqual(straight);
    expect(run(0)).toEqual(straight);
  });

  it('frees all its tensors on dispose (creating optimizers per run does not grow memory)', () => {
    const w = tf.variable(tf.ones([4, 3]), true, 'adamw-dispose-w');
    const before = tf.memory().numTensors;
    const opt = new AdamW({ w });
    expect(tf.memory().numTensors).toBe(before + 2);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });

  it('rejects unknown names, wrong shapes, non-float variables and bad hyperparameters', () => {
    const a = tf.variable(tf.zeros([2]), true, 'adamw-test-e');
    const opt = new AdamW({ a });
    const g1 = { zz: tf.zeros([2]) };
    const g2 = { a: tf.zeros([3]) };
    expect(() => { opt.step(g1); }).toThrow(/unknown variable "zz"/);
    expect(() => { opt.step(g2); }).toThrow(/shape \[3\]/);
    expect(() => new AdamW({ a }, { betas: [1, 0.9] })).toThrow(/betas/);
    const i = tf.variable(tf.zeros([2], 'int32'), false, 'adamw-test-int');
    expect(() => new AdamW({ i })).toThrow(/int32/);
    opt.dispose();
    expect(() => { opt.step({}); }).toThrow(/dispose/);
    tf.dispose([a, i, ...Object.values(g1), ...Object.values(g2)]);
  });
});

describe('a training loop', () => {
  it('keeps tf.memory() flat over 200 steps (grads, accumulation, clipping, schedule, AdamW) and learns', () => {
    const rng = new Rng('memory-loop');
    const d = 16;
    const e = 8;
    const vars = new Map<string, tf.Variable>([
      ['proj.weight', tf.variable(rng.fork('w').normalTensor([d, e], 0, 0.2), true, 'loop-proj-weight')],
      ['proj.bias', tf.variable(tf.zeros([e]), true, 'loop-proj-bias')],
    ]);
    // a fixed retrieval task: queries and noisy copies as positives, a distractor as hard negative
    const data = rng.fork('data');
    const q = data.normalTensor([8, d]);
    const noise = data.normalTensor([8, d], 0, 0.5);
    const p = tf.add(q, noise);
    const n = data.normalTensor([8, d]);
    const enc = (x: tf.Tensor): tf.Tensor => tf.add(tf.matMul(x, vars.get('proj.weight')!), vars.get('proj.bias')!);
    const loss = (): tf.Scalar => infoNCELoss(enc(q), enc(p), enc(n));

    const opt = new AdamW(vars, { lr: 1e-2, maxGradNorm: 1, schedule: linearWarmupSchedule(10, 200) });
    const acc = new GradientAccumulator(vars);
    const losses: number[] = [];
    let baseline = -1;
    for (let step = 0; step < 200; step++) {
      for (let micro = 0; micro < 2; micro++) {
        const { value, grads } = variableGrads(loss, vars);
        if (micro === 0) losses.push(value.dataSync()[0]!);
        acc.add(grads);
        value.dispose();
        disposeTensors(grads);
      }
      expect(acc.applyMean((g) => {
        opt.step(g);
      })).toBe(2);
      if (step === 1) baseline = tf.memory().numTensors;
      if (step > 1) expect(tf.memory().numTensors, `step ${step}`).toBe(baseline);
    }
    expect(opt.stepCount).toBe(200);
    expect(opt.lastGradNorm()).toBeGreaterThan(0);
    expect(losses[199]!).toBeLessThan(losses[0]! * 0.5);
    opt.dispose();
    acc.dispose();
    tf.dispose([q, noise, p, n, ...vars.values()]);
  });
});
