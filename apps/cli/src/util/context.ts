// What every command receives: the output streams and the loaders it may need. Tests replace them.
import { loadModelEncoder, processIo, type CliIo, type EncoderLoader } from '@prunekit/cli-support';
import type { MethodRegistry } from '@prunekit/tensor-core';
import { builtinMethods } from '@prunekit/cli-support';

export interface CliContext {
  io: CliIo;
  loadEncoder: EncoderLoader;
  /** the methods `prune` dispatches to (built-ins plus loaded plugins) */
  methods: MethodRegistry;
  /** the argv being run (for help text that depends on it, e.g. `prune --method X --help`) */
  argv: readonly string[];
}

export function defaultContext(overrides: Partial<CliContext> = {}): CliContext {
  return {
    io: overrides.io ?? processIo(),
    loadEncoder: overrides.loadEncoder ?? loadModelEncoder,
    methods: overrides.methods ?? builtinMethods(),
    argv: overrides.argv ?? [],
  };
}
