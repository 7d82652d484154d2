export { buildBenchProgram } from './program.js';
export { run } from './run.js';
export { benchContext } from './context.js';
export type { BenchContext } from './context.js';
export { defaultSuiteRegistry, SuiteRegistry, evalKind, quickTask, QUICK_REPEATS } from './suites/index.js';
export type { BenchOutcome, BenchRunContext, BenchSuite, ModelRun, SuiteKind } from './suites/index.js';
export { markdownReport, writeMarkdownReport, writeHtmlReport } from './report.js';
export type { ReportMeta } from './report.js';
