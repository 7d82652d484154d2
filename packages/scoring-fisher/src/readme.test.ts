// The README's examples run as written (tools/test-support/readme-examples.ts), on the bundled
// tiny-encoder with a few triplets as domain.jsonl and general.jsonl.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleWorkspace, readmeCodeBlocks, runExample } from '../../../tools/test-support/readme-examples.js';
import { workspaceRoot } from '../../../tools/test-support/shared.js';

const blocks = readmeCodeBlocks(path.join(workspaceRoot, 'packages', 'scoring-fisher', 'README.md'));
// the example's own line: two numbers (other lines, e.g. a library's notice, are not the example's)
const printedNumbers = (stdout: string): number[] => {
  const line = stdout.split('\n').filter((l) => /^\S+ \S+$/.test(l.trim()) && l.trim().split(' ').every((w) => w === 'undefined' || Number.isFinite(Number(w)))).at(-1);
  return line === undefined ? [] : line.trim().split(' ').map(Number);
};
const triplets = (words: string[]): string => words.map((w, i) => JSON.stringify({ query: `what is ${w}`, positive: `${w} is a term number ${i}`, negative: `the weather on day ${i}` })).join('\n') + '\n';

describe('scoring-fisher README examples', () => {
  it('has the runPrune and the structured example', () => {
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toContain('runPrune(');
    expect(blocks[1]).toContain('pruneStructured(');
  });

  it('runPrune example: prunes tiny-encoder to 50% of its MLP weights and prints the sparsity', () => {
    const cwd = exampleWorkspace({
      'domain.jsonl': triplets(['revenue', 'margin', 'equity', 'debt', 'lease', 'tax', 'asset', 'bond']),
      'general.jsonl': triplets(['cat', 'river', 'song', 'tree', 'train', 'book', 'cloud', 'bread']),
    });
    const r = runExample(blocks[0]!, cwd);
    expect(r.status, r.stderr).toBe(0);
    const [sparsity, spearman] = printedNumbers(r.stdout);
    expect(sparsity, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBeCloseTo(0.5, 3);
    expect(spearman).toBeGreaterThan(-1);
    expect(fs.existsSync(path.join(cwd, 'out', 'tiny-gaprune-50', 'model.safetensors'))).toBe(true);
  }, 300_000);

  it('structured example: removes the 50% budget of parameters (whole groups) and saves the compacted model', () => {
    const cwd = exampleWorkspace();
    const r = runExample(blocks[1]!, cwd);
    expect(r.status, r.stderr).toBe(0);
    const [removed, target] = printedNumbers(r.stdout);
    // removedParams meets the budget targetParams up to one group's granularity
    expect(target, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBeGreaterThan(0);
    expect(removed! / target!).toBeGreaterThan(0.95);
    expect(removed! / target!).toBeLessThan(1.05);
    expect(fs.existsSync(path.join(cwd, 'out', 'tiny-structured-50', 'config.json'))).toBe(true);
  }, 300_000);
});
