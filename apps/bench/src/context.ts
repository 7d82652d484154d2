import { loadModelEncoder, processIo, type CliIo, type EncoderLoader } from '@prunekit/cli';
import { defaultSuiteRegistry, type SuiteRegistry } from './suites/index.js';

/** What the bench commands receive; tests replace the parts they need. */
export interface BenchContext {
  io: CliIo;
  loadEncoder: EncoderLoader;
  suites: SuiteRegistry;
}

export function benchContext(overrides: Partial<BenchContext> = {}): BenchContext {
  return { io: overrides.io ?? processIo(), loadEncoder: overrides.loadEncoder ?? loadModelEncoder, suites: overrides.suites ?? defaultSuiteRegistry() };
}
