import { describe, expect, it } from 'vitest';
import { routePrune } from './route.js';
import { run } from '../run.js';
import { memoryIo } from './io.js';

describe('prune --method routing', () => {
  it('sends SMP and gate methods to their commands and leaves GAPrune methods on prune', () => {
    expect(routePrune(['prune', '--method', 'smp-s', '--keep', '0.1'])).toEqual(['prune-smp', '--method', 'smp-s', '--keep', '0.1']);
    expect(routePrune(['prune', '--task', 'sst2', '--method=movement'])).toEqual(['prune-smp', '--task', 'sst2', '--method=movement']);
    expect(routePrune(['prune', '--method', 'finegates', '--sparsity', '0.4'])).toEqual(['prune-gates', '--method', 'finegates', '--sparsity', '0.4']);
    expect(routePrune(['prune', '--method', 'lora'])[0]).toBe('prune-gates');
    expect(routePrune(['prune', '--method', 'gaprune'])[0]).toBe('prune');
    expect(routePrune(['eval', '--method', 'smp-s'])[0]).toBe('eval');
  });

  it('a routed command reports its own missing flags', async () => {
    const io = memoryIo();
    const code = await run(['prune', '--method', 'finegates'], { io });
    expect(code).not.toBe(0);
    expect(io.stderr).toMatch(/required option|--task|--model/);
  });
});
