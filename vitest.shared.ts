import { defaultServerConditions, type UserConfig } from 'vite';

// TensorFlow prints two lines when its library loads (absl's InitializeLog warning, oneDNN's info
// line) that no environment variable silences. tensor-core's initBackend points stderr at /dev/null
// while it loads, but in a vitest worker stderr is a socket, which cannot be re-opened; the worker's
// stderr is piped into this process's, so the lines are dropped here. PRUNEKIT_TF_LOG=1 keeps them.
const TF_LOAD_LINE = /^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR|I\d{4} [\d:.]+\s+\d+ port\.cc:\d+\] oneDNN custom operations are on\..*)\r?$/;
if (['', '0', 'false'].includes((process.env.PRUNEKIT_TF_LOG ?? '').trim().toLowerCase())) {
  const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk)) return write(chunk, ...rest);
    const text = chunk.toString();
    if (!text.includes('absl::InitializeLog') && !text.includes('oneDNN')) return write(chunk, ...rest);
    const kept = text.split('\n').filter((line) => !TF_LOAD_LINE.test(line)).join('\n');
    return kept === '' ? true : write(kept, ...rest);
  }) as typeof process.stderr.write;
}

// Tests import sibling packages from their TypeScript sources (the "@prunekit/source" export
// condition), so a test never runs against a stale dist/ build.
const conditions = ['@prunekit/source', ...defaultServerConditions];

export const sharedTestConfig: UserConfig & { test: Record<string, unknown> } = {
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@prunekit/source'] } },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // the JSON report feeds tools/ci/test-summary.mjs (one closing line for the whole workspace)
    reporters: ['default', ['json', { outputFile: 'test-report.json' }]],
    // packages whose capability has not landed yet have no tests; the others must have some
    passWithNoTests: true,
  },
};
