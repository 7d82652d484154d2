import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MaskSet, initBackend, loadModel } from '@prunekit/tensor-core';
import { sharedPath } from '../../../tools/test-support/shared.js';
import { runPrune } from './prune.js';
import type { Triplet } from './triplets.js';

const tiny = sharedPath('models/tiny-encoder');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-run-'));
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});
beforeAll(async () => {
  await initBackend();
});

const t = (q: string, p: string, n: string): Triplet => ({ query: q, positive: p, negative: n });
const domain = [
  t('quarterly revenue', 'Revenue rose 5% in the quarter.', 'The park opens at nine.'),
  t('interest expense', 'Interest expense was $12 million.', 'He likes green tea.'),
  t('share buyback', 'We repurchased 2 million shares.', 'The river flooded the valley.'),
  t('tax rate', 'The effective tax rate was 21%.', 'Birds migrate south in winter.'),
];
const general = [t('a cat sleeps', 'the cat is sleeping', 'stocks fell sharply'), t('it rains', 'rain is falling', 'the meeting was moved')];

describe.skipIf(!tiny)('runPrune', () => {
  it('writes a HF folder with masked weights, masks, manifest and DAI diagnostics, and reuses statistics', async () => {
    const out = path.join(tmp, 'gaprune');
    const stages = new Set<string>();
    const r = await runPrune({ model: tiny!, out, method: 'gaprune', sparsity: 0.5, domain, general, batchSize: 2, onProgress: (s) => stages.add(s) });
    expect([...stages]).toEqual(['domain statistics', 'general statistics', 'scoring', 'saving']);
    expect(r.stats.sparsity).toBe(0.5);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'modules.json', 'prunekit/masks.safetensors', 'prunekit/masks.json', 'prunekit/diagnostics.json']) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'prunekit/masks.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'prunekit-masks', method: 'gaprune', targetSparsity: 0.5, allocation: 'global', targets: 'mlp' });
    expect(manifest.dataFingerprints.domain).toMatch(/^[0-9a-f]{16}$/);
    const { masks } = MaskSet.load(path.join(out, 'prunekit/masks.safetensors'));
    const model = loadModel(out);
    for (const [n, { data }] of masks.masks) {
      const w = model.params.get(n)!.dataSync();
      data.forEach((keep, i) => {
        if (!keep && w[i] !== 0) throw new Error(`${n}[${i}] should be pruned`);
      });
    }
    model.dispose();
    // statistics were stored in the work folder; a second run (another sparsity) reuses them
    const seen = new Set<string>();
    await runPrune({ model: tiny!, out: path.join(tmp, 'gaprune-30'), method: 'gaprune', sparsity: 0.3, domain, general, batchSize: 2, workDir: `${out}.work`, onProgress: (s) => seen.add(s) });
    expect(seen.has('domain statistics')).toBe(false);
  });

  it('refuses missing inputs and bad sparsity with clear messages, leaving no output', async () => {
    const out = path.join(tmp, 'bad');
    await expect(runPrune({ model: tiny!, out, method: 'gaprune', sparsity: 0.5, domain })).rejects.toThrow('method "gaprune" needs general triplets (--general FILE)');
    await expect(runPrune({ model: tiny!, out, method: 'magnitude', sparsity: 1.5 })).rejects.toThrow('--sparsity must be in [0, 1) (got 1.5)');
    expect(fs.existsSync(out)).toBe(false);
  });
});
