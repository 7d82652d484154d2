// The suites prunekit-bench knows. A method's suites (gaprune, smp, finegates) live in their own
// file in this folder and add one line below.
import { evalKind } from './eval.js';
import { gapruneKind } from './gaprune.js';
import { SuiteRegistry } from './registry.js';
import { smpKind } from './smp.js';
import { finegatesKind } from './finegates.js';
import { structuredKind } from './structured.js';

export function defaultSuiteRegistry(): SuiteRegistry {
  return new SuiteRegistry()
    .register(evalKind)
    .register(gapruneKind)
    .register(smpKind)
    .register(finegatesKind)
    .register(structuredKind);
}

export { SuiteRegistry } from './registry.js';
export { evalKind, quickTask, QUICK_REPEATS } from './eval.js';
export type { BenchOutcome, BenchRunContext, BenchSuite, ModelRun, SuiteKind } from './types.js';
