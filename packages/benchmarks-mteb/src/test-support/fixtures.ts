// Reads the reference fixtures written by tools/metrics/reference_metrics.py.
import fs from 'node:fs';
import path from 'node:path';
import { workspaceRoot } from '../../../../tools/test-support/shared.js';

export const metricsFixtureDir = path.join(workspaceRoot, 'tools', 'fixtures', 'data', 'metrics');

// the caller names the fixture's shape; JSON.parse cannot check it
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export function loadFixture<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(metricsFixtureDir, name), 'utf8')) as T;
}

export function f32(rows: number[][]): Float32Array[] {
  return rows.map((r) => Float32Array.from(r));
}
