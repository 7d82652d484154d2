export { buildProgram } from './program.js';
export { run } from './run.js';
export type { CliContext } from './util/context.js';
export { defaultContext } from './util/context.js';
