// Attention dropout of decoders in training, as transformers' eager attention does it: dropout on the
// attention probabilities (config attention_dropout), inverted scaling, nothing in eval mode. Checked
// on the qwen3-embed fixture (GQA: 4 query heads over 2 KV heads) with attention_dropout set to 0.5,
// through the input of o_proj (the attention context).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { loadModel } from './load.js';
import type { EncoderModel } from './model.js';
import { fixturesDir, readReference } from '../test-support/reference.js';

const P = 0.5;
const source = path.join(fixturesDir, 'decoders', 'qwen3-embed');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-decoder-dropout-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
let model: EncoderModel;
let inputs: { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D };

beforeAll(async () => {
  await initBackend();
  for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(source, f), path.join(tmp, f));
  const config = JSON.parse(fs.readFileSync(path.join(source, 'config.json'), 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify({ ...config, attention_dropout: P }));
  model = loadModel(tmp);
  const ref = readReference(path.join(source, 'reference.safetensors'));
  inputs = { inputIds: ref.int2d('right.input_ids'), attentionMask: ref.int2d('right.attention_mask') };
});

/** The attention context of layer 0 (o_proj's input) [batch, seq, heads * headDim], and the hidden state. */
function run(options: { training?: boolean; dropoutSeed?: number }): { ctx: Float32Array; hidden: Float32Array } {
  let ctx: Float32Array | undefined;
  const hidden = tf.tidy(() => model.forward(inputs, {
    ...options,
    onLinearInput: (name, x) => {
      if (name === 'layers.0.self_attn.o_proj.weight') ctx = x.dataSync() as Float32Array;
    },
  }).lastHiddenState.dataSync() as Float32Array);
  return { ctx: ctx!, hidden };
}

describe('decoder attention dropout (training)', () => {
  it('reads attention_dropout from config.json', () => {
    expect(model.config.attentionDropoutProb).toBe(P);
  });

  it('is off in eval mode, on in training, and a seed makes it repeatable', () => {
    const evalA = run({});
    const evalB = run({ training: false, dropoutSeed: 3 });
    expect(evalB.hidden).toEqual(evalA.hidden);
    const a = run({ training: true, dropoutSeed: 7 });
    const b = run({ training: true, dropoutSeed: 7 });
    const c = run({ training: true, dropoutSeed: 8 });
    expect(b.hidden).toEqual(a.hidden);
    expect(c.hidden).not.toEqual(a.hidden);
    expect(a.hidden).not.toEqual(evalA.hidden);
  });

  it('drops attention probabilities with inverted scaling: the first token (probability 1 on itself) gives 0 or v/(1-p) per head', () => {
    const evalCtx = run({}).ctx;
    const [batch, seq] = inputs.inputIds.shape;
    const width = evalCtx.length / (batch * seq);
    const heads = model.config.layers[0]!.numHeads;
    const d = width / heads;
    let kept = 0;
    let dropped = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { ctx } = run({ training: true, dropoutSeed: seed });
      for (let b = 0; b < batch; b++) {
        for (let h = 0; h < heads; h++) {
          const at = b * seq * width + h * d; // position 0 (right padding: every row's first token)
          const slice = Array.from(ctx.subarray(at, at + d));
          if (slice.every((x) => x === 0)) {
            dropped += 1;
          } else {
            kept += 1;
            for (let i = 0; i < d; i++) expect(slice[i]).toBeCloseTo(evalCtx[at + i]! / (1 - P), 5);
          }
        }
      }
    }
    // 240 Bernoulli(0.5) draws: both outcomes, near half each (5 standard deviations is about +-39)
    expect(kept + dropped).toBe(240);
    expect(Math.abs(kept - 120)).toBeLessThan(39);
  });

  it('is unbiased: the context averaged over seeds approaches the eval context', () => {
    const evalCtx = run({}).ctx;
    const sum = new Float64Array(evalCtx.length);
    const n = 60;
    for (let seed = 100; seed < 100 + n; seed++) {
      const { ctx } = run({ training: true, dropoutSeed: seed });
      for (let i = 0; i < ctx.length; i++) sum[i] = sum[i]! + ctx[i]!;
    }
    let err = 0;
    let scale = 0;
    for (let i = 0; i < evalCtx.length; i++) {
      err += (sum[i]! / n - evalCtx[i]!) ** 2;
      scale += evalCtx[i]! ** 2;
    }
    // relative error of the mean falls as 1/sqrt(n) (at most about 0.13 here for p = 0.5); without
    // the 1/(1-p) scaling the mean would be half the eval context (relative error 0.5)
    expect(Math.sqrt(err / scale)).toBeLessThan(0.25);
  });
});
