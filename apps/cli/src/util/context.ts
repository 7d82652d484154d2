// What every command receives: the output streams and the loaders it may need. Tests replace them.
import { loadModelEncoder, type EncoderLoader } from './encoder.js';
import { processIo, type CliIo } from './io.js';

export interface CliContext {
  io: CliIo;
  loadEncoder: EncoderLoader;
}

export function defaultContext(overrides: Partial<CliContext> = {}): CliContext {
  return { io: overrides.io ?? processIo(), loadEncoder: overrides.loadEncoder ?? loadModelEncoder };
}
