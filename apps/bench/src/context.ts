import { builtinMethods, loadModelEncoder, processIo, type CliIo, type EncoderLoader } from '@prunekit/cli-support';
import { checkModelFolder, type MethodRegistry } from '@prunekit/tensor-core';
import { defaultSuiteRegistry, type SuiteRegistry } from './suites/index.js';

/** What the bench commands receive; tests replace the parts they need. */
export interface BenchContext {
  io: CliIo;
  loadEncoder: EncoderLoader;
  suites: SuiteRegistry;
  /** the same method registry `prunekit prune` uses (built-ins plus PRUNEKIT_PLUGINS / --plugin) */
  methods: MethodRegistry;
  /** checks a model folder before any cell runs (config, tokenizer, weight headers); throws naming the file */
  validateModel: (dir: string) => Promise<void>;
}

export function benchContext(overrides: Partial<BenchContext> = {}): BenchContext {
  // a test's fake loader reads no real folder, so the real check applies only with the real loader
  const validateModel = overrides.validateModel ?? (overrides.loadEncoder ? async () => {} : checkModelFolder);
  return { io: overrides.io ?? processIo(), loadEncoder: overrides.loadEncoder ?? loadModelEncoder, suites: overrides.suites ?? defaultSuiteRegistry(), methods: overrides.methods ?? builtinMethods(), validateModel };
}
