// The small real model the CLI tests run on: tiny-encoder (2 layers of 2 heads, 1.49M parameters), kept
// in the repo beside the demo's own model (apps/cli/demo/demo-encoder, which `npm start` and the demo's
// tests use): the tests pin its shapes and stay fast on it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TINY_ENCODER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'demo', 'tiny-encoder');
