import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend.js';
import { pool, readPoolingConfig } from './pooling.js';

beforeAll(async () => {
  await initBackend();
});

// batch 2, seq 3, width 2; row 0 has 3 tokens, row 1 has 2 (last position is padding)
const batch = (): { hidden: tf.Tensor3D; mask: tf.Tensor2D } => ({
  hidden: tf.tensor3d([
    [[1, -1], [3, 5], [2, 0]],
    [[-4, 2], [6, -3], [100, 100]],
  ]),
  mask: tf.tensor2d([[1, 1, 1], [1, 1, 0]], undefined, 'int32'),
});

describe('pooling', () => {
  it('cls, mean, max and last-token pooling ignore padding (hand-computed)', () => {
    const { hidden, mask } = batch();
    expect(pool(hidden, mask, 'cls').arraySync()).toEqual([[1, -1], [-4, 2]]);
    expect(pool(hidden, mask, 'mean').arraySync()).toEqual([[2, 4 / 3].map(Math.fround), [1, -0.5]].map((r) => r.map(Math.fround)));
    expect(pool(hidden, mask, 'max').arraySync()).toEqual([[3, 5], [6, 2]]);
    expect(pool(hidden, mask, 'lasttoken').arraySync()).toEqual([[2, 0], [6, -3]]);
  });

  it('last-token pooling takes the last real token with left padding too', () => {
    // rows: [pad, a, b] and [c, d, e]; hidden value = 10 * row + position
    const hidden = tf.tensor3d([[[0], [1], [2]], [[10], [11], [12]]]);
    const mask = tf.tensor2d([[0, 1, 1], [1, 1, 1]], undefined, 'int32');
    expect(pool(hidden, mask, 'lasttoken').arraySync()).toEqual([[2], [12]]);
    const right = tf.tensor2d([[1, 1, 0], [1, 0, 0]], undefined, 'int32');
    expect(pool(hidden, right, 'lasttoken').arraySync()).toEqual([[1], [10]]);
    tf.dispose([hidden, mask, right]);
  });

  it('reads the sentence-transformers pooling module and Normalize', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-pool-'));
    fs.mkdirSync(path.join(dir, '1_Pooling'));
    fs.writeFileSync(path.join(dir, 'modules.json'), JSON.stringify([
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ]));
    fs.writeFileSync(path.join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_cls_token: true, pooling_mode_mean_tokens: false }));
    expect(readPoolingConfig(dir)).toEqual({ mode: 'cls', normalize: true });
    fs.writeFileSync(path.join(dir, '1_Pooling', 'config.json'), JSON.stringify({ pooling_mode_weightedmean_tokens: true }));
    expect(() => readPoolingConfig(dir)).toThrow(/pooling_mode_weightedmean_tokens" is true; supported pooling modes are cls, mean, max and lasttoken/);
    expect(readPoolingConfig(os.tmpdir() + '/definitely-not-there')).toEqual({ mode: 'mean', normalize: false });
    fs.rmSync(dir, { recursive: true });
  });
});
