import { describe, expect, it, vi } from 'vitest';
import { buildProgram } from './program.js';

describe('prunekit info', () => {
  it('prints the backend in use as JSON', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((s: string) => void lines.push(s));
    await buildProgram().parseAsync(['node', 'prunekit', 'info', '--json']);
    spy.mockRestore();
    const info = JSON.parse(lines.join('\n'));
    expect(info.prunekit).toMatch(/^\d+\.\d+\.\d+$/);
    expect(['tensorflow', 'cpu']).toContain(info.backend.name);
    if (process.env.CI === 'true') expect(info.backend.name).toBe('tensorflow');
  });
});
