#!/usr/bin/env node
import { buildBenchProgram } from './program.js';

buildBenchProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    console.error(`prunekit-bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
