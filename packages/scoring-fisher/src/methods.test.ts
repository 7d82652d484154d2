import { describe, expect, it } from 'vitest';
import { validateMethodOptions } from '@prunekit/tensor-core';
import { scoringMethods } from './methods.js';

describe('scoring methods in the registry', () => {
  it('refuses "structure" and "distill" instead of silently returning an unstructured masked model', async () => {
    const gaprune = scoringMethods.find((m) => m.name === 'gaprune')!;
    const magnitude = scoringMethods.find((m) => m.name === 'magnitude')!;
    type Ctx = Parameters<(typeof scoringMethods)[number]['run']>[0];
    const withOptions = (options: unknown): Ctx => ({ options }) as unknown as Ctx;
    await expect(gaprune.run(withOptions(validateMethodOptions(gaprune, { structure: 'heads,neurons' })))).rejects.toThrow(/gaprune: option "structure" \(heads,neurons\) is applied by runStructuredPrune/);
    await expect(magnitude.run(withOptions(validateMethodOptions(magnitude, { distill: 'cosine' })))).rejects.toThrow(/magnitude: option "distill" applies to structured pruning/);
  });
});
