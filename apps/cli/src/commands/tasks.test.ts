import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../program.js';
import { run } from '../run.js';
import { memoryIo } from '@prunekit/cli-support';
import { writeSyntheticTasks } from '../test-support/synthetic.js';

describe('prunekit tasks', () => {
  it('lists the built-in tasks and suites as JSON, plus those of --tasks-dir', async () => {
    const syn = writeSyntheticTasks();
    const io = memoryIo();
    await buildProgram({ io }).parseAsync(['tasks', '--json', '--tasks-dir', syn.tasksDir], { from: 'user' });
    const list = JSON.parse(io.stdout) as { tasks: { name: string; type: string; metric: string }[]; suites: { name: string; tasks: string[] }[] };
    expect(list.tasks.find((t) => t.name === 'SciFact')).toMatchObject({ type: 'retrieval', metric: 'ndcg_at_10' });
    expect(list.tasks.find((t) => t.name === 'ToyPairs')).toMatchObject({ type: 'pair-classification', metric: 'max_ap' });
    expect(list.suites.map((s) => s.name)).toEqual(expect.arrayContaining(['all', 'general', 'finance', 'science', 'chemistry', 'toy']));
    expect(list.suites.find((s) => s.name === 'toy')!.tasks).toEqual(syn.names);
    expect(io.stderr).toBe('');
  });

  it('prints a table for people', async () => {
    const io = memoryIo();
    await buildProgram({ io }).parseAsync(['tasks'], { from: 'user' });
    expect(io.stdout).toMatch(/^task\s+type\s+domain\s+metric\s+splits\s+data$/m);
    expect(io.stdout).toMatch(/^Banking77Classification\s+classification\s+finance\s+accuracy\s+test\s+banking77$/m);
    expect(io.stdout).toMatch(/^ {2}chemistry\s+ChemProtClassification, ChemLitQARetrieval, ChemLitClustering$/m);
  });

  it('a task file with a wrong field is one clear error line and exit status 1', async () => {
    const syn = writeSyntheticTasks();
    const bad = path.join(syn.tasksDir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ name: 'Bad', type: 'retrival', domain: 'x', data: 'x', splits: ['test'] }));
    const io = memoryIo();
    expect(await run(['tasks', '--tasks-dir', syn.tasksDir], { io })).toBe(1);
    expect(io.stderr).toBe(`prunekit: ${bad}: field "type": expected one of "retrieval", "reranking", "sts", "classification", "pair-classification", "clustering", got "retrival"\n`);
    expect(io.stdout).toBe('');
  });
});
