import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend.js';
import { AdamW } from './adamw.js';
import { createRng } from './rng.js';
import { BatchOrder, CHECKPOINT_FILE, train, trainSync, type TrainerStepLog } from './trainer.js';
import { variableGrads } from './variables.js';
import { toy, toyBytes, TOY, type Batch } from './test-support/toy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageRoot = path.resolve(here, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-trainer-'));
beforeAll(async () => {
  await initBackend();
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('BatchOrder', () => {
  it('cuts each epoch\'s seeded permutation into full batches and drops the short rest', () => {
    const o = new BatchOrder({ size: 10, batchSize: 4, seed: 7 });
    expect(o.perEpoch).toBe(2);
    for (const epoch of [0, 1, 2]) {
      const perm = Array.from(createRng(7).fork(`epoch:${epoch}`).permutation(10));
      expect(Array.from(o.indices(2 * epoch))).toEqual(perm.slice(0, 4));
      expect(Array.from(o.indices(2 * epoch + 1))).toEqual(perm.slice(4, 8));
    }
    // every batch has distinct rows; a batch never straddles two epochs
    for (let i = 0; i < 20; i++) expect(new Set(o.indices(i)).size).toBe(4);
    // a set smaller than the batch gives whole-set batches; another stream through epochRng
    expect(new BatchOrder({ size: 3, batchSize: 8 }).indices(5)).toHaveLength(3);
    const custom = new BatchOrder({ size: 6, batchSize: 3, epochRng: (e) => createRng(`x:${e}`) });
    expect(Array.from(custom.indices(3))).toEqual(Array.from(createRng('x:1').permutation(6)).slice(3, 6));
    expect(() => new BatchOrder({ size: 0, batchSize: 4 })).toThrow(/training set empty/);
  });
});

describe('train', () => {
  it('equals the plain loop (variableGrads + one AdamW per group) bit for bit, and logs each term', () => {
    const a = toy();
    const logs: TrainerStepLog[] = [];
    const r = trainSync(a.options({ onStep: (l) => logs.push(l) }));
    expect(r.resumedFrom).toBe(0);
    expect(logs).toEqual(r.logs);
    expect(logs).toHaveLength(12);
    expect(logs.every((l) => l.terms.l2! > 0 && Math.abs(l.loss - l.taskLoss - l.terms.l2!) < 1e-5)).toBe(true);

    // the same problem by hand
    const b = toy();
    const o = b.options();
    const optW = new AdamW(new Map([['w', b.vars.w]]), { lr: 0.05, weightDecay: 0.1, noDecay: () => false, schedule: o.groups[0]!.schedule! });
    const optB = new AdamW(new Map([['b', b.vars.b]]), { lr: 0.02, weightDecay: 0 });
    const losses: number[] = [];
    for (let step = 0; step < 12; step++) {
      const ctx = { step, steps: 12, piece: 0, pieces: 1 };
      o.beforeStep!(ctx);
      const batch = o.loadBatch(o.order.indices(step), ctx) as Batch;
      const { value, grads } = variableGrads(() => tf.add(o.loss(batch, ctx), o.regularisers![0]!.term(ctx)!) as tf.Scalar, new Map([['w', b.vars.w], ['b', b.vars.b]]));
      optW.step({ w: grads.w! });
      optB.step({ b: grads.b! });
      losses.push(value.dataSync()[0]!);
      tf.dispose([value, ...Object.values(grads)]);
      o.disposeBatch!(batch);
    }
    optW.dispose();
    optB.dispose();
    expect(r.logs.map((l) => l.loss)).toEqual(losses);
    expect(toyBytes(a)).toBe(toyBytes(b));
    expect(a.maskLog).toEqual(b.maskLog);
    a.dispose();
    b.dispose();
  });

  it('gradient accumulation and micro-batches give the whole batch\'s update (to float rounding), tensors do not leak', () => {
    // a deterministic loss (no dropout) to compare pieces with the whole batch
    const det = (batchSize: number, extra: { accumulate?: number; microBatch?: number }): { w: Float32Array; losses: number[]; leaked: number } => {
      const t = toy(2, 6, batchSize);
      const o = t.options(extra);
      const before = tf.memory().numTensors;
      const r = trainSync({ ...o, loss: (bt) => tf.tidy(() => {
        const w = t.vars.w;
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(bt.y, 'int32'), TOY.classes), tf.add(tf.matMul(bt.x, w), t.vars.b)) as tf.Scalar;
      }) });
      const leaked = tf.memory().numTensors - before;
      const out = { w: Float32Array.from(t.vars.w.dataSync()), losses: r.logs.map((l) => l.loss), leaked };
      t.dispose();
      return out;
    };
    const whole = det(8, {});
    const accumulated = det(4, { accumulate: 2 });
    const micro = det(8, { microBatch: 3 });
    for (const other of [accumulated, micro]) {
      expect(other.losses).toHaveLength(6);
      other.losses.forEach((l, i) => { expect(Math.abs(l - whole.losses[i]!)).toBeLessThan(1e-5); });
      other.w.forEach((x, i) => { expect(Math.abs(x - whole.w[i]!)).toBeLessThan(1e-5); });
    }
    // not trivially: training moved the weights
    const initial = toy(2, 6, 8);
    expect(whole.w.some((x, i) => Math.abs(x - initial.vars.w.dataSync()[i]!) > 1e-3)).toBe(true);
    initial.dispose();
    // one tensor per step at most is the mask the toy's hook keeps
    expect(whole.leaked).toBeLessThanOrEqual(1);
    expect(micro.leaked).toBeLessThanOrEqual(1);
  });

  it('stopped after a checkpoint and resumed: the same bits, logs and method state as an uninterrupted run', async () => {
    const straight = toy();
    const ref = await train(straight.options());
    const dir = path.join(tmp, 'stop');
    const first = toy();
    await expect(train(first.options({
      checkpoint: { dir, every: 3, fingerprint: 'toy' },
      onStep: (l) => {
        if (l.step === 8) throw new Error('stopped');
      },
    }))).rejects.toThrow('stopped');
    first.dispose();
    const second = toy(); // fresh variables: everything comes from the checkpoint
    const resumed = await train(second.options({ checkpoint: { dir, every: 3, fingerprint: 'toy' } }));
    expect(resumed.resumedFrom).toBe(6);
    expect(resumed.logs).toEqual(ref.logs);
    expect(toyBytes(second)).toBe(toyBytes(straight));
    expect(second.maskLog).toEqual(straight.maskLog);
    // the finished run's checkpoint: a re-run does nothing and returns the same logs
    const third = toy();
    const again = await train(third.options({ checkpoint: { dir, every: 3, fingerprint: 'toy' } }));
    expect(again.resumedFrom).toBe(12);
    expect(again.logs).toEqual(ref.logs);
    expect(toyBytes(third)).toBe(toyBytes(straight));
    // another run's checkpoint is refused, a foreign file too
    expect(() => trainSync(toy().options({ checkpoint: { dir, every: 3, fingerprint: 'other' } }))).toThrow(/other settings/);
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    fs.copyFileSync(path.join(packageRoot, '..', '..', 'tools', 'fixtures', 'data', 'models', 'bert-base', 'model.safetensors'), path.join(foreign, CHECKPOINT_FILE));
    expect(() => trainSync(toy().options({ checkpoint: { dir: foreign, every: 3, fingerprint: 'toy' } }))).toThrow(/not a prunekit-trainer-checkpoint checkpoint/);
    for (const t of [straight, second]) t.dispose();
  });

  it('killed with SIGKILL mid-run in a child process and resumed here: the same bits as an uninterrupted run', async () => {
    const dir = path.join(tmp, 'kill');
    const progress = path.join(tmp, 'kill-progress.txt');
    fs.writeFileSync(progress, '');
    const child = spawn(process.execPath, [path.join(packageRoot, '..', '..', 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'src/train/test-support/kill-child.config.ts'], {
      cwd: packageRoot, env: { ...process.env, TOY_DIR: dir, TOY_PROGRESS: progress }, detached: true, stdio: 'ignore',
    });
    const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => { resolve(signal); }));
    // kill the whole process group (vitest and its worker) once the step-3 checkpoint is on disk
    const deadline = Date.now() + 90_000;
    while (!fs.readFileSync(progress, 'utf8').includes('checkpoint 3')) {
      if (Date.now() > deadline) {
        process.kill(-child.pid!, 'SIGKILL');
        throw new Error(`the child wrote no checkpoint in 90 s: ${fs.readFileSync(progress, 'utf8')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(-child.pid!, 'SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const log = fs.readFileSync(progress, 'utf8');
    expect(log).not.toContain('finished');
    const resumedRun = toy();
    const resumed = await train(resumedRun.options({ checkpoint: { dir, every: 3, fingerprint: 'toy' } }));
    expect(resumed.resumedFrom).toBeGreaterThanOrEqual(3);
    expect(resumed.resumedFrom).toBeLessThan(12);
    const straight = toy();
    const ref = await train(straight.options());
    expect(resumed.logs).toEqual(ref.logs);
    expect(toyBytes(resumedRun)).toBe(toyBytes(straight));
    resumedRun.dispose();
    straight.dispose();
  });

  it('rejects bad settings clearly', () => {
    const t = toy();
    expect(() => trainSync(t.options({ accumulate: 0 }))).toThrow(/accumulate must be a positive integer/);
    expect(() => trainSync(t.options({ groups: [...t.options().groups, t.options().groups[0]!] }))).toThrow(/two variable groups are named "weights"/);
    expect(() => trainSync(t.options({ loadBatch: () => Promise.resolve({ x: tf.zeros([1, TOY.features]) as tf.Tensor2D, y: Int32Array.of(0) }) }))).toThrow(/use train\(\)/);
    t.dispose();
  });
});
