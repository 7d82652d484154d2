import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateSuite, evaluateTask } from './evaluate.js';
import { aggregateTable, readResults, resultFilePath } from './results.js';
import { validateTask, type TaskDefinition } from './tasks.js';
import { toyEncoder } from './test-support/toyEncoder.js';
import { retrievalMetrics, exhaustiveSearch, toRun } from './metrics/retrieval.js';
import { EmbeddingCache, encodeTexts } from './cache.js';
import type { Encoder } from './encoder.js';
import { Rng } from './rng.js';

function jsonl(rows: unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** A small synthetic datasets root with one dataset per task type. */
function makeRoot(): { root: string; tasks: TaskDefinition[] } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-eval-'));
  const rng = new Rng(9);
  const words = ['acid', 'base', 'bond', 'loan', 'rate', 'bank', 'cell', 'gene', 'film', 'plot', 'star', 'song'];
  const topic = (t: number, n: number): string => Array.from({ length: n }, () => words[(t * 3 + rng.int(3)) % words.length]).join(' ');
  const mk = (dir: string, files: Record<string, string>): void => {
    for (const [f, c] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, dir, f)), { recursive: true });
      fs.writeFileSync(path.join(root, dir, f), c);
    }
  };
  const corpus = Array.from({ length: 40 }, (_, i) => ({ _id: `d${i}`, title: `doc ${i}`, text: topic(i % 4, 6) }));
  const queries = Array.from({ length: 8 }, (_, i) => ({ _id: `q${i}`, text: topic(i % 4, 3) }));
  const qrels = 'query-id\tcorpus-id\tscore\n' + queries.map((q, i) => `${q._id}\td${i}\t1\n${q._id}\td${i + 4}\t1`).join('\n') + '\n';
  mk('ret', { 'corpus.jsonl': jsonl(corpus), 'queries.jsonl': jsonl(queries), 'qrels/test.tsv': qrels });
  mk('cls', {
    'train.jsonl': jsonl(Array.from({ length: 60 }, (_, i) => ({ text: topic(i % 3, 5), label: `L${i % 3}` }))),
    'test.jsonl': jsonl(Array.from({ length: 30 }, (_, i) => ({ text: topic(i % 3, 5), label: `L${i % 3}` }))),
  });
  mk('clu', { 'test.jsonl': jsonl(Array.from({ length: 40 }, (_, i) => ({ text: topic(i % 4, 8), label: i % 4 }))) });
  mk('sts', { 'test.jsonl': jsonl(Array.from({ length: 20 }, (_, i) => ({ sentence1: topic(i % 4, 5), sentence2: i % 2 ? topic(i % 4, 5) : topic((i + 1) % 4, 5), score: i % 2 ? 4 : 1 }))) });
  mk('pair', { 'test.jsonl': jsonl(Array.from({ length: 20 }, (_, i) => ({ sentence1: topic(i % 4, 5), sentence2: i % 2 ? topic(i % 4, 5) : topic((i + 2) % 4, 5), label: i % 2 }))) });
  mk('rr', { 'test.jsonl': jsonl(Array.from({ length: 6 }, (_, i) => ({ query: topic(i % 4, 3), positive: [topic(i % 4, 6)], negative: [topic((i + 1) % 4, 6), topic((i + 2) % 4, 6)] }))) });
  const tasks = [
    { name: 'ToyRetrieval', type: 'retrieval', domain: 'science', data: 'ret', splits: ['test'] },
    { name: 'ToyClassification', type: 'classification', domain: 'finance', data: 'cls', splits: ['test'], options: { nExperiments: 3, samplesPerLabel: 4 } },
    { name: 'ToyClustering', type: 'clustering', domain: 'science', data: 'clu', splits: ['test'], options: { nSubsets: 3 } },
    { name: 'ToySTS', type: 'sts', domain: 'general', data: 'sts', splits: ['test'] },
    { name: 'ToyPairs', type: 'pair-classification', domain: 'general', data: 'pair', splits: ['test'] },
    { name: 'ToyReranking', type: 'reranking', domain: 'general', data: 'rr', splits: ['test'] },
  ].map((t) => validateTask(t, `synthetic:${t.name}`));
  return { root, tasks };
}

