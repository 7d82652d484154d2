import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { Tokenizer, createRng, crossEntropyLoss, initBackend, loadModel, prunableParameters, topVMask, variableGrads, type WeightView } from '@prunekit/tensor-core';
import { disposeBatch, encodeExamples, loadExamples, makeBatch, resolveLabelWords } from './data.js';
import { labelWordLogits } from './head.js';
import { loadBitMasks } from './maskio.js';
import { runSmp } from './run.js';
import { regulariserWeight } from './schedule.js';
import { steMaskedWeight } from './ste.js';
import { resolveTask } from './tasks.js';
import { evaluate, trainMethod, type TrainData } from './train.js';
import { tinySetup, tinySst2Data } from './test-support/tiny.js';

const tiny = tinySetup();
let data: TrainData;
beforeAll(async () => {
  await initBackend();
  data = await tinySst2Data(tiny);
});
afterAll(() => {
  tiny.cleanup();
});

const snapshot = (m: ReturnType<typeof loadModel>): Map<string, Float32Array> => new Map([...m.params].map(([n, t]) => [n, Float32Array.from(t.dataSync() as Float32Array)]));

describe('trainMethod', () => {
  it('SMP-S: frozen weights stay bit-identical, masks keep the exact budget, scores learn', async () => {
    const model = loadModel(tiny.model);
    const before = snapshot(model);
    const keeps: number[] = [];
    const r = await trainMethod(model, data, { method: 'smp-s', keep: 0.1, steps: 8, batchSize: 16, finalHold: 2 }, { onStep: (l) => keeps.push(l.kept) });
    for (const [n, t] of model.params) expect(Buffer.from((t.dataSync() as Float32Array).buffer).equals(Buffer.from(before.get(n)!.buffer)), n).toBe(true);
    // the schedule: 1 at the start, v_f during the hold
    expect(keeps[0]).toBe(1);
    const prunable = prunableParameters(model);
    const total = prunable.reduce((a, p) => a + p.numel, 0);
    expect(r.history.map((h) => h.keep).slice(-2)).toEqual([0.1, 0.1]);
    // exact global budget: per matrix type round(v·N_type)
    const st = r.masks!.stats();
    const byKind = new Map<string, number>();
    for (const p of prunable) byKind.set(p.kind, (byKind.get(p.kind) ?? 0) + p.numel);
    expect(st.kept).toBe([...byKind.values()].reduce((a, n) => a + Math.round(0.1 * n), 0));
    expect(Math.abs(st.kept - 0.1 * total)).toBeLessThanOrEqual(3);
    // SMP-S allocates non-uniformly across layers
    const q = st.perMatrix.filter((m) => m.name.includes('attention.self.query'));
    expect(new Set(q.map((m) => m.kept)).size).toBeGreaterThan(1);
    expect(r.history.every((h) => Number.isFinite(h.loss))).toBe(true);
    expect(r.history.at(-1)!.reg).toBeGreaterThan(0);
    expect(r.weights).toBeNull();
    model.dispose();
  });

  it('SMP-L keeps v_f in every matrix; resuming from a checkpoint gives the same masks and scores', async () => {
    const model = loadModel(tiny.model);
    const work = path.join(tiny.root, 'work-resume');
    const cfg = { method: 'smp-l' as const, keep: 0.3, steps: 6, batchSize: 16, finalHold: 1 };
    const straight = await trainMethod(model, data, cfg);
    for (const m of straight.masks!.stats().perMatrix) expect(m.kept).toBe(Math.round(0.3 * m.numel));
    // stopped during step 4, after the checkpoint of step 3
    await expect(trainMethod(model, data, { ...cfg, checkpointEvery: 3, workDir: work }, {
      onStep: (l) => {
        if (l.step === 4) throw new Error('stopped');
      },
    })).rejects.toThrow('stopped');
    expect(fs.existsSync(path.join(work, 'checkpoint.safetensors'))).toBe(true);
    const resumed = await trainMethod(model, data, { ...cfg, checkpointEvery: 3, workDir: work });
    expect(resumed.stepsRun).toBe(3);
    // the whole step log (losses, regulariser, kept and flipped fractions) equals the uninterrupted run's
    expect(resumed.history).toEqual(straight.history);
    for (const [n, m] of straight.masks!.masks) expect(Array.from(resumed.masks!.masks.get(n)!.data)).toEqual(Array.from(m.data));
    expect(resumed.final.scores).toEqual(straight.final.scores);
    // a finished run's checkpoint (after the last step) makes a re-run a no-op with the same result
    const again = await trainMethod(model, data, { ...cfg, checkpointEvery: 3, workDir: work });
    expect(again.stepsRun).toBe(0);
    expect(again.history).toEqual(straight.history);
    expect(again.final.scores).toEqual(straight.final.scores);
    await expect(trainMethod(model, data, { ...cfg, keep: 0.5, checkpointEvery: 3, workDir: work })).rejects.toThrow(/other settings/);
    model.dispose();
  });

  it('baselines: movement and magnitude-ft train the weights, magnitude keeps the largest |W|, full-ft is dense', async () => {
    const model = loadModel(tiny.model);
    const mv = await trainMethod(model, data, { method: 'movement', keep: 0.5, steps: 4, batchSize: 16, finalHold: 1, weightLr: 1e-3 });
    const name = prunableParameters(model)[0]!.name;
    const w0 = model.params.get(name)!.dataSync();
    const w1 = mv.weights!.get(name)!.dataSync();
    expect(w1.some((v, i) => v !== w0[i])).toBe(true);
    const mg = await trainMethod(model, data, { method: 'magnitude-ft', keep: 0.5, steps: 4, batchSize: 16, finalHold: 1, weightLr: 1e-3 });
    const wm = mg.weights!.get(name)!.dataSync();
    const mask = mg.masks!.masks.get(name)!.data;
    let minKept = Infinity;
    let maxDropped = 0;
    mask.forEach((k, i) => {
      if (k) minKept = Math.min(minKept, Math.abs(wm[i]!));
      else maxDropped = Math.max(maxDropped, Math.abs(wm[i]!));
    });
    expect(minKept).toBeGreaterThanOrEqual(maxDropped);
    const ft = await trainMethod(model, data, { method: 'full-ft', keep: 0.1, steps: 2, batchSize: 16 });
    expect(ft.masks).toBeNull();
    expect(ft.history.every((h) => h.keep === 1 && h.reg === 0)).toBe(true);
    for (const r of [mv, mg, ft]) for (const t of r.weights!.values()) t.dispose();
    model.dispose();
  });

  it('SMP dynamics: masks change, the regulariser is λ_R·(s_t/s_f)·mean σ(S), the score gradient through the encoder and head is ∂L/∂W′ ⊙ W', async () => {
    const model = loadModel(tiny.model);
    const r = await trainMethod(model, data, { method: 'smp-l', keep: 0.2, steps: 12, batchSize: 16, finalHold: 3, lrSchedule: 'constant' });
    const h = r.history;
    // λ is 0 at v = 1; after one AdamW step (scores ±lr) mean σ(S) is ½ within lr/4
    expect(h[0]!.reg).toBe(0);
    const ratio = h.slice(1).map((l) => l.reg / regulariserWeight(400, l.keep, 0.2));
    expect(Math.abs(ratio[0]! - 0.5)).toBeLessThanOrEqual(0.02 / 4 + 1e-6);
    // the regulariser pushes scores down: mean σ(S) falls step after step
    for (let i = 1; i < ratio.length; i++) expect(ratio[i]!).toBeLessThan(ratio[i - 1]!);
    // Top-v masks follow the scores: bits change while the schedule prunes and after it
    expect(h[0]!.flipped).toBe(0);
    expect(h.slice(1).every((l) => l.flipped > 0)).toBe(true);
    expect(h.at(-1)!.flipped).toBeLessThan(0.5);

    // the gradient the scores receive, through embeddings, attention, FFN and the label-word head,
    // against a central finite difference of the loss along a random direction of W′ = W ⊙ M ⊙ (1 + E)
    const prunable = prunableParameters(model);
    const rng = createRng('gradcheck');
    const scores = new Map(prunable.map((p) => [p.name, tf.variable(tf.tensor(rng.uniformArray(p.numel, -1, 1), p.shape))]));
    const masks = new Map(prunable.map((p) => [p.name, tf.tensor(Float32Array.from(topVMask(scores.get(p.name)!.dataSync() as Float32Array, Math.round(0.4 * p.numel))), p.shape)]));
    const dir = new Map(prunable.map((p) => [p.name, tf.tensor(rng.uniformArray(p.numel, -1, 1), p.shape)]));
    const batch = makeBatch(data.train, Array.from({ length: 16 }, (_, i) => i));
    const loss = (view: WeightView): tf.Scalar => crossEntropyLoss(labelWordLogits(model, batch, data.labelIds, view), batch.labels);
    const { value, grads } = variableGrads(() => tf.tidy(() => loss((n) => (scores.has(n) ? steMaskedWeight(model.params.get(n)!, scores.get(n)!, masks.get(n)!) : model.params.get(n)!))), scores);
    // dL/dE = ∂L/∂W′ ⊙ W ⊙ M = (STE score gradient) ⊙ M
    const analytic = tf.tidy(() => tf.addN(prunable.map((p) => tf.sum(tf.mul(tf.mul(grads[p.name]!, masks.get(p.name)!), dir.get(p.name)!)))).dataSync()[0]!);
    const at = (eps: number): number => tf.tidy(() => loss((n) => (scores.has(n) ? tf.mul(tf.mul(model.params.get(n)!, masks.get(n)!), tf.add(1, tf.mul(dir.get(n)!, eps))) : model.params.get(n)!)).dataSync()[0]!);
    const eps = 1e-2;
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    expect(Math.abs(analytic)).toBeGreaterThan(1e-4);
    expect(Math.abs(analytic - numeric)).toBeLessThan(2e-2 * Math.abs(analytic) + 1e-5);
    expect(prunable.every((p) => tf.tidy(() => tf.max(tf.abs(grads[p.name]!)).dataSync()[0]!) > 0)).toBe(true);
    tf.dispose([value, ...Object.values(grads), ...scores.values(), ...masks.values(), ...dir.values()]);
    disposeBatch(batch);
    model.dispose();
  });

  it('keeps tf.memory() flat over training steps', async () => {
    const model = loadModel(tiny.model);
    await trainMethod(model, data, { method: 'smp-s', keep: 0.5, steps: 2, batchSize: 16 });
    const n0 = tf.memory().numTensors;
    await trainMethod(model, data, { method: 'smp-s', keep: 0.5, steps: 5, batchSize: 16, evalEvery: 2 });
    expect(tf.memory().numTensors).toBe(n0);
    model.dispose();
  });
});

