import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumPath, dumpDom } from '../../../../tools/test-support/chromium.js';
import { memoryIo } from '@prunekit/cli-support';
import { fakeLoader, listFiles, writeSyntheticTasks } from '../../../cli/src/test-support/synthetic.js';
import { buildBenchProgram } from '../program.js';
import { run } from '../run.js';
import { checkModelFolder } from '@prunekit/tensor-core';
import { SuiteRegistry, evalKind } from '../suites/index.js';
import type { SuiteKind } from '../suites/index.js';

function modelDirs(root: string, ...names: string[]): string[] {
  return names.map((n) => {
    const d = path.join(root, n);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'config.json'), '{}');
    return d;
  });
}

const haveChromium = chromiumPath() !== null;

describe('prunekit-bench run (fake encoders, synthetic tasks)', () => {
  const syn = writeSyntheticTasks();
  const out = path.join(syn.root, 'bench');
  const models = modelDirs(syn.root, 'dense', 'pruned-50');
  const io = memoryIo();
  const loader = fakeLoader();
  const ran = buildBenchProgram({ io, loadEncoder: loader }).parseAsync(['run', '--suite', 'toy', '--tasks-dir', syn.tasksDir, '--models', models.join(','), '--data-root', syn.dataRoot, '--out', out], { from: 'user' });

  it('writes results in MTEB layout for every model, report.md and report.html', async () => {
    await ran;
    const files = listFiles(out);
    for (const m of ['dense', 'pruned-50']) for (const t of syn.names) expect(files).toContain(`results/${m}/${m}-v1/${t}.json`);
    expect(files).toContain('report.md');
    expect(files).toContain('report.html');
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^# prunekit-bench: suite toy$/m);
    expect(md).toMatch(/^\| dense \| dense-v1 \| 6 \| \d+\.\d \|$/m);
    expect(md).toMatch(/^Total wall time: \d+\.\d s\.$/m);
    expect(md).toMatch(/^\| task \| type \| domain \| metric \| dense \(dense-v1\) \| pruned-50 \(pruned-50-v1\) \|$/m);
    expect(md).toMatch(/^\| ToyPairs \| pair-classification \| toy \| max_ap \| \d+\.\d\d \| \d+\.\d\d \|$/m);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('vegaEmbed');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(io.stdout).toContain('| ToyRetrieval | retrieval | toy | ndcg_at_10 |');
    expect(io.stdout).toMatch(/12 results, 2 models, wall time/);
    expect(io.stderr).toContain('dense [1/6] ToyRetrieval: started');
    expect(loader.loaded.map((e) => e.disposed)).toEqual([true, true]);
  });

  it('report re-renders Markdown and HTML from the stored results', async () => {
    await ran;
    const md = path.join(syn.root, 'again.md');
    const html = path.join(syn.root, 'again.html');
    const io2 = memoryIo();
    expect(await run(['report', '--results', path.join(out, 'results'), '--out', md, '--title', 'Again'], { io: io2 })).toBe(0);
    expect(await run(['report', '--results', path.join(out, 'results'), '--out', html], { io: io2 })).toBe(0);
    expect(io2.stdout).toBe(`${md}: 12 results, 2 models\n${html}: 12 results, 2 models\n`);
    const text = fs.readFileSync(md, 'utf8');
    expect(text).toMatch(/^# Again$/m);
    // the scores table is the same as the run's own report
    const table = (s: string): string => s.slice(s.indexOf('## Main scores'), s.indexOf('\n\n', s.indexOf('| task |')));
    expect(table(text)).toBe(table(fs.readFileSync(path.join(out, 'report.md'), 'utf8')));
    expect(fs.readFileSync(html, 'utf8')).toContain('<title>prunekit-bench report</title>');
  });

  it.skipIf(!haveChromium)('report.html draws its three charts in headless Chromium', async () => {
    await ran;
    const dom = dumpDom(path.join(out, 'report.html'));
    expect(/<body[^>]*data-chart-error="([^"]*)"/.exec(dom)?.[1]).toBeUndefined();
    expect(/<body[^>]*data-charts-rendered="(\d+)"/.exec(dom)?.[1]).toBe('3');
  });
});

