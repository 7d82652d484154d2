// Package boundaries are enforced by lint (@nx/enforce-module-boundaries over the tags in each
// package.json "nx" field): an app importing an app, or a core package importing a method package,
// fails `npm run lint`. Checked by linting probe files with the workspace's own eslint config.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { workspaceRoot } from '../../../tools/test-support/shared.js';

const PROBES: [string, string, string | null][] = [
  ['apps/bench/src/boundary-probe.ts', "import { run } from '@prunekit/cli';\nexport const probe = run;\n", 'A project tagged with "type:app" can only depend on libs tagged with'],
  ['packages/benchmarks-mteb/src/boundary-probe.ts', "import { gatesMethods } from '@prunekit/gates-finegates';\nexport const probe = gatesMethods;\n", 'A project tagged with "type:core" can only depend on libs tagged with "type:core"'],
  ['apps/bench/src/boundary-probe-ok.ts', "import { scoringMethods } from '@prunekit/scoring-fisher';\nexport const probe = scoringMethods;\n", null],
];

describe('module boundaries', () => {
  it('lint fails on an app importing an app and on a core package importing a method; an app importing a method passes', async () => {
    // the rule reads nx's cached project graph (npm run lint computes it the same way first)
    execFileSync(path.join(workspaceRoot, 'node_modules', '.bin', 'nx'), ['show', 'projects'], { cwd: workspaceRoot, stdio: 'ignore' });
    const files = PROBES.map(([rel]) => path.join(workspaceRoot, rel));
    try {
      for (const [i, [, code]] of PROBES.entries()) fs.writeFileSync(files[i]!, code);
      const eslint = new ESLint({ cwd: workspaceRoot });
      const results = await eslint.lintFiles(files);
      for (const [i, [rel, , message]] of PROBES.entries()) {
        const boundary = results.find((r) => r.filePath === files[i])!.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries');
        if (message === null) expect(boundary, rel).toEqual([]);
        else expect(boundary.map((m) => m.message).join('\n'), rel).toContain(message);
      }
    } finally {
      for (const f of files) fs.rmSync(f, { force: true });
    }
  }, 240_000);
});
