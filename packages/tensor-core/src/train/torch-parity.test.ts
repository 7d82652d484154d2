// Parity with PyTorch: values written by tools/fixtures/make_train_refs.py (torch 2.13,
// transformers 5.18, sentence-transformers' MultipleNegativesRankingLoss).
//
// Tolerance: 1e-5 relative per element, plus an absolute floor of 1e-6 × the largest magnitude of
// the tensor compared, for elements that are near zero through cancellation (a float32 sum of
// terms of size s carries an error of ~1e-7·s whatever the size of the result).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { AdamW } from './adamw.js';
import { crossEntropyLoss, infoNCELoss, kdLoss, mlmLoss } from './losses.js';
import { cosineWarmupSchedule, linearWarmupSchedule } from './schedules.js';
import { clipByGlobalNorm, disposeTensors } from './variables.js';

interface T {
  shape: number[];
  data: number[];
}
type Named = Record<string, T>;
interface AdamRef {
  lr: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  noDecay: string[];
  maxGradNorm: number | null;
  init: Named;
  grads: Named[];
  after: Named[];
  gradNorms: number[];
}
interface InfoRef {
  query: T;
  positive: T;
  negatives: T[];
  scale: number;
  loss: number;
  gradQuery: T;
  gradPositive: T;
  gradNegatives: T[];
}
interface Refs {
  adamw: AdamRef;
  adamwClipped: AdamRef;
  clip: { grads: Named; cases: { maxNorm: number; norm: number; clipped: Named }[] };
  schedules: { warmup: number; total: number; linear: number[]; cosine: number[]; linearNoWarmup: number[]; cosineNoWarmup: number[]; cosineNoWarmupTotal: number };
  infonce: Record<'noNegatives' | 'hardNegatives' | 'twoNegativeColumns', InfoRef>;
  crossEntropy: { logits: T; labels: T; loss: number; gradLogits: T };
  kd: { student: T; teacher: T; labels: T; temperature: number; alpha: number; loss: number; gradStudent: T };
  mlm: { logits: T; labels: T; loss: number; gradLogits: T };
}

const here = path.dirname(fileURLToPath(import.meta.url));
const refsPath = path.resolve(here, '../../../../tools/fixtures/data/train/train_refs.json');
const refs = JSON.parse(fs.readFileSync(refsPath, 'utf8')) as Refs;

const RTOL = 1e-5;

function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const scale = expected.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const atol = 1e-6 * scale;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= RTOL * Math.abs(e) + atol)) {
      expect.fail(`${what}[${i}]: got ${a}, torch ${e} (|diff| ${Math.abs(a - e)})`);
    }
  }
}

function tensor(t: T): tf.Tensor {
  return tf.tensor(t.data, t.shape, 'float32');
}

beforeAll(async () => {
  await initBackend();
});

describe('AdamW matches torch.optim.AdamW', () => {
  for (const key of ['adamw', 'adamwClipped'] as const) {
    it(`${key}: 10 steps, weight decay excluded on "b"${key === 'adamwClipped' ? ', clip_grad_norm_ 1.0' : ''}`, () => {
      const r = refs[key];
      const vars = new Map(Object.entries(r.init).map(([n, t]) => [n, tf.variable(tensor(t), true, `parity-${key}-${n}`)]));
      const opt = new AdamW(vars, {
        lr: r.lr,
        betas: r.betas,
        eps: r.eps,
        weightDecay: r.weightDecay,
        noDecay: (n) => r.noDecay.includes(n),
        ...(r.maxGradNorm === null ? {} : { maxGradNorm: r.maxGradNorm }),
      });
      expect(opt.decayedNames().sort()).toEqual(['c', 'w']);
      for (let step = 0; step < 10; step++) {
        const grads: tf.NamedTensorMap = {};
        for (const [n, t] of Object.entries(r.grads[step]!)) grads[n] = tensor(t);
        opt.step(grads);
        disposeTensors(grads);
        if (r.maxGradNorm !== null) expectClose([opt.lastGradNorm()!], [r.gradNorms[step]!], `step ${step} grad norm`);
        for (const [n, v] of vars) expectClose(v.dataSync(), r.after[step]![n]!.data, `step ${step} ${n}`);
      }
      opt.dispose();
      for (const v of vars.values()) v.dispose();
    });
  }
});

describe('clipByGlobalNorm matches torch.nn.utils.clip_grad_norm_', () => {
  for (const c of refs.clip.cases) {
    it(`maxNorm ${c.maxNorm}`, () => {
      const grads: tf.NamedTensorMap = {};
      for (const [n, t] of Object.entries(refs.clip.grads)) grads[n] = tensor(t);
      const out = clipByGlobalNorm(grads, c.maxNorm);
      expectClose(out.norm.dataSync(), [c.norm], 'norm');
      for (const [n, t] of Object.entries(c.clipped)) expectClose(out.grads[n]!.dataSync(), t.data, n);
      disposeTensors(grads);
      disposeTensors(out.grads);
      out.norm.dispose();
    });
  }
});

