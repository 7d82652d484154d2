// The README's example runs as written (tools/test-support/readme-examples.ts): FineGates at target
// 0.4 on ../shared's mini-mlm and SST-2 for 20 steps, in a fresh scratch folder (skips without
// ../shared, fails under CI=true).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleWorkspace, readmeCodeBlocks, runExample } from '../../../tools/test-support/readme-examples.js';
import { sharedPath, workspaceRoot } from '../../../tools/test-support/shared.js';

const blocks = readmeCodeBlocks(path.join(workspaceRoot, 'packages', 'gates-finegates', 'README.md'));
const shared = sharedPath('models/mini-mlm') && sharedPath('datasets/glue_sst2');

describe('gates-finegates README example', () => {
  it('has the runGates example', () => {
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toContain('runGates(');
  });

  it.skipIf(!shared)('runGates example: closes gates, writes the compacted model equal to the gated one and prints the removal', () => {
    const cwd = exampleWorkspace();
    const r = runExample(blocks[0]!, cwd);
    expect(r.status, r.stderr).toBe(0);
    const out = path.join(cwd, 'out', 'sst2-fg40');
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as { metrics: { accuracy: number }; trainable: { total: number }; compactMaxDiff: number; removal: { linearRemovedFraction: number }; settings: { steps: number; gateLr: number } };
    expect(report.settings).toMatchObject({ steps: 20, gateLr: 0.25 });
    // the first printed line: accuracy, trainable parameters, max |compacted − gated| logit difference
    const first = r.stdout.split('\n').find((l) => /^\S+ \d+ \S+$/.test(l.trim()))!;
    expect(first, r.stdout).toBe(`${report.metrics.accuracy} ${report.trainable.total} ${report.compactMaxDiff}`);
    expect(report.compactMaxDiff).toBeLessThanOrEqual(1e-4);
    expect(report.removal.linearRemovedFraction).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(out, 'model', 'config.json'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'gates', 'gates.safetensors'))).toBe(true);
  }, 300_000);
});
