// The README's examples run as written (tools/test-support/readme-examples.ts), each in a fresh
// scratch folder laid out like the workspace root, on the bundled tiny-encoder (apps/cli/demo) and
// the decoder fixtures (tools/fixtures): nothing from ../shared is needed.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleWorkspace, readmeCodeBlocks, runExample } from '../../../tools/test-support/readme-examples.js';
import { workspaceRoot } from '../../../tools/test-support/shared.js';

const blocks = readmeCodeBlocks(path.join(workspaceRoot, 'packages', 'tensor-core', 'README.md'));
const tiny = JSON.parse(fs.readFileSync(path.join(workspaceRoot, 'apps', 'cli', 'demo', 'tiny-encoder', 'config.json'), 'utf8')) as { hidden_size: number; intermediate_size: number; num_hidden_layers: number };
/** the last line of the example's own output that is numbers separated by spaces */
const numbers = (stdout: string): number[] => {
  const line = stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && l.split(' ').every((w) => Number.isFinite(Number(w)))).at(-1);
  return line === undefined ? [] : line.split(' ').map(Number);
};
const ok = (r: ReturnType<typeof runExample>): void => {
  expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
};

describe('tensor-core README examples', () => {
  it('has the seven examples in order', () => {
    expect(blocks).toHaveLength(7);
    expect(blocks.map((b) => ['prunableParameters(', 'trainSync(', 'planFromMasks(', 'openEncoder(', 'qwen.encode(', '@huggingface/transformers', 'registry.register('].findIndex((k) => b.includes(k)))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('sentence embeddings, dense and through a half mask: a paraphrase is close, the masked embedding differs', () => {
    const r = runExample(blocks[0]!, exampleWorkspace());
    ok(r);
    const [paraphrase, masked] = numbers(r.stdout);
    expect(paraphrase, r.stdout).toBeGreaterThan(0);
    expect(paraphrase).toBeLessThanOrEqual(1);
    expect(masked).toBeGreaterThan(-1);
    expect(masked).toBeLessThan(0.9999);
  }, 120_000);

  it('the trainer example runs 50 steps from scratch and writes its checkpoint folder', () => {
    const cwd = exampleWorkspace();
    const r = runExample(blocks[1]!, cwd);
    ok(r);
    expect(numbers(r.stdout)).toEqual([50, 0]);
    expect(fs.readdirSync(path.join(cwd, 'toy.work')).length).toBeGreaterThan(0);
  }, 120_000);

  it('compaction removes every other FFN neuron exactly; the ONNX export of the result encodes a sentence', () => {
    const cwd = exampleWorkspace();
    const c = runExample(blocks[2]!, cwd);
    ok(c);
    const [dropped, before, after] = numbers(c.stdout);
    expect(dropped).toBe(0);
    // half of the neurons of each layer: an up-projection row and bias, a down-projection column each
    const h = tiny.hidden_size;
    expect(before! - after!).toBe(tiny.num_hidden_layers * (tiny.intermediate_size / 2) * (h + 1 + h));
    for (const d of ['compacted-model', 'compacted-dense']) expect(fs.existsSync(path.join(cwd, d, 'config.json')), d).toBe(true);
    const o = runExample(blocks[3]!, cwd);
    ok(o);
    const [parameters, dims] = numbers(o.stdout);
    expect(dims).toBe(h);
    expect(parameters).toBeGreaterThan(0);
    expect(parameters).toBeLessThan(after!);
  }, 240_000);

  it('the Qwen3-Embedding-style example encodes a query (with its prompt) and a document', () => {
    const r = runExample(blocks[4]!, exampleWorkspace());
    ok(r);
    const cfg = JSON.parse(fs.readFileSync(path.join(workspaceRoot, 'tools', 'fixtures', 'data', 'decoders', 'qwen3-embed', 'config.json'), 'utf8')) as { hidden_size: number };
    expect(numbers(r.stdout)).toEqual([cfg.hidden_size, cfg.hidden_size]);
  }, 120_000);

  it('transformers.js reads the ONNX export of the Qwen3 fixture: one sentence embedding per text', () => {
    const r = runExample(blocks[5]!, exampleWorkspace());
    ok(r);
    const cfg = JSON.parse(fs.readFileSync(path.join(workspaceRoot, 'tools', 'fixtures', 'data', 'decoders', 'qwen3-embed', 'config.json'), 'utf8')) as { hidden_size: number };
    expect(r.stdout).toContain(`[ 2, ${cfg.hidden_size} ]`);
  }, 120_000);

  it('the plugin example is the tested examples/drop-neurons-plugin.mjs, and loads as a module', () => {
    expect(blocks[6]).toBe(fs.readFileSync(path.join(workspaceRoot, 'packages', 'tensor-core', 'examples', 'drop-neurons-plugin.mjs'), 'utf8'));
    ok(runExample(blocks[6]!, exampleWorkspace()));
  }, 60_000);
});
