import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLabelledTexts, loadPairs, loadRetrieval } from './data.js';
import { validateTask } from './tasks.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pk-data-'));
}
function jsonl(rows: unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

describe('bad input', () => {
  it('a malformed JSON line fails with file:line', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'd'));
    fs.writeFileSync(path.join(root, 'd', 'test.jsonl'), '{"text": "a", "label": "x"}\n\n{"text": "b", "label": \n');
    const task = validateTask({ name: 'C', type: 'clustering', domain: 'g', data: 'd', splits: ['test'] });
    expect(() => loadLabelledTexts(task, root, 'test')).toThrow(new RegExp(`${path.join(root, 'd', 'test.jsonl').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: malformed JSON line`));
  });
  it('a missing label fails with file:line and the field name', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'd'));
    fs.writeFileSync(path.join(root, 'd', 'test.jsonl'), jsonl([{ text: 'a', label: 'x' }, { text: 'b' }]));
    const task = validateTask({ name: 'C', type: 'clustering', domain: 'g', data: 'd', splits: ['test'] });
    expect(() => loadLabelledTexts(task, root, 'test')).toThrow(/test\.jsonl:2: field "label" is missing/);
  });
  it('a pair label other than 0/1 is rejected', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'd'));
    fs.writeFileSync(path.join(root, 'd', 'test.jsonl'), jsonl([{ sentence1: 'a', sentence2: 'b', label: 2 }]));
    const task = validateTask({ name: 'P', type: 'pair-classification', domain: 'g', data: 'd', splits: ['test'] });
    expect(() => loadPairs(task, root, 'test')).toThrow(/test\.jsonl:1: field "label" must be 0 or 1, got 2/);
  });
  it('an empty split and a missing split are errors naming the file', () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'd'));
    fs.writeFileSync(path.join(root, 'd', 'test.jsonl'), '\n');
    const task = validateTask({ name: 'C', type: 'clustering', domain: 'g', data: 'd', splits: ['test'] });
    expect(() => loadLabelledTexts(task, root, 'test')).toThrow(/test\.jsonl: split "test" is empty \(0 rows\)/);
    expect(() => loadLabelledTexts(task, root, 'dev')).toThrow(/dev\.jsonl: split "dev" not found/);
  });
  it('qrels naming unknown queries and documents produce counted warnings; unknown documents stay in the qrels', () => {
    const root = tmp();
    const d = path.join(root, 'beir');
    fs.mkdirSync(path.join(d, 'qrels'), { recursive: true });
    fs.writeFileSync(path.join(d, 'corpus.jsonl'), jsonl([{ _id: 'd1', title: 'T', text: 'one' }, { _id: 'd2', title: '', text: 'two' }]));
    fs.writeFileSync(path.join(d, 'queries.jsonl'), jsonl([{ _id: 'q1', text: 'first' }, { _id: 'q2', text: 'no qrels' }]));
    fs.writeFileSync(path.join(d, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\tghost\t1\nq9\td2\t1\nq9\td1\t0\n');
    const task = validateTask({ name: 'R', type: 'retrieval', domain: 'g', data: 'beir', splits: ['test'] });
    const data = loadRetrieval(task, root, 'test');
    expect(data.queryIds).toEqual(['q1']);
    expect(data.corpusTexts).toEqual(['T one', 'two']);
    expect(data.qrels.q1).toEqual({ d1: 1, ghost: 1 });
    expect(data.warnings).toHaveLength(2);
    expect(data.warnings[0]).toMatch(/2 qrels rows name 1 query ids absent from .*queries\.jsonl \(e\.g\. "q9"\)/);
    expect(data.warnings[1]).toMatch(/1 qrels rows name 1 document ids absent from .*corpus\.jsonl \(e\.g\. "ghost"\)/);
  });
  it('a qrels file without the BEIR header is rejected with file:1', () => {
    const root = tmp();
    const d = path.join(root, 'beir');
    fs.mkdirSync(path.join(d, 'qrels'), { recursive: true });
    fs.writeFileSync(path.join(d, 'corpus.jsonl'), jsonl([{ _id: 'd1', text: 'one' }]));
    fs.writeFileSync(path.join(d, 'queries.jsonl'), jsonl([{ _id: 'q1', text: 'first' }]));
    fs.writeFileSync(path.join(d, 'qrels', 'test.tsv'), 'q1\td1\t1\n');
    const task = validateTask({ name: 'R', type: 'retrieval', domain: 'g', data: 'beir', splits: ['test'] });
    expect(() => loadRetrieval(task, root, 'test')).toThrow(/test\.tsv:1: expected the header/);
  });
});
