import { describe, expect, it } from 'vitest';
import { buildProgram } from '../program.js';
import { memoryIo } from '@prunekit/cli-support';

describe('prunekit info', () => {
  it('prints the backend in use as JSON', async () => {
    const io = memoryIo();
    await buildProgram({ io }).parseAsync(['info', '--json'], { from: 'user' });
    const info = JSON.parse(io.stdout);
    expect(info.prunekit).toMatch(/^\d+\.\d+\.\d+$/);
    expect(['tensorflow', 'cpu']).toContain(info.backend.name);
    if (process.env.CI === 'true') expect(info.backend.name).toBe('tensorflow');
  });
});
