import { builtinMethods, loadModelEncoder, processIo, type CliIo, type EncoderLoader } from '@prunekit/cli-support';
import type { MethodRegistry } from '@prunekit/tensor-core';
import { defaultSuiteRegistry, type SuiteRegistry } from './suites/index.js';

/** What the bench commands receive; tests replace the parts they need. */
export interface BenchContext {
  io: CliIo;
  loadEncoder: EncoderLoader;
  suites: SuiteRegistry;
  /** the same method registry `prunekit prune` uses (built-ins plus PRUNEKIT_PLUGINS / --plugin) */
  methods: MethodRegistry;
}

export function benchContext(overrides: Partial<BenchContext> = {}): BenchContext {
  return { io: overrides.io ?? processIo(), loadEncoder: overrides.loadEncoder ?? loadModelEncoder, suites: overrides.suites ?? defaultSuiteRegistry(), methods: overrides.methods ?? builtinMethods() };
}