describe('LR schedules match transformers', () => {
  const s = refs.schedules;
  it('get_linear_schedule_with_warmup', () => {
    const f = linearWarmupSchedule(s.warmup, s.total);
    expectClose(s.linear.map((_, i) => f(i)), s.linear, 'linear');
    const g = linearWarmupSchedule(0, s.cosineNoWarmupTotal);
    expectClose(s.linearNoWarmup.map((_, i) => g(i)), s.linearNoWarmup, 'linear, no warm-up');
  });
  it('get_cosine_schedule_with_warmup', () => {
    const f = cosineWarmupSchedule(s.warmup, s.total);
    expectClose(s.cosine.map((_, i) => f(i)), s.cosine, 'cosine');
    const g = cosineWarmupSchedule(0, s.cosineNoWarmupTotal);
    expectClose(s.cosineNoWarmup.map((_, i) => g(i)), s.cosineNoWarmup, 'cosine, no warm-up');
  });
  it('drives AdamW: the schedule multiplies the base LR by optimizer step', () => {
    const v = tf.variable(tf.zeros([1]), true, 'parity-sched-v');
    const opt = new AdamW({ v }, { lr: 0.5, schedule: linearWarmupSchedule(s.warmup, s.total) });
    const g = { v: tf.ones([1]) };
    const seen: number[] = [];
    for (let i = 0; i < 15; i++) {
      seen.push(opt.currentLr());
      opt.step(g);
    }
    expectClose(seen, s.linear.slice(0, 15).map((x) => 0.5 * x), 'lr by step');
    g.v.dispose();
    opt.dispose();
    v.dispose();
  });
});

describe('losses match PyTorch (value and gradient)', () => {
  for (const name of ['noNegatives', 'hardNegatives', 'twoNegativeColumns'] as const) {
    it(`InfoNCE (MultipleNegativesRankingLoss), ${name}`, () => {
      const r = refs.infonce[name];
      const q = tensor(r.query);
      const p = tensor(r.positive);
      const negs = r.negatives.map(tensor);
      const f = (...xs: tf.Tensor[]): tf.Scalar => infoNCELoss(xs[0]!, xs[1]!, xs.length > 2 ? xs.slice(2) : undefined, { scale: r.scale });
      const { value, grads } = tf.valueAndGrads(f)([q, p, ...negs]);
      expectClose(value.dataSync(), [r.loss], 'loss');
      expectClose(grads[0]!.dataSync(), r.gradQuery.data, 'dL/dquery');
      expectClose(grads[1]!.dataSync(), r.gradPositive.data, 'dL/dpositive');
      r.gradNegatives.forEach((gn, i) => {
        expectClose(grads[2 + i]!.dataSync(), gn.data, `dL/dnegatives[${i}]`);
      });
      if (negs.length === 1) {
        // a single [B, d] tensor is the same as a one-element list
        const single = infoNCELoss(q, p, negs[0]);
        expectClose(single.dataSync(), [r.loss], 'loss (tensor form)');
        single.dispose();
      }
      tf.dispose([q, p, ...negs, value, ...grads]);
    });
  }

  it('cross-entropy with an ignored (−100) label', () => {
    const r = refs.crossEntropy;
    const logits = tensor(r.logits);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => crossEntropyLoss(x, r.labels.data))(logits);
    expectClose(value.dataSync(), [r.loss], 'loss');
    expectClose(grad.dataSync(), r.gradLogits.data, 'dL/dlogits');
    tf.dispose([logits, value, grad]);
  });

  it('KD: α·KL(p_t‖p_s)·T² + (1 − α)·CE, T = 2, α = 0.5', () => {
    const r = refs.kd;
    const s = tensor(r.student);
    const t = tensor(r.teacher);
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => kdLoss(a, b, r.labels.data, { temperature: r.temperature, alpha: r.alpha }))([s, t]);
    expectClose(value.dataSync(), [r.loss], 'loss');
    expectClose(grads[0]!.dataSync(), r.gradStudent.data, 'dL/dstudent');
    // the teacher is detached
    expect(Math.max(...Array.from(grads[1]!.dataSync(), Math.abs))).toBe(0);
    tf.dispose([s, t, value, ...grads]);
  });

  it('MLM loss over masked positions only (labels −100 ignored)', () => {
    const r = refs.mlm;
    const logits = tensor(r.logits);
    for (const labels of [r.labels.data, tf.tensor(r.labels.data, r.labels.shape, 'int32')]) {
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => mlmLoss(x, labels))(logits);
      expectClose(value.dataSync(), [r.loss], 'loss');
      expectClose(grad.dataSync(), r.gradLogits.data, 'dL/dlogits');
      tf.dispose([value, grad]);
      if (labels instanceof tf.Tensor) labels.dispose();
    }
    logits.dispose();
  });
});
