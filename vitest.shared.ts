import { defaultServerConditions, type UserConfig } from 'vite';

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
