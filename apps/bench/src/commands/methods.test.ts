import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '@prunekit/cli-support';
import { workspaceRoot } from '../../../../tools/test-support/shared.js';
import { run } from '../run.js';

const PLUGIN = path.join(workspaceRoot, 'packages', 'tensor-core', 'examples', 'drop-neurons-plugin.mjs');

describe('prunekit-bench methods', () => {
  it('lists the registry prunekit prune uses, with a third-party plugin method when one is loaded', async () => {
    const plain = memoryIo();
    expect(await run(['methods', '--json'], { io: plain })).toBe(0);
    const names = (JSON.parse(plain.stdout) as { name: string }[]).map((m) => m.name);
    expect(names).toEqual(['gaprune', 'gaprune-balanced', 'magnitude', 'random', 'fisher', 'fisher-general', 'taylor', 'wanda', 'smp-l', 'smp-s', 'movement', 'magnitude-ft', 'full-ft-mlm', 'finegates', 'lora', 'bitfit', 'full-ft']);
    const io = memoryIo();
    expect(await run(['methods', '--plugin', PLUGIN, '--json'], { io })).toBe(0);
    const plugin = (JSON.parse(io.stdout) as { name: string; family: string; options: { flag: string; default: unknown }[] }[]).find((m) => m.name === 'drop-neurons');
    expect(plugin).toMatchObject({ family: 'structured', options: [{ flag: '--sparsity', default: 0.5 }] });
  });
});
