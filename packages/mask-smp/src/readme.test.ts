// The README's example runs as written (tools/test-support/readme-examples.ts): SMP-S at keep 10% on
// ../shared's mini-mlm and SST-2 for 20 steps, in a fresh scratch folder (skips without ../shared,
// fails under CI=true).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleWorkspace, readmeCodeBlocks, runExample } from '../../../tools/test-support/readme-examples.js';
import { sharedPath, workspaceRoot } from '../../../tools/test-support/shared.js';

const blocks = readmeCodeBlocks(path.join(workspaceRoot, 'packages', 'mask-smp', 'README.md'));
const shared = sharedPath('models/mini-mlm') && sharedPath('datasets/glue_sst2');

describe('mask-smp README example', () => {
  it('has the runSmp example', () => {
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toContain('runSmp(');
  });

  it.skipIf(!shared)('runSmp example: writes bit-packed masks keeping 10% of the prunable weights and prints the scores', () => {
    const cwd = exampleWorkspace();
    const r = runExample(blocks[0]!, cwd);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/accuracy: 0\.\d+/);
    const out = path.join(cwd, 'out', 'sst2-smp-s-10');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'masks.json'), 'utf8')) as { keptFraction: number; maskBytes: number };
    expect(manifest.keptFraction).toBeCloseTo(0.1, 3);
    expect(r.stdout).toContain(`${manifest.maskBytes} bytes of masks for a `);
    expect(fs.statSync(path.join(out, 'masks.bin')).size).toBe(manifest.maskBytes);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')) as { hyperparameters: { steps: number }; data: { trainExamples: number; evalExamples: number } };
    expect(metrics.hyperparameters.steps).toBe(20);
    expect(metrics.data).toMatchObject({ trainExamples: 320, evalExamples: 200 });
  }, 300_000);
});