describe('evaluateTask / evaluateSuite', () => {
  it('runs every task type and writes MTEB-layout results, then a Markdown table', async () => {
    const { root, tasks } = makeRoot();
    const out = path.join(root, 'results');
    const enc = toyEncoder();
    const run = await evaluateSuite(enc, tasks, { datasetsRoot: root, outputDir: out, cacheDir: path.join(root, 'cache'), batchSize: 16 });
    expect(run.failures).toEqual([]);
    expect(run.results.map((r) => r.task_name)).toEqual(tasks.map((t) => t.name));
    for (const r of run.results) {
      const file = resultFilePath(out, enc.name, enc.fingerprint, r.task_name);
      const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(saved).toMatchObject({ task_name: r.task_name, model_name: 'toy-hash-64', model_revision: 'toy-hash-64-v1', prunekit_version: '0.1.0', dataset_revision: null, kg_co2_emissions: null });
      expect(typeof saved.evaluation_time).toBe('number');
      const s = saved.scores.test[0];
      expect(s.hf_subset).toBe('default');
      expect(s.main_score).toBe(s[r.main_metric]);
      expect(s.main_score).toBeGreaterThanOrEqual(-1);
      expect(s.main_score).toBeLessThanOrEqual(1);
    }
    const byName = Object.fromEntries(run.results.map((r) => [r.task_name, r.scores.test![0]!]));
    expect(Object.keys(byName.ToyRetrieval!)).toEqual(expect.arrayContaining(['ndcg_at_10', 'map_at_100', 'mrr_at_10', 'recall_at_1000', 'precision_at_3']));
    expect(Object.keys(byName.ToyPairs!)).toEqual(expect.arrayContaining(['cosine_ap', 'manhattan_f1', 'euclidean_accuracy_threshold', 'dot_ap', 'max_ap']));
    expect(byName.ToyClassification!.scores_per_experiment).toHaveLength(3);
    expect(fs.existsSync(path.join(path.dirname(resultFilePath(out, enc.name, enc.fingerprint, 'x')), 'model_meta.json'))).toBe(true);
    const table = aggregateTable(readResults(out));
    expect(table.split('\n')[0]).toBe('| task | type | domain | metric | toy-hash-64 (toy-hash-64-v1) |');
    expect(table).toMatch(/\| ToySTS \| sts \| general \| cosine_spearman \| -?\d+\.\d\d \|/);
    expect(table).toMatch(/\| \*\*mean all \(6\)\*\* \|/);
  });

  it('the retrieval task computes the same metrics as the metric functions on the same embeddings', async () => {
    const { root, tasks } = makeRoot();
    const enc = toyEncoder();
    const r = await evaluateTask(enc, tasks[0]!, { datasetsRoot: root });
    const corpus = fs.readFileSync(path.join(root, 'ret', 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { _id: string; title: string; text: string });
    const queries = fs.readFileSync(path.join(root, 'ret', 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { _id: string; text: string });
    const c = await enc.encode(corpus.map((d) => `${d.title} ${d.text}`));
    const q = await enc.encode(queries.map((d) => d.text));
    const ids = corpus.map((d) => d._id);
    const qids = queries.map((d) => d._id);
    const qrels = Object.fromEntries(qids.map((id, i) => [id, { [`d${i}`]: 1, [`d${i + 4}`]: 1 }]));
    const expected = retrievalMetrics(qrels, toRun(qids, exhaustiveSearch(q, c, { topK: 1000, corpusIds: ids, queryIds: qids }), ids));
    expect(r.scores.test![0]!.ndcg_at_10).toBe(expected.scores.ndcg_at_10);
    expect(r.scores.test![0]!.map_at_100).toBe(expected.scores.map_at_100);
  });

  it('an asymmetric encoder gets the query and document roles on retrieval and reranking, none elsewhere, and the cache keeps the roles apart', async () => {
    const { root, tasks } = makeRoot();
    const inner = toyEncoder('roles');
    const seen: { role: string; texts: string[] }[] = [];
    // a query is embedded as if "q:" were prefixed: a different vector for the same text
    const roles: Encoder = {
      name: 'roles', fingerprint: 'roles-v1', asymmetric: true,
      encode: (t, role) => {
        seen.push({ role: role ?? 'none', texts: t });
        return inner.encode(role === 'query' ? t.map((x) => `q ${x}`) : t);
      },
    };
    const cacheDir = path.join(root, 'cache');
    const byName = Object.fromEntries(tasks.map((t) => [t.name, t]));
    const r = await evaluateTask(roles, byName.ToyRetrieval!, { datasetsRoot: root, cacheDir });
    const queries = fs.readFileSync(path.join(root, 'ret', 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
    const corpus = fs.readFileSync(path.join(root, 'ret', 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { title: string; text: string });
    expect(seen.filter((s) => s.role === 'query').flatMap((s) => s.texts).sort()).toEqual([...new Set(queries)].sort());
    expect(seen.filter((s) => s.role === 'document').flatMap((s) => s.texts).length).toBe(new Set(corpus.map((d) => `${d.title} ${d.text}`)).size);
    // the same metrics as the metric functions on query-role and document-role embeddings
    const q = await inner.encode(queries.map((x) => `q ${x}`));
    const c = await inner.encode(corpus.map((d) => `${d.title} ${d.text}`));
    const ids = corpus.map((_, i) => `d${i}`);
    const qids = queries.map((_, i) => `q${i}`);
    const qrels = Object.fromEntries(qids.map((id, i) => [id, { [`d${i}`]: 1, [`d${i + 4}`]: 1 }]));
    expect(r.scores.test![0]!.ndcg_at_10).toBe(retrievalMetrics(qrels, toRun(qids, exhaustiveSearch(q, c, { topK: 1000, corpusIds: ids, queryIds: qids }), ids)).scores.ndcg_at_10);
    // a text seen as a query and as a document is cached twice, once per role
    const text = 'acid base bond';
    const asQuery = await encodeTexts(roles, [text], { role: 'query', cache: EmbeddingCache.open(cacheDir, 'roles-v1') });
    const asDoc = await encodeTexts(roles, [text], { role: 'document', cache: EmbeddingCache.open(cacheDir, 'roles-v1') });
    expect(Array.from(asQuery.vectors[0]!)).not.toEqual(Array.from(asDoc.vectors[0]!));
    const again = await encodeTexts(roles, [text], { role: 'query', cache: EmbeddingCache.open(cacheDir, 'roles-v1') });
    expect(again.stats.fromCache).toBe(1);
    expect(Array.from(again.vectors[0]!)).toEqual(Array.from(asQuery.vectors[0]!));
    // reranking: the query as a query, candidates as documents; STS: no role
    seen.length = 0;
    await evaluateTask(roles, byName.ToyReranking!, { datasetsRoot: root });
    expect(new Set(seen.map((s) => s.role))).toEqual(new Set(['query', 'document']));
    seen.length = 0;
    await evaluateTask(roles, byName.ToySTS!, { datasetsRoot: root });
    expect(new Set(seen.map((s) => s.role))).toEqual(new Set(['none']));
    // a symmetric encoder is never given a role
    const plain = toyEncoder('plain');
    const args: unknown[] = [];
    const sym: Encoder = { name: 'plain', fingerprint: 'plain-v1', encode: (...a: Parameters<Encoder['encode']>) => { args.push(a[1]); return plain.encode(a[0]); } };
    await evaluateTask(sym, byName.ToyRetrieval!, { datasetsRoot: root });
    expect(args.every((a) => a === undefined)).toBe(true);
  });

  it('re-running after an interruption re-encodes nothing already done, and leaves no partial results file', async () => {
    const { root, tasks } = makeRoot();
    const out = path.join(root, 'results');
    const cacheDir = path.join(root, 'cache');
    const inner = toyEncoder('flaky');
    let budget = 2; // the encoder dies on its third call
    const flaky: Encoder = { name: 'flaky', fingerprint: 'flaky-v1', encode: (t) => (budget-- > 0 ? inner.encode(t) : Promise.reject(new Error('killed'))) };
    const clsTask = tasks[1]!;
    await expect(evaluateTask(flaky, clsTask, { datasetsRoot: root, outputDir: out, cacheDir, batchSize: 4 })).rejects.toThrow('killed');
    expect(fs.existsSync(resultFilePath(out, 'flaky', 'flaky-v1', clsTask.name))).toBe(false);
    const resultsDir = path.dirname(resultFilePath(out, 'flaky', 'flaky-v1', 'x'));
    expect(fs.existsSync(resultsDir) ? fs.readdirSync(resultsDir).filter((n) => n.endsWith('.tmp')) : []).toEqual([]);
    const doneBefore = inner.texts; // 8 texts made it into the cache
    expect(doneBefore).toBe(8);
    const resumed = toyEncoder('flaky');
    const again: Encoder = { name: 'flaky', fingerprint: 'flaky-v1', encode: (t) => resumed.encode(t) };
    const r = await evaluateTask(again, clsTask, { datasetsRoot: root, outputDir: out, cacheDir, batchSize: 4 });
    expect(r.scores.test).toHaveLength(1);
    const cache = EmbeddingCache.open(cacheDir, 'flaky-v1');
    // every text encoded exactly once across both runs
    expect(resumed.texts + doneBefore).toBe(cache.size);
    // a third run encodes nothing at all, and a suite run reuses the results file
    const third = toyEncoder('flaky');
    await evaluateTask({ name: 'flaky', fingerprint: 'flaky-v1', encode: (t) => third.encode(t) }, clsTask, { datasetsRoot: root, cacheDir });
    expect(third.calls).toBe(0);
    const events: string[] = [];
    await evaluateSuite({ name: 'flaky', fingerprint: 'flaky-v1', encode: (t) => third.encode(t) }, [clsTask], { datasetsRoot: root, outputDir: out, cacheDir, onProgress: (e) => events.push(e.stage) });
    expect(events).toEqual(['skipped']);
  });

  it('the cache is keyed by fingerprint: another fingerprint re-encodes; duplicates are encoded once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-cache-'));
    const a = toyEncoder('a');
    const cache = EmbeddingCache.open(dir, a.fingerprint);
    const r1 = await encodeTexts(a, ['x y', 'x y', 'z'], { cache });
    expect(r1.stats).toEqual({ requested: 3, unique: 2, fromCache: 0, encoded: 2 });
    expect(Array.from(r1.vectors[0]!)).toEqual(Array.from(r1.vectors[1]!));
    const reopened = EmbeddingCache.open(dir, a.fingerprint);
    expect(Array.from(reopened.get('z')!)).toEqual(Array.from(r1.vectors[2]!));
    const b = toyEncoder('b');
    const r2 = await encodeTexts(b, ['z'], { cache: EmbeddingCache.open(dir, b.fingerprint) });
    expect(r2.stats.encoded).toBe(1);
  });

  it('an encoder returning the wrong number of embeddings is an error', async () => {
    const bad: Encoder = { name: 'bad', fingerprint: 'bad', encode: () => Promise.resolve([new Float32Array(3)]) };
    await expect(encodeTexts(bad, ['a', 'b'])).rejects.toThrow(/returned 1 embeddings for 2 texts/);
  });

  it('a task whose metric is not a score of its type fails clearly and writes nothing', async () => {
    const { root, tasks } = makeRoot();
    const out = path.join(root, 'results');
    const t = { ...tasks[3]!, metric: 'ndcg_at_10' };
    await expect(evaluateTask(toyEncoder(), t, { datasetsRoot: root, outputDir: out })).rejects.toThrow(/metric "ndcg_at_10" is not a score of sts tasks/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
