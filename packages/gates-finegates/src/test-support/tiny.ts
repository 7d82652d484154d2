// Tiny fixtures: the random-weight HF models of tools/fixtures/data/models and synthetic token data.
import path from 'node:path';
import { createRng, loadModel, type EncoderModel } from '@prunekit/tensor-core';
import { workspaceRoot } from '../../../../tools/test-support/shared.js';
import { encoderOf } from '../run.js';
import type { TokenizedSet } from '../data.js';

export function tinyModel(arch: 'bert' | 'roberta' = 'bert', head: 'base' | 'mlm' = 'base'): { full: EncoderModel; model: EncoderModel } {
  const full = loadModel(path.join(workspaceRoot, 'tools', 'fixtures', 'data', 'models', `${arch}-${head}`));
  return { full, model: encoderOf(full) };
}

/** n rows of random ids (lengths 3..maxLen, first id 2, last 3) with labels from the first token after [CLS]. */
export function syntheticSet(n: number, numLabels: number, seed = 1, maxLen = 9, vocab = 120): TokenizedSet {
  const rng = createRng(seed);
  const ids: Int32Array[] = [];
  const typeIds: Int32Array[] = [];
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const len = 3 + rng.int(maxLen - 2);
    const row = Int32Array.from({ length: len }, () => 5 + rng.int(vocab - 5));
    row[0] = 2;
    row[len - 1] = 3;
    ids.push(row);
    typeIds.push(new Int32Array(len));
    labels[i] = row[1]! % numLabels;
  }
  return { ids, typeIds, labels, size: n };
}
