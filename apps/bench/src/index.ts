export { buildBenchProgram } from './program.js';
