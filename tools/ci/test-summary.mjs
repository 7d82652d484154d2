#!/usr/bin/env node
// Sums the vitest JSON reports of every project into one closing line ("N passed, N failed"),
// so CI logs say how many tests ran across the workspace.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
let passed = 0, failed = 0, skipped = 0, files = 0;
for (const group of ['packages', 'apps']) {
  const dir = path.join(root, group);
  for (const name of fs.readdirSync(dir)) {
    const report = path.join(dir, name, 'test-report.json');
    if (!fs.existsSync(report)) continue;
    const r = JSON.parse(fs.readFileSync(report, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    files += 1;
  }
}
console.log(`workspace tests (${files} projects):`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
