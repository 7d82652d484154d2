import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedPath } from '../../../../tools/test-support/shared.js';
import { buildProgram } from '../program.js';
import { run } from '../run.js';
import { memoryIo } from '@prunekit/cli-support';
import { fakeLoader, listFiles, writeSyntheticTasks } from '../test-support/synthetic.js';

interface EvalJson {
  model: { name: string; fingerprint: string };
  resultsDir: string;
  wallTimeSeconds: number;
  table: string;
  results: { task_name: string; main_metric: string; scores: Record<string, { main_score: number }[]>; warnings: string[] }[];
  failures: unknown[];
}

function evalArgs(syn: ReturnType<typeof writeSyntheticTasks>, out: string, ...more: string[]): string[] {
  return ['eval', '--model', path.join(syn.root, 'model-a'), '--tasks-dir', syn.tasksDir, '--data-root', syn.dataRoot, '--out', out, ...more];
}

describe('prunekit eval (fake encoder, synthetic tasks)', () => {
  it('runs a suite of every task type; --json prints only the results document on stdout', async () => {
    const syn = writeSyntheticTasks();
    const out = path.join(syn.root, 'out');
    const io = memoryIo();
    const loader = fakeLoader();
    await buildProgram({ io, loadEncoder: loader }).parseAsync(evalArgs(syn, out, '--suite', 'toy', '--json'), { from: 'user' });
    const doc = JSON.parse(io.stdout) as EvalJson;
    expect(doc.model).toEqual({ name: 'model-a', fingerprint: 'model-a-v1', path: path.join(syn.root, 'model-a') });
    expect(doc.results.map((r) => r.task_name)).toEqual(syn.names);
    for (const r of doc.results) {
      const s = r.scores.test![0]!.main_score;
      expect(s, r.task_name).toBeGreaterThanOrEqual(-1);
      expect(s, r.task_name).toBeLessThanOrEqual(1);
    }
    expect(doc.failures).toEqual([]);
    expect(doc.wallTimeSeconds).toBeGreaterThan(0);
    expect(doc.table).toContain('| ToyRetrieval | retrieval | toy | ndcg_at_10 |');
    // MTEB layout: <out>/<model>/<fingerprint>/<Task>.json + model_meta.json; the cache beside them
    const files = listFiles(out);
    expect(files.filter((f) => f.endsWith('.json'))).toEqual([...syn.names.map((n) => `model-a/model-a-v1/${n}.json`), 'model-a/model-a-v1/model_meta.json'].sort());
    expect(files.some((f) => f.startsWith('.cache/embeddings/') && f.endsWith('.bin'))).toBe(true);
    expect(doc.resultsDir).toBe(path.join(out, 'model-a', 'model-a-v1'));
    // progress is on stderr, plain lines (no TTY here)
    expect(io.stderr).toContain('[1/6] ToyRetrieval: started');
    expect(io.stderr).toMatch(/\[6\/6\] ToyReranking: done in \d/);
    expect(loader.loaded[0]!.disposed).toBe(true);
  });

  it('prints a summary table and the wall time; a re-run re-encodes nothing (results reused, or cache hit)', async () => {
    const syn = writeSyntheticTasks();
    const out = path.join(syn.root, 'out');
    const first = fakeLoader();
    const io = memoryIo();
    expect(await run(evalArgs(syn, out, '--tasks', 'ToySTS,ToyRetrieval'), { io, loadEncoder: first })).toBe(0);
    expect(io.stdout).toMatch(/^\| task \| type \| domain \| metric \| model-a \(model-a-v1\) \|$/m);
    expect(io.stdout).toMatch(/^\| ToySTS \| sts \| toy \| cosine_spearman \| -?\d+\.\d\d \|$/m);
    expect(io.stdout).toMatch(/2 of 2 tasks, wall time \d+\.\d s; results in /);
    expect(first.loaded[0]!.texts).toBeGreaterThan(0);

    // same command again: both results files are read back
    const again = fakeLoader();
    const io2 = memoryIo();
    expect(await run(evalArgs(syn, out, '--tasks', 'ToySTS,ToyRetrieval'), { io: io2, loadEncoder: again })).toBe(0);
    expect(io2.stderr).toContain('ToySTS: results already present, skipped');
    expect(again.loaded[0]!.texts).toBe(0);

    // an interrupted run leaves the cache but not the results: nothing is re-encoded
    fs.rmSync(path.join(out, 'model-a'), { recursive: true });
    const resumed = fakeLoader();
    expect(await run(evalArgs(syn, out, '--tasks', 'ToySTS,ToyRetrieval'), { io: memoryIo(), loadEncoder: resumed })).toBe(0);
    expect(resumed.loaded[0]!.texts).toBe(0);
    expect(fs.existsSync(path.join(out, 'model-a', 'model-a-v1', 'ToySTS.json'))).toBe(true);

    // --cache elsewhere starts empty; --no-cache writes no cache
    const elsewhere = fakeLoader();
    fs.rmSync(path.join(out, 'model-a'), { recursive: true });
    expect(await run(evalArgs(syn, out, '--tasks', 'ToySTS', '--cache', path.join(syn.root, 'cache2')), { io: memoryIo(), loadEncoder: elsewhere })).toBe(0);
    expect(elsewhere.loaded[0]!.texts).toBe(10);
    expect(listFiles(path.join(syn.root, 'cache2')).some((f) => f.endsWith('.bin'))).toBe(true);
    const out3 = path.join(syn.root, 'out3');
    expect(await run(evalArgs(syn, out3, '--tasks', 'ToySTS', '--no-cache'), { io: memoryIo(), loadEncoder: fakeLoader() })).toBe(0);
    expect(listFiles(out3).some((f) => f.includes('.cache'))).toBe(false);
  });

  it('malformed jsonl: exit status 1, one line naming file:line, no results file and no temporary file left', async () => {
    const syn = writeSyntheticTasks();
    const file = path.join(syn.dataRoot, 'toy_sts', 'test.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[2] = '{"sentence1": "broken", "sentence2": ';
    fs.writeFileSync(file, lines.join('\n'));
    const out = path.join(syn.root, 'out');
    const io = memoryIo();
    expect(await run(evalArgs(syn, out, '--tasks', 'ToyPairs,ToySTS,ToyClustering', '--json'), { io, loadEncoder: fakeLoader() })).toBe(1);
    expect(io.stderr).toMatch(new RegExp(`\\nprunekit: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: malformed JSON line \\([^\\n]+\\)\\n$`));
    expect(io.stderr.split('\n').filter((l) => l.startsWith('prunekit: '))).toHaveLength(1);
    expect(io.stdout).toBe('');
    // the task before the bad one finished and kept its (complete) file; the bad one has none
    const files = listFiles(out);
    expect(files).toContain('model-a/model-a-v1/ToyPairs.json');
    expect(files.some((f) => f.includes('ToySTS') || f.includes('ToyClustering'))).toBe(false);
    expect(files.some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('--keep-going runs the other tasks, prints their table, and still exits non-zero', async () => {
    const syn = writeSyntheticTasks();
    fs.appendFileSync(path.join(syn.dataRoot, 'toy_cls', 'test.jsonl'), '{"text": "no label here"}\n');
    const io = memoryIo();
    expect(await run(evalArgs(syn, path.join(syn.root, 'out'), '--suite', 'toy', '--keep-going'), { io, loadEncoder: fakeLoader() })).toBe(1);
    expect(io.stderr).toMatch(/prunekit: ToyClassification failed: .*toy_cls\/test\.jsonl:9: field "label" is missing/);
    expect(io.stderr).toMatch(/prunekit: 1 of 6 tasks failed \(ToyClassification\)\n$/);
    expect(io.stdout).toContain('| ToyReranking |');
    expect(io.stdout).not.toContain('| ToyClassification |');
  });

  it('qrels naming unknown ids: a warning with counts on stderr, kept in the result, exit 0', async () => {
    const syn = writeSyntheticTasks();
    fs.appendFileSync(path.join(syn.dataRoot, 'toy_retrieval', 'qrels', 'test.tsv'), 'q0\tnope\t1\nq9\td1\t1\n');
    const io = memoryIo();
    expect(await run(evalArgs(syn, path.join(syn.root, 'out'), '--tasks', 'ToyRetrieval', '--json'), { io, loadEncoder: fakeLoader() })).toBe(0);
    expect(io.stderr).toMatch(/prunekit: warning: .*qrels\/test\.tsv: 1 qrels rows name 1 query ids absent from .*queries\.jsonl/);
    expect(io.stderr).toMatch(/prunekit: warning: .*qrels\/test\.tsv: 1 qrels rows name 1 document ids absent from .*corpus\.jsonl/);
    const doc = JSON.parse(io.stdout) as EvalJson;
    expect(doc.results[0]!.warnings).toHaveLength(2);
  });

  it.each([
    ['an empty split', (syn: ReturnType<typeof writeSyntheticTasks>) => { fs.writeFileSync(path.join(syn.dataRoot, 'toy_pairs', 'test.jsonl'), '\n'); return ['--tasks', 'ToyPairs']; }, /prunekit: .*toy_pairs\/test\.jsonl: split "test" is empty \(0 rows\)\n$/],
    ['a missing label', (syn: ReturnType<typeof writeSyntheticTasks>) => { fs.appendFileSync(path.join(syn.dataRoot, 'toy_clust', 'test.jsonl'), '{"text": "x"}\n'); return ['--tasks', 'ToyClustering']; }, /prunekit: .*toy_clust\/test\.jsonl:11: field "label" is missing/],
    ['a task file with a wrong field', (syn: ReturnType<typeof writeSyntheticTasks>) => { fs.writeFileSync(path.join(syn.tasksDir, 'x.json'), JSON.stringify({ name: 'X', type: 'sts', domain: 'x', data: 'toy_sts', splits: ['test'], options: { k: 3 } })); return ['--tasks', 'X']; }, /prunekit: .*x\.json: field "options\.k" is not an option of sts tasks/],
    ['an unknown task', () => ['--tasks', 'Nope'], /prunekit: unknown task "Nope" \(known: /],
    ['both --tasks and --suite', () => ['--tasks', 'ToySTS', '--suite', 'toy'], /^prunekit: give either --tasks or --suite, not both\n$/],
    ['neither --tasks nor --suite', () => [], /^prunekit: give --tasks NAME\[,NAME\.\.\.\] or --suite NAME/],
    ['a bad --batch-size', () => ['--tasks', 'ToySTS', '--batch-size', '0'], /^prunekit: option '--batch-size <n>' argument '0' is invalid\. --batch-size expects a positive integer\.\n/],
  ])('%s: one clear line on stderr, exit status 1, no results', async (_what, setup, message) => {
    const syn = writeSyntheticTasks();
    const extra = setup(syn);
    const out = path.join(syn.root, 'out');
    const io = memoryIo();
    expect(await run(evalArgs(syn, out, ...extra), { io, loadEncoder: fakeLoader() })).toBe(1);
    expect(io.stderr).toMatch(message);
    expect(io.stdout).toBe('');
    expect(listFiles(out).filter((f) => f.endsWith('.json') && !f.endsWith('model_meta.json'))).toEqual([]);
  });

  it('a missing model folder or data root is an error before anything runs', async () => {
    const syn = writeSyntheticTasks();
    const io = memoryIo();
    expect(await run(['eval', '--model', path.join(syn.root, 'none'), '--tasks', 'ToySTS', '--tasks-dir', syn.tasksDir, '--data-root', syn.dataRoot, '--out', path.join(syn.root, 'o')], { io })).toBe(1);
    expect(io.stderr).toBe(`prunekit: --model ${path.join(syn.root, 'none')}: no such folder\n`);
    const io2 = memoryIo();
    expect(await run(evalArgs(syn, path.join(syn.root, 'o'), '--tasks', 'ToySTS', '--data-root', path.join(syn.root, 'nodata')), { io: io2, loadEncoder: fakeLoader() })).toBe(1);
    expect(io2.stderr).toBe(`prunekit: --data-root ${path.join(syn.root, 'nodata')}: no such folder\n`);
    const io3 = memoryIo();
    expect(await run(['eval', '--model', 'm'], { io: io3 })).toBe(1);
    expect(io3.stderr).toMatch(/^prunekit: required option '--data-root <dir>' not specified\n/);
  });
});

const tiny = sharedPath('models/tiny-encoder');
const datasets = sharedPath('datasets');

describe('prunekit eval with a real model', () => {
  it.skipIf(!tiny || !datasets)('tiny-encoder on ChemLitClustering (204 texts): results file and a score', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-cli-real-'));
    const io = memoryIo();
    expect(await run(['eval', '--model', tiny!, '--tasks', 'ChemLitClustering', '--data-root', datasets!, '--out', dir, '--json'], { io })).toBe(0);
    const doc = JSON.parse(io.stdout) as EvalJson;
    expect(doc.model.name).toBe('tiny-encoder');
    expect(doc.model.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    const v = doc.results[0]!.scores.test![0]!.main_score;
    expect(v).toBeGreaterThan(0);
    expect(v).toBeLessThan(1);
    expect(fs.existsSync(path.join(doc.resultsDir, 'ChemLitClustering.json'))).toBe(true);
  });
});