describe('runSmp', () => {
  it('writes bit-packed masks + manifest + model folder atomically; the masks reload and reproduce the accuracy; distillation from a full-ft teacher', async () => {
    const teacherOut = path.join(tiny.root, 'teacher');
    const t = await runSmp({ model: tiny.model, task: 'glue_sst2', datasets: tiny.datasets, out: teacherOut, method: 'full-ft', keep: 1, steps: 3, batchSize: 16, weightLr: 1e-3, maxLength: 32 });
    expect(t.manifest).toBeNull();
    expect(fs.existsSync(path.join(teacherOut, 'model', 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(teacherOut, 'model', 'vocab.txt'))).toBe(true);

    const out = path.join(tiny.root, 'smp-out');
    const lines: string[] = [];
    const r = await runSmp({
      model: tiny.model, task: 'glue_sst2', datasets: tiny.datasets, out, method: 'smp-s', keep: 0.2, steps: 6, batchSize: 16, maxLength: 32,
      head: 'prompt', teacher: teacherOut, exportModel: true, checkpointEvery: 2, onLog: (l) => lines.push(l),
    });
    expect(lines.some((l) => l.startsWith('teacher logits'))).toBe(true);
    expect(lines.some((l) => l === 'checkpoint at step 2')).toBe(true);
    expect(fs.existsSync(`${path.resolve(out)}.work`)).toBe(false);
    const files = fs.readdirSync(out).sort();
    expect(files).toEqual(['masks.bin', 'masks.json', 'metrics.json', 'model']);
    const model = loadModel(tiny.model);
    const total = prunableParameters(model).reduce((a, p) => a + p.numel, 0);
    const m = r.manifest!;
    expect(fs.statSync(path.join(out, 'masks.bin')).size).toBe(m.maskBytes);
    expect(m.maskBytes).toBe(prunableParameters(model).reduce((a, p) => a + Math.ceil(p.numel / 8), 0));
    expect(m.maskBytes).toBeLessThan(total / 8 + 24);
    expect(r.modelBytes).toBe(model.numParameters() * 4);
    const mf = JSON.parse(fs.readFileSync(path.join(out, 'masks.json'), 'utf8'));
    expect(mf).toMatchObject({ format: 'prunekit-bitmasks', method: 'smp-s', task: 'glue_sst2', keep: 0.2, head: { variant: 'prompt', labelWords: ['terrible', 'great'] } });
    expect(mf.hyperparameters.distillation).toEqual({ temperature: 2, alpha: 0.5 });

    // reload the masks onto the unchanged base model: the same predictions and accuracy
    const { masks } = loadBitMasks(out);
    expect(masks.stats().kept).toBe(m.matrices.reduce((a, e) => a + e.kept, 0));
    const task = resolveTask('glue_sst2');
    const tok = await Tokenizer.fromPretrained(tiny.model);
    const lw = await resolveLabelWords(tok, task);
    const evalSet = await encodeExamples(tok, task, await loadExamples(path.join(tiny.datasets, 'glue_sst2', 'dev.jsonl'), task), { variant: 'prompt', maxLength: 32 });
    const { view, dispose } = masks.view(model);
    const again = evaluate(model, evalSet, lw.ids, 2, view);
    dispose();
    expect(again.scores).toEqual(r.final.scores);
    // and the exported pruned model folder gives them without masks
    const exported = loadModel(path.join(out, 'model'));
    expect(evaluate(exported, evalSet, lw.ids, 2).scores).toEqual(r.final.scores);
    exported.dispose();
    model.dispose();
  });

  it('errors clearly on a missing task folder, an unknown method and a bad teacher', async () => {
    await expect(runSmp({ model: tiny.model, task: 'glue_cola', datasets: tiny.datasets, out: path.join(tiny.root, 'x'), method: 'smp-l', keep: 0.5, steps: 1 })).rejects.toThrow(/glue_cola does not exist/);
    await expect(runSmp({ model: tiny.model, task: 'glue_sst2', datasets: tiny.datasets, out: path.join(tiny.root, 'x'), method: 'nope' as 'smp-l', keep: 0.5, steps: 1 })).rejects.toThrow(/unknown method "nope"/);
    await expect(runSmp({ model: tiny.model, task: 'glue_sst2', datasets: tiny.datasets, out: path.join(tiny.root, 'x'), method: 'smp-l', keep: 0.5, steps: 1, teacher: tiny.datasets })).rejects.toThrow(/teacher .*neither/);
    expect(fs.existsSync(path.join(tiny.root, 'x'))).toBe(false);
  });
});