describe('prunekit-bench run options and errors', () => {
  it('--quick runs fewer repetitions under distinct task names and says so in the report', async () => {
    const syn = writeSyntheticTasks();
    const out = path.join(syn.root, 'quick');
    const io = memoryIo();
    expect(await run(['run', '--suite', 'toy', '--tasks-dir', syn.tasksDir, '--models', modelDirs(syn.root, 'm')[0]!, '--data-root', syn.dataRoot, '--out', out, '--quick'], { io, loadEncoder: fakeLoader() })).toBe(0);
    const names = listFiles(path.join(out, 'results')).filter((f) => !f.endsWith('model_meta.json')).map((f) => path.basename(f, '.json'));
    expect(names.sort()).toEqual(['ToyClassification-quick', 'ToyClustering-quick', 'ToyPairs', 'ToyReranking', 'ToyRetrieval', 'ToySTS']);
    const cls = JSON.parse(fs.readFileSync(path.join(out, 'results', 'm', 'm-v1', 'ToyClassification-quick.json'), 'utf8'));
    expect(cls.scores.test[0].scores_per_experiment).toHaveLength(2); // the task's own 2 (already ≤ 3)
    const clu = JSON.parse(fs.readFileSync(path.join(out, 'results', 'm', 'm-v1', 'ToyClustering-quick.json'), 'utf8'));
    expect(clu.scores.test[0].v_measures).toHaveLength(2);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^# prunekit-bench: suite toy \(quick\)$/m);
    expect(md).toContain('- quick: classification and clustering tasks run 3 repetitions (experiments / subsets) instead of 10, on all of their data, as ToyClassification-quick, ToyClustering-quick; the other tasks are unchanged.');
  });

  it('a failing task is listed in report.md, the other results are kept, exit status 1', async () => {
    const syn = writeSyntheticTasks();
    fs.writeFileSync(path.join(syn.dataRoot, 'toy_sts', 'test.jsonl'), '{"sentence1": "a", "sentence2": "b", "score": 1}\n{oops\n');
    const out = path.join(syn.root, 'fail');
    const io = memoryIo();
    expect(await run(['run', '--suite', 'toy', '--tasks-dir', syn.tasksDir, '--models', modelDirs(syn.root, 'm')[0]!, '--data-root', syn.dataRoot, '--out', out], { io, loadEncoder: fakeLoader() })).toBe(1);
    expect(io.stderr).toMatch(/prunekit-bench: 1 task runs failed \(m\/ToySTS\); see report\.md\n$/);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^- m \/ ToySTS: .*toy_sts\/test\.jsonl:2: malformed JSON line/m);
    expect(listFiles(path.join(out, 'results')).filter((f) => f.endsWith('.json'))).toHaveLength(6); // 5 tasks + model_meta
  });

  it.each([
    [['--suite', 'nope'], /^prunekit-bench: unknown suite "nope" \(known: /],
    [['--suite', 'toy', '--models', '/no/such/model'], /^prunekit-bench: --models \/no\/such\/model: no such folder\n$/],
    [['--suite', 'toy', '--data-root', '/no/such/data'], /^prunekit-bench: --data-root \/no\/such\/data: no such folder\n$/],
  ])('bad input %j: one line, exit status 1', async (args, message) => {
    const syn = writeSyntheticTasks();
    const [model] = modelDirs(syn.root, 'm');
    const base: Record<string, string> = { '--suite': 'toy', '--models': model!, '--data-root': syn.dataRoot };
    for (let i = 0; i < args.length; i += 2) base[args[i]!] = args[i + 1]!;
    const io = memoryIo();
    expect(await run(['run', ...Object.entries(base).flat(), '--tasks-dir', syn.tasksDir, '--out', path.join(syn.root, 'o')], { io, loadEncoder: fakeLoader() })).toBe(1);
    expect(io.stderr).toMatch(message);
    expect(fs.existsSync(path.join(syn.root, 'o'))).toBe(false);
  });

  it('refuses the same model twice (also through another path) before running anything', async () => {
    const syn = writeSyntheticTasks();
    const [m] = modelDirs(syn.root, 'm');
    const io = memoryIo();
    const loader = fakeLoader();
    const out = path.join(syn.root, 'dup');
    expect(await run(['run', '--suite', 'toy', '--tasks-dir', syn.tasksDir, '--models', `${m},${m}/../m`, '--data-root', syn.dataRoot, '--out', out], { io, loadEncoder: loader })).toBe(1);
    expect(io.stderr).toBe(`prunekit-bench: --models names the same model twice (${m} and ${m}/../m); each model runs once\n`);
    expect(loader.loaded).toHaveLength(0);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('checks every model up front: a broken folder listed last is reported before any cell runs', async () => {
    const syn = writeSyntheticTasks();
    const [good, broken] = modelDirs(syn.root, 'good', 'broken');
    const io = memoryIo();
    const loader = fakeLoader();
    const validateModel = (d: string): Promise<void> => (path.basename(d) === 'good' ? Promise.resolve() : checkModelFolder(d));
    const out = path.join(syn.root, 'upfront');
    expect(await run(['run', '--suite', 'toy', '--tasks-dir', syn.tasksDir, '--models', `${good},${broken}`, '--data-root', syn.dataRoot, '--out', out], { io, loadEncoder: loader, validateModel })).toBe(1);
    expect(io.stderr).toMatch(new RegExp(`^prunekit-bench: --models ${broken}: ${broken}/config\\.json: required field "\\w+" is missing`));
    expect(loader.loaded).toHaveLength(0);
  });

  it('a model that fails to load mid-run is a failed cell; the others run and the report is written', async () => {
    const syn = writeSyntheticTasks();
    const models = modelDirs(syn.root, 'a', 'b');
    const inner = fakeLoader();
    const loader = Object.assign((dir: string, o: { batchSize: number; name?: string; warn: (l: string) => void }) =>
      (path.basename(dir) === 'a' ? Promise.reject(new Error(`${dir}/model.safetensors: truncated`)) : inner(dir, o)), { loaded: inner.loaded });
    const out = path.join(syn.root, 'midrun');
    const io = memoryIo();
    expect(await run(['run', '--suite', 'toy', '--tasks-dir', syn.tasksDir, '--models', models.join(','), '--data-root', syn.dataRoot, '--out', out], { io, loadEncoder: loader })).toBe(1);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toContain(`- a / (model): ${models[0]}/model.safetensors: truncated`);
    expect(md).toMatch(/^\| b \| b-v1 \| 6 \|/m);
    expect(fs.existsSync(path.join(out, 'report.html'))).toBe(true);
  });

  it('a rerun into the same --out resumes: finished cells are reused, none is duplicated; another folder is refused', async () => {
    const syn = writeSyntheticTasks();
    const [m] = modelDirs(syn.root, 'm');
    const out = path.join(syn.root, 'again');
    const args = ['run', '--suite', 'toy', '--tasks-dir', syn.tasksDir, '--models', m!, '--data-root', syn.dataRoot, '--out', out];
    expect(await run(args, { io: memoryIo(), loadEncoder: fakeLoader() })).toBe(0);
    const first = listFiles(out).filter((f) => f.startsWith('results/')).sort();
    const stamp = fs.statSync(path.join(out, 'results', 'm', 'm-v1', 'ToySTS.json')).mtimeMs;
    const io = memoryIo();
    expect(await run(args, { io, loadEncoder: fakeLoader() })).toBe(0);
    expect(listFiles(out).filter((f) => f.startsWith('results/')).sort()).toEqual(first);
    expect(fs.statSync(path.join(out, 'results', 'm', 'm-v1', 'ToySTS.json')).mtimeMs).toBe(stamp);
    expect(io.stdout).toMatch(/6 results, 1 models/);
    const mine = path.join(syn.root, 'mine');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'thesis.tex'), 'x');
    const io2 = memoryIo();
    expect(await run([...args.slice(0, -1), mine], { io: io2, loadEncoder: fakeLoader() })).toBe(1);
    expect(io2.stderr).toBe(`prunekit-bench: ${mine}: --out is a non-empty folder prunekit did not write; refusing to replace it (choose an empty or new path, or add --force)\n`);
    expect(fs.readdirSync(mine)).toEqual(['thesis.tex']);
  });

  it('report: bad file name or empty results are errors', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-bench-'));
    const io = memoryIo();
    expect(await run(['report', '--results', dir, '--out', path.join(dir, 'r.pdf')], { io })).toBe(1);
    expect(await run(['report', '--results', dir, '--out', path.join(dir, 'r.md')], { io })).toBe(1);
    expect(io.stderr).toBe(`prunekit-bench: --out ${path.join(dir, 'r.pdf')}: expected a .md or .html file name\nprunekit-bench: --results ${dir}: no task results found\n`);
  });
});

