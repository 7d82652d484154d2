// The README's examples run as written (tools/test-support/readme-examples.ts): the Encoder
// interface block, and the toy hashed bag-of-words encoder over the chemistry suite of ../shared's
// datasets, in a fresh scratch folder (skips without ../shared, fails under CI=true).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleWorkspace, readmeCodeBlocks, runExample } from '../../../tools/test-support/readme-examples.js';
import { sharedPath, workspaceRoot } from '../../../tools/test-support/shared.js';
import { readResults } from './results.js';

const blocks = readmeCodeBlocks(path.join(workspaceRoot, 'packages', 'benchmarks-mteb', 'README.md'));
const CHEMISTRY = ['ChemProtClassification', 'ChemLitQARetrieval', 'ChemLitClustering'];

describe('benchmarks-mteb README examples', () => {
  it('has the Encoder interface and the toy-encoder example', () => {
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('interface Encoder');
    expect(blocks[1]).toContain('evaluateSuite(');
  });

  it('the Encoder interface block is valid TypeScript (runs as an empty module)', () => {
    const r = runExample(blocks[0]!, exampleWorkspace());
    expect(r.status, r.stderr).toBe(0);
  });

  const datasets = sharedPath('datasets/chemprot') && sharedPath('datasets/chemlit_qa_retrieval') && sharedPath('datasets/chemlit_clustering');
  it.skipIf(!datasets)('toy-encoder example: evaluates the chemistry suite, writes one result per task and the HTML report', () => {
    const cwd = exampleWorkspace();
    const r = runExample(blocks[1]!, cwd);
    expect(r.status, r.stderr).toBe(0);
    for (const t of CHEMISTRY) expect(r.stdout, r.stdout).toContain(`${t} done`);
    const results = readResults(path.join(cwd, 'results'));
    expect(results.map((x) => x.task_name).sort()).toEqual([...CHEMISTRY].sort());
    for (const x of results) expect(x).toMatchObject({ model_name: 'toy-hash-64', model_revision: 'toy-hash-64-v1' });
    expect(fs.readFileSync(path.join(cwd, 'results', 'report.html'), 'utf8')).toContain('toy encoder, chemistry suite');
    // the embedding cache the comment promises
    expect(fs.readdirSync(path.join(cwd, '.cache', 'embeddings')).length).toBeGreaterThan(0);
  }, 300_000);
});
