import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTaskFile, TaskRegistry, validateSuite, validateTask } from './tasks.js';

const sharedDatasets = ['glue_sst2', 'glue_mrpc', 'glue_rte', 'glue_cola', 'glue_stsb', 'financial_phrasebank', 'banking77', 'tatqa_retrieval', 'scifact', 'chemprot', 'scicite', 'chemlit_qa_retrieval', 'chemlit_clustering'];

describe('task registry', () => {
  const reg = TaskRegistry.builtin();
  it('has one built-in task per shared dataset, with the dataset table\'s type and domain', () => {
    const tasks = reg.listTasks();
    expect(tasks.map((t) => t.data).sort()).toEqual([...sharedDatasets].sort());
    expect(reg.getTask('SciFact')).toMatchObject({ type: 'retrieval', domain: 'science', data: 'scifact', splits: ['test'], metric: 'ndcg_at_10' });
    expect(reg.getTask('SST2Classification')).toMatchObject({ splits: ['dev'], metric: 'accuracy', options: { trainSplit: 'train' } });
    expect(reg.getTask('MRPCPairClassification').metric).toBe('max_ap');
    expect(reg.getTask('STSBenchmark').metric).toBe('cosine_spearman');
    expect(reg.getTask('ChemLitClustering').metric).toBe('v_measure');
    expect(reg.listTasks({ domain: 'finance' }).map((t) => t.name).sort()).toEqual(['Banking77Classification', 'FinancialPhraseBankClassification', 'TATQARetrieval']);
  });
  it('groups tasks in suites, every suite naming known tasks', () => {
    expect(reg.listSuites().map((s) => s.name).sort()).toEqual(['all', 'chemistry', 'finance', 'general', 'science']);
    for (const s of reg.listSuites()) expect(reg.suiteTasks(s.name).length).toBe(s.tasks.length);
    expect(reg.suiteTasks('all')).toHaveLength(13);
    expect(reg.suiteTasks('chemistry').map((t) => t.domain)).toEqual(['chemistry', 'chemistry', 'chemistry']);
  });
  it('adds user task files from a folder and refuses duplicate names', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-tasks-'));
    fs.writeFileSync(path.join(dir, 'mine.json'), JSON.stringify({ name: 'MyRetrieval', type: 'retrieval', domain: 'law', data: '/data/my-beir', splits: ['dev'], options: { scoreFunction: 'dot' } }));
    const r = TaskRegistry.builtin();
    r.addDirectory(dir);
    expect(r.getTask('MyRetrieval')).toMatchObject({ domain: 'law', metric: 'ndcg_at_10', options: { scoreFunction: 'dot' } });
    expect(() => { r.addDirectory(dir); }).toThrow(/task "MyRetrieval" is already defined/);
  });
});

describe('task file errors name the file, the field and what was expected', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-badtasks-'));
  const write = (name: string, v: unknown): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, typeof v === 'string' ? v : JSON.stringify(v));
    return f;
  };
  const base = { name: 'T', type: 'sts', domain: 'general', data: 'x', splits: ['test'] };
  it.each([
    ['wrong type', { ...base, type: 'retrival' }, /bad\.json: field "type": expected one of "retrieval", .*got "retrival"/],
    ['missing data', { ...base, data: undefined }, /bad\.json: field "data": expected a non-empty string, got nothing/],
    ['splits not an array', { ...base, splits: 'test' }, /bad\.json: field "splits": expected a non-empty array of split names, got "test"/],
    ['unknown field', { ...base, split: ['x'] }, /bad\.json: unknown field "split"/],
    ['option of another type', { ...base, options: { trainSplit: 'train' } }, /bad\.json: field "options\.trainSplit" is not an option of sts tasks/],
    ['bad option value', { ...base, type: 'classification', options: { samplesPerLabel: -2 } }, /bad\.json: field "options\.samplesPerLabel": expected a non-negative integer, got -2/],
    ['bad option choice', { ...base, type: 'classification', options: { method: 'svm' } }, /bad\.json: field "options\.method": expected one of "logReg", "kNN", got "svm"/],
    ['bad list element', { ...base, type: 'retrieval', options: { kValues: [1, 0] } }, /bad\.json: field "options\.kValues\[1\]": expected a positive integer, got 0/],
    ['empty split name', { ...base, splits: ['test', ''] }, /bad\.json: field "splits\[1\]": expected a non-empty string, got ""/],
    ['options not an object', { ...base, options: 3 }, /bad\.json: field "options": expected an object, got 3/],
    ['not an object', [1], /bad\.json\[0\]: expected a JSON object with fields name, type, domain, data, splits, got 1/],
  ])('%s', (_label, content, re) => {
    const f = write('bad.json', content);
    expect(() => loadTaskFile(f)).toThrow(re);
  });
  it('invalid JSON', () => {
    const f = write('broken.json', '{"name": ');
    expect(() => loadTaskFile(f)).toThrow(/broken\.json: not valid JSON/);
  });
  it('a valid definition gets the type\'s default metric', () => {
    expect(validateTask(base).metric).toBe('cosine_spearman');
  });
  it('absent options get the documented defaults (README table), given ones are kept', () => {
    expect(validateTask({ ...base, type: 'classification', options: { k: 5 } }).options).toEqual({ textField: 'text', labelField: 'label', trainSplit: 'train', method: 'logReg', nExperiments: 10, samplesPerLabel: 8, seed: 42, maxIter: 100, k: 5 });
    expect(validateTask({ ...base, type: 'retrieval' }).options).toEqual({ scoreFunction: 'cosine', kValues: [1, 3, 5, 10, 100, 1000], ignoreIdenticalIds: true });
    expect(validateTask({ ...base, type: 'clustering' }).options).toEqual({ textField: 'text', labelField: 'label', nSubsets: 10, subsetSize: 16384, batchSize: 512, seed: 42 });
    expect(validateTask(base).options).toEqual({ sentence1Field: 'sentence1', sentence2Field: 'sentence2', scoreField: 'score' });
  });
  it('suite files are checked the same way', () => {
    expect(() => validateSuite({ name: 'S', tasks: [] }, 'suites/s.json')).toThrow(/suites\/s\.json: field "tasks": expected a non-empty array of task names, got \[\]/);
    expect(() => validateSuite({ name: 'S', tasks: ['A'], extra: 1 }, 'suites/s.json')).toThrow(/suites\/s\.json: unknown field "extra" \(expected one of name, description, tasks\)/);
  });
});
