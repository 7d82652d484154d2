// Tiny synthetic task data (a few lines of each task type) in a temporary folder, and a fake
// encoder, for command tests where a real model is not the point.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadedEncoder, EncoderLoader } from '@prunekit/cli-support';

export interface SyntheticTasks {
  /** Temp folder holding everything below. */
  root: string;
  /** Datasets root (toy_retrieval/, toy_sts/, ...). */
  dataRoot: string;
  /** Task files (toy.json with 6 tasks) and suites/toy.json. */
  tasksDir: string;
  /** Task names, in the suite's order. */
  names: string[];
}

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

const TOPICS = {
  fin: ['bank loan interest rate', 'stock market shares price', 'credit card payment fee'],
  chem: ['acid base reaction molecule', 'polymer synthesis catalyst', 'protein enzyme binding'],
};

/** Writes one task of each type over two topics (finance / chemistry words). */
export function writeSyntheticTasks(): SyntheticTasks {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-cli-'));
  const dataRoot = path.join(root, 'data');
  const tasksDir = path.join(root, 'tasks');
  const docs = [...TOPICS.fin, ...TOPICS.chem];
  write(path.join(dataRoot, 'toy_retrieval', 'corpus.jsonl'), jsonl(docs.map((t, i) => ({ _id: `d${i}`, title: '', text: t }))));
  write(path.join(dataRoot, 'toy_retrieval', 'queries.jsonl'), jsonl([{ _id: 'q0', text: 'interest rate of a loan' }, { _id: 'q1', text: 'enzyme binding a protein' }, { _id: 'q2', text: 'catalyst for polymer' }]));
  write(path.join(dataRoot, 'toy_retrieval', 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq0\td0\t1\nq1\td5\t1\nq2\td4\t1\n');
  write(path.join(dataRoot, 'toy_sts', 'test.jsonl'), jsonl([
    { sentence1: 'bank loan', sentence2: 'loan from a bank', score: 5 },
    { sentence1: 'acid reaction', sentence2: 'stock price', score: 0 },
    { sentence1: 'polymer catalyst', sentence2: 'catalyst for polymer synthesis', score: 4 },
    { sentence1: 'credit card', sentence2: 'enzyme binding', score: 1 },
    { sentence1: 'market shares', sentence2: 'shares on the market', score: 4.5 },
  ]));
  const labelled = (n: number): { text: string; label: string }[] => Array.from({ length: n }, (_, i) => {
    const fin = i % 2 === 0;
    const words = (fin ? TOPICS.fin : TOPICS.chem)[i % 3]!.split(' ');
    return { text: `${words[i % words.length]!} ${words[(i + 1) % words.length]!} case ${i}`, label: fin ? 'finance' : 'chemistry' };
  });
  write(path.join(dataRoot, 'toy_cls', 'train.jsonl'), jsonl(labelled(12)));
  write(path.join(dataRoot, 'toy_cls', 'test.jsonl'), jsonl(labelled(8)));
  write(path.join(dataRoot, 'toy_pairs', 'test.jsonl'), jsonl([
    { sentence1: 'bank loan rate', sentence2: 'loan rate of a bank', label: 1 },
    { sentence1: 'acid base', sentence2: 'stock market', label: 0 },
    { sentence1: 'protein enzyme', sentence2: 'enzyme and protein', label: 1 },
    { sentence1: 'credit card fee', sentence2: 'polymer synthesis', label: 0 },
  ]));
  write(path.join(dataRoot, 'toy_clust', 'test.jsonl'), jsonl(labelled(10)));
  write(path.join(dataRoot, 'toy_rerank', 'test.jsonl'), jsonl([
    { query: 'loan interest', positive: ['bank loan interest rate'], negative: ['acid base reaction', 'polymer synthesis'] },
    { query: 'enzyme', positive: ['protein enzyme binding'], negative: ['stock market shares'] },
  ]));
  const tasks = [
    { name: 'ToyRetrieval', type: 'retrieval', domain: 'toy', data: 'toy_retrieval', splits: ['test'], options: { kValues: [1, 3, 5, 10] } },
    { name: 'ToySTS', type: 'sts', domain: 'toy', data: 'toy_sts', splits: ['test'] },
    { name: 'ToyClassification', type: 'classification', domain: 'toy', data: 'toy_cls', splits: ['test'], options: { samplesPerLabel: 4, nExperiments: 2 } },
    { name: 'ToyPairs', type: 'pair-classification', domain: 'toy', data: 'toy_pairs', splits: ['test'] },
    { name: 'ToyClustering', type: 'clustering', domain: 'toy', data: 'toy_clust', splits: ['test'], options: { nSubsets: 2 } },
    { name: 'ToyReranking', type: 'reranking', domain: 'toy', data: 'toy_rerank', splits: ['test'] },
  ];
  write(path.join(tasksDir, 'toy.json'), JSON.stringify(tasks, null, 2));
  write(path.join(tasksDir, 'suites', 'toy.json'), JSON.stringify({ name: 'toy', description: 'synthetic tasks', tasks: tasks.map((t) => t.name) }));
  return { root, dataRoot, tasksDir, names: tasks.map((t) => t.name) };
}

/** Every file under a folder (relative paths, sorted). */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

export type FakeEncoder = LoadedEncoder & { texts: number; disposed: boolean };

/** A hashed bag-of-words encoder (dimension 32) that counts the texts it encodes. */
export function fakeEncoder(name = 'fake-bow'): FakeEncoder {
  const enc: FakeEncoder = {
    name,
    fingerprint: `${name}-v1`,
    texts: 0,
    disposed: false,
    encode(texts) {
      enc.texts += texts.length;
      return Promise.resolve(texts.map((t) => {
        const v = new Float32Array(32);
        for (const w of t.toLowerCase().split(/\W+/).filter(Boolean)) v[crypto.createHash('md5').update(w).digest()[0]! % 32]! += 1;
        v[31]! += 0.01; // no all-zero vector
        return v;
      }));
    },
    dispose() {
      enc.disposed = true;
    },
  };
  return enc;
}

/** A loader that hands out fake encoders named after the model folder, remembering them. */
export function fakeLoader(): EncoderLoader & { loaded: FakeEncoder[] } {
  const loaded: FakeEncoder[] = [];
  const loader = (dir: string, opts: { name?: string }): Promise<FakeEncoder> => {
    const e = fakeEncoder(opts.name ?? path.basename(dir));
    loaded.push(e);
    return Promise.resolve(e);
  };
  return Object.assign(loader, { loaded });
}
