// GAPrune on a decoder embedder (the Qwen3-shaped fixture of tools/fixtures/make_decoder_fixtures.py:
// last-token pooling, left padding, a sentence-transformers query prompt): the default decoder targets
// are the gated MLP's gate, up and down matrices, queries carry the model's query prompt, and the
// method runs through the same APIs as for encoders.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { MLP_ONLY, SentenceEncoder, allocateMasks, initBackend, maskedView } from '@prunekit/tensor-core';
import { workspaceRoot } from '../../../tools/test-support/shared.js';
import { computeGradStats } from './gradstats.js';
import { prunableWeights, scoreWeights } from './score.js';
import type { Triplet } from './triplets.js';

const dir = path.join(workspaceRoot, 'tools', 'fixtures', 'data', 'decoders', 'qwen3-embed');
// authored triplets (not from any dataset)
const domain: Triplet[] = [
  ['What was the net revenue in 2019?', 'Net revenue for fiscal 2019 was $4.2 billion.', 'The company was founded in Ohio.'],
  ['How much debt matures next year?', 'Long-term debt of $350 million matures in 2021.', 'Employees volunteer in schools.'],
  ['What is the dividend per share?', 'The board declared a dividend of $0.42 per share.', 'The building has twelve floors.'],
  ['Cash from operations', 'Operating cash flow was $1.1 billion.', 'The logo was redesigned.'],
].map(([query, positive, negative]) => ({ query: query!, positive: positive!, negative: negative! }));
const general: Triplet[] = [
  ['A man is playing a guitar.', 'Someone plays the guitar.', 'A dog runs across the field.'],
  ['The weather is cold today.', 'It is chilly outside.', 'She bought a laptop.'],
  ['He is reading a book.', 'A man reads a novel.', 'The soup is salty.'],
].map(([query, positive, negative]) => ({ query: query!, positive: positive!, negative: negative! }));

let encoder: SentenceEncoder;
beforeAll(async () => {
  await initBackend();
  encoder = await SentenceEncoder.load(dir);
});

describe('GAPrune on a Qwen3-shaped decoder embedder', () => {
  it('scores the gate, up and down matrices with the query prompt and prunes an exact 50%', async () => {
    const weights = prunableWeights(encoder, MLP_ONLY);
    expect([...weights.keys()]).toEqual([0, 1].flatMap((l) => ['gate_proj', 'up_proj', 'down_proj'].map((m) => `layers.${l}.mlp.${m}.weight`)));
    const params = [...weights.keys()];
    const dom = await computeGradStats(encoder, domain, { params, batchSize: 2 });
    expect(dom.meta.queryPrompt).toBe(encoder.prompts.query);
    const unprompted = await computeGradStats(encoder, domain, { params, batchSize: 2, queryPrompt: '' });
    expect(unprompted.meta.queryPrompt).toBeUndefined();
    expect(unprompted.fisher.get(params[0]!)).not.toEqual(dom.fisher.get(params[0]!)); // the prompt changes what is measured
    const gen = await computeGradStats(encoder, general, { params, batchSize: 3 });
    for (const n of params) expect(dom.fisher.get(n)!.some((v) => v > 0), n).toBe(true);
    const { scores } = await scoreWeights(encoder, 'gaprune', weights, { domain: dom, general: gen });
    const masks = allocateMasks(scores, 0.5, 'global');
    const total = [...weights.values()].reduce((a, w) => a + w.data.length, 0);
    expect(total - masks.stats().kept).toBe(Math.round(0.5 * total));
    // the pruned model embeds (last-token pooled, normalised) through a masked view
    const t = masks.toTensors();
    const pruned = await encoder.encode(['What was the net revenue?', 'Hi.'], { view: maskedView(encoder.model.denseView, t), promptName: 'query' });
    const dense = await encoder.encode(['What was the net revenue?', 'Hi.'], { promptName: 'query' });
    tf.dispose([...t.values()]);
    for (const [i, e] of pruned.entries()) {
      expect(Math.abs(Math.hypot(...e) - 1)).toBeLessThan(1e-5);
      expect(e).not.toEqual(dense[i]);
    }
  });
});