describe('suite registry', () => {
  it('lists the eval suites (built-in and --tasks-dir) and takes new kinds', async () => {
    const syn = writeSyntheticTasks();
    const io = memoryIo();
    await buildBenchProgram({ io }).parseAsync(['suites', '--json', '--tasks-dir', syn.tasksDir], { from: 'user' });
    const list = JSON.parse(io.stdout) as { name: string; kind: string }[];
    expect(list.filter((s) => s.kind === 'eval').map((s) => s.name).sort()).toEqual(['all', 'chemistry', 'finance', 'general', 'science', 'toy']);

    // a method's kind registers its own suites; a name two kinds share needs kind:name
    const seen: string[] = [];
    const demo: SuiteKind = {
      name: 'demo',
      description: 'a kind added by another package',
      suites: () => [
        { name: 'toy', kind: 'demo', description: 'shadows eval:toy', run: (ctx) => { seen.push(...ctx.models); return Promise.resolve({ results: [], models: [], failures: [], notes: ['demo ran'] }); } },
      ],
    };
    const suites = new SuiteRegistry().register(evalKind).register(demo);
    const [model] = modelDirs(syn.root, 'm');
    const io2 = memoryIo();
    const args = ['--tasks-dir', syn.tasksDir, '--models', model!, '--data-root', syn.dataRoot, '--out', path.join(syn.root, 'demo')];
    // the demo suite loads nothing: its stand-in model folders skip the up-front model check
    expect(await run(['run', '--suite', 'toy', ...args], { io: io2, suites, validateModel: () => Promise.resolve() })).toBe(1);
    expect(io2.stderr).toBe('prunekit-bench: suite "toy" is offered by several kinds (eval:toy, demo:toy); name one of them\n');
    expect(await run(['run', '--suite', 'demo:toy', ...args], { io: io2, suites, validateModel: () => Promise.resolve() })).toBe(0);
    expect(seen).toEqual([model]);
    expect(fs.readFileSync(path.join(syn.root, 'demo', 'report.md'), 'utf8')).toContain('- demo ran');
    expect(() => new SuiteRegistry().register(evalKind).register(evalKind)).toThrow('suite kind "eval" is registered twice');
  });
});
