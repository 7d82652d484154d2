// Data for the gaprune suites: domain and general (query, positive, negative) triplets built from the
// shared datasets, never from a split that the suites evaluate. Every subsample is a seeded shuffle,
// so two runs with the same sizes and seed produce identical triplets (the files under <out>/data
// record them).
//   finance domain: TAT-QA retrieval dev qrels (BM25 negatives) + same-intent pairs of Banking77 train
//                   (negative: the best BM25 match with another intent);
//   general:        STS-B train pairs scored ≥ 4, MRPC train paraphrases, RTE train entailments
//                   (label 1), each with a BM25 negative among the other pairs of its source;
//   chemistry:      ChemLit-QA has test qrels only: its queries are split in two halves by a seeded
//                   shuffle; one half gives triplets, the other is the evaluated task (a derived BEIR
//                   folder); plus same-relation pairs of ChemProt train.
import fs from 'node:fs';
import path from 'node:path';
import { readJsonl, readQrelsRows, stringField, validateTask, writeFileAtomic, writeQrels, type TaskDefinition } from '@prunekit/benchmarks-mteb';
import { Bm25Index, readBeir, tripletsFromPairs, tripletsFromRetrieval, type RetrievalData, type Triplet } from '@prunekit/scoring-fisher';
import { createRng, type Seed } from '@prunekit/tensor-core';

export interface TripletSet {
  triplets: Triplet[];
  /** source → triplets taken from it */
  counts: Record<string, number>;
  /** source → triplets (or pairs) it could have given */
  available: Record<string, number>;
}

/** A seeded subsample of at most n items (a shuffle, then the first n); the input is not changed. */
export function seededSample<T>(items: readonly T[], n: number, seed: Seed, label: string): T[] {
  const shuffled = createRng(seed).fork(`sample:${label}`).shuffle([...items]);
  return n >= shuffled.length ? shuffled : shuffled.slice(0, n);
}

/** Shares of a total over sources with the given availability: as equal as possible, capped. */
export function splitBudget(total: number, available: readonly number[]): number[] {
  const take = available.map(() => 0);
  let left = total;
  let open = available.map((_, i) => i).filter((i) => available[i]! > 0);
  while (left > 0 && open.length > 0) {
    const each = Math.max(1, Math.floor(left / open.length));
    for (const i of open) {
      const add = Math.min(each, available[i]! - take[i]!, left);
      take[i]! += add;
      left -= add;
      if (left === 0) break;
    }
    open = open.filter((i) => take[i]! < available[i]!);
  }
  return take;
}

function rows(file: string): Record<string, unknown>[] {
  return readJsonl(file).map((r) => r.row);
}

function text(row: Record<string, unknown>, field: string, file: string): string {
  const v = row[field];
  if (typeof v !== 'string') throw new Error(`${file}: field "${field}" is not a string in a row`);
  return v;
}

/** (a, b) pairs of a pair / sts file whose rows pass `keep`. */
export function readPairs(file: string, keep: (row: Record<string, unknown>) => boolean): { a: string; b: string }[] {
  return rows(file).filter(keep).map((r) => ({ a: text(r, 'sentence1', file), b: text(r, 'sentence2', file) }));
}

/**
 * Triplets from labelled texts: pairs of texts with the same label (a seeded shuffle within each
 * label, then consecutive texts), at most `limit` of them (seeded), with a negative: the best BM25
 * match for the first text among texts of another label.
 */
export function sameLabelTriplets(items: readonly { text: string; label: string }[], options: { limit: number; seed: Seed; label: string }): { triplets: Triplet[]; available: number } {
  const rng = createRng(options.seed).fork(`same-label:${options.label}`);
  const byLabel = new Map<string, string[]>();
  for (const it of items) byLabel.set(it.label, [...(byLabel.get(it.label) ?? []), it.text]);
  const pairs: { a: string; b: string; label: string }[] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const texts = rng.fork(label).shuffle([...byLabel.get(label)!]);
    for (let i = 0; i + 1 < texts.length; i += 2) if (texts[i] !== texts[i + 1]) pairs.push({ a: texts[i]!, b: texts[i + 1]!, label });
  }
  const chosen = seededSample(pairs, options.limit, options.seed, `pairs:${options.label}`);
  const index = new Bm25Index(items.map((i) => i.text));
  const triplets = chosen.map((p) => {
    const neg = index.topK(p.a, 50).map((k) => items[k]!).find((it) => it.label !== p.label);
    return neg ? { query: p.a, positive: p.b, negative: neg.text } : { query: p.a, positive: p.b };
  });
  return { triplets, available: pairs.length };
}

function labelled(file: string): { text: string; label: string }[] {
  return rows(file).map((r) => ({ text: text(r, 'text', file), label: String(r.label) }));
}

/** (query, relevant document) pairs of a retrieval split whose query and document exist. */
function qrelPairs(data: RetrievalData): number {
  return [...data.qrels].filter(([q]) => data.queries.has(q)).reduce((a, [, docs]) => a + docs.filter((d) => data.corpus.has(d)).length, 0);
}

/** Keeps only the queries in `ids` (and their qrels). */
function restrictQueries(data: RetrievalData, ids: ReadonlySet<string>): RetrievalData {
  return {
    corpus: data.corpus,
    queries: new Map([...data.queries].filter(([q]) => ids.has(q))),
    qrels: new Map([...data.qrels].filter(([q]) => ids.has(q))),
  };
}

function combine(parts: { name: string; triplets: Triplet[]; available: number }[], seed: Seed, label: string): TripletSet {
  const all = parts.flatMap((p) => p.triplets);
  return {
    triplets: createRng(seed).fork(`mix:${label}`).shuffle(all),
    counts: Object.fromEntries(parts.map((p) => [p.name, p.triplets.length])),
    available: Object.fromEntries(parts.map((p) => [p.name, p.available])),
  };
}

export interface DomainSizes {
  /** triplets in the set */
  size: number;
  /** share of the set from labelled same-label pairs (Banking77 / ChemProt train); 0 = none */
  pairShare: number;
  seed: Seed;
}

/** Finance domain triplets: TAT-QA dev qrels (never test) plus Banking77 train same-intent pairs. */
export async function financeDomainTriplets(dataRoot: string, sizes: DomainSizes): Promise<TripletSet> {
  const tatqa = await readBeir(path.join(dataRoot, 'tatqa_retrieval'), 'dev');
  const bankingFile = path.join(dataRoot, 'banking77', 'train.jsonl');
  const wantPairs = Math.round(sizes.size * sizes.pairShare);
  const banking = wantPairs > 0 ? sameLabelTriplets(labelled(bankingFile), { limit: wantPairs, seed: sizes.seed, label: 'banking77' }) : { triplets: [], available: 0 };
  const wantTatqa = sizes.size - banking.triplets.length;
  const retrieval = await tripletsFromRetrieval(tatqa, { negatives: 'bm25', seed: sizes.seed, limit: wantTatqa });
  return combine([{ name: 'tatqa_retrieval dev', triplets: retrieval, available: qrelPairs(tatqa) }, { name: 'banking77 train (same-intent pairs)', triplets: banking.triplets, available: banking.available }], sizes.seed, 'finance');
}

/** General triplets: STS-B train (score ≥ 4), MRPC train paraphrases, RTE train entailments, in equal shares. */
export function generalTriplets(dataRoot: string, options: { size: number; seed: Seed }): TripletSet {
  const isOne = (r: Record<string, unknown>): boolean => Number(r.label) === 1;
  const sources = [
    { name: 'glue_stsb train (score ≥ 4)', pairs: readPairs(path.join(dataRoot, 'glue_stsb', 'train.jsonl'), (r) => Number(r.score) >= 4) },
    { name: 'glue_mrpc train (paraphrases)', pairs: readPairs(path.join(dataRoot, 'glue_mrpc', 'train.jsonl'), isOne) },
    { name: 'glue_rte train (entailments)', pairs: readPairs(path.join(dataRoot, 'glue_rte', 'train.jsonl'), isOne) },
  ];
  const shares = splitBudget(options.size, sources.map((s) => s.pairs.length));
  return combine(sources.map((s, i) => ({
    name: s.name,
    // negatives are mined among the source's own pairs before subsampling, so they stay hard
    triplets: seededSample(tripletsFromPairs(s.pairs, { negatives: 'bm25', seed: options.seed }), shares[i]!, options.seed, s.name),
    available: s.pairs.length,
  })), options.seed, 'general');
}

export interface ChemistrySplit {
  /** query ids whose qrels give triplets */
  tripletQueries: string[];
  /** query ids of the evaluated half */
  evalQueries: string[];
  /** the evaluated half as a task (data: the derived BEIR folder) */
  task: TaskDefinition;
}

/** Name of the evaluated half of ChemLit-QA (a distinct name: its scores are not the full task's). */
export const CHEMLIT_EVAL_TASK = 'ChemLitQARetrieval-evalhalf';

/**
 * Splits ChemLit-QA's queries (test qrels only) in two by a seeded shuffle of the sorted query ids:
 * the first half gives triplets, the second is written as a BEIR folder (whole corpus, its queries
 * and qrels as qrels/test.tsv) under `dir` and returned as a task definition.
 */
export function splitChemlit(dataRoot: string, dir: string, seed: Seed): ChemistrySplit {
  const src = path.join(dataRoot, 'chemlit_qa_retrieval');
  const qrels = readQrelsRows(path.join(src, 'qrels', 'test.tsv'));
  const ids = [...new Set(qrels.map((r) => r.query))].sort();
  const order = createRng(seed).fork('chemlit-split').shuffle([...ids]);
  const half = Math.floor(order.length / 2);
  const tripletQueries = order.slice(0, half).sort();
  const evalQueries = order.slice(half).sort();
  const evalSet = new Set(evalQueries);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'qrels'), { recursive: true });
  fs.copyFileSync(path.join(src, 'corpus.jsonl'), path.join(dir, 'corpus.jsonl'));
  const queriesFile = path.join(src, 'queries.jsonl');
  const queries = readJsonl(queriesFile).filter(({ line, row }) => evalSet.has(stringField(queriesFile, line, row, '_id', { allowNumber: true })));
  writeFileAtomic(path.join(dir, 'queries.jsonl'), queries.map(({ row }) => `${JSON.stringify(row)}\n`).join(''));
  writeQrels(path.join(dir, 'qrels', 'test.tsv'), qrels.filter((r) => evalSet.has(r.query)));
  const task = validateTask({
    name: CHEMLIT_EVAL_TASK,
    type: 'retrieval',
    domain: 'chemistry',
    description: `ChemLit-QA retrieval on the evaluated half of its queries (${evalQueries.length} of ${ids.length}; the other half gave pruning triplets).`,
    data: path.resolve(dir),
    splits: ['test'],
  }, `gaprune:${CHEMLIT_EVAL_TASK}`);
  return { tripletQueries, evalQueries, task };
}

/** Chemistry domain triplets: the triplet half of ChemLit-QA plus as many ChemProt train same-relation pairs (at most). */
export async function chemistryDomainTriplets(dataRoot: string, split: ChemistrySplit, sizes: DomainSizes): Promise<TripletSet> {
  const chemlit = restrictQueries(await readBeir(path.join(dataRoot, 'chemlit_qa_retrieval'), 'test'), new Set(split.tripletQueries));
  const retrieval = await tripletsFromRetrieval(chemlit, { negatives: 'bm25', seed: sizes.seed, limit: sizes.size });
  // ChemProt pairs share a relation label, not a meaning: at most as many as ChemLit triplets, so the
  // retrieval half keeps at least half of the (small) pool
  const wantPairs = sizes.pairShare > 0 ? Math.min(Math.max(0, sizes.size - retrieval.length), retrieval.length) : 0;
  const chemprot = wantPairs > 0 ? sameLabelTriplets(labelled(path.join(dataRoot, 'chemprot', 'train.jsonl')), { limit: wantPairs, seed: sizes.seed, label: 'chemprot' }) : { triplets: [], available: 0 };
  const keepRetrieval = retrieval.slice(0, Math.max(0, sizes.size - chemprot.triplets.length));
  return combine([{ name: 'chemlit_qa_retrieval (triplet half of test queries)', triplets: keepRetrieval, available: qrelPairs(chemlit) }, { name: 'chemprot train (same-relation pairs)', triplets: chemprot.triplets, available: chemprot.available }], sizes.seed, 'chemistry');
}

/** Writes triplets as jsonl (one {query, positive, negative?} per line). */
export function writeTriplets(file: string, triplets: readonly Triplet[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, triplets.map((t) => JSON.stringify(t)).join('\n') + (triplets.length ? '\n' : ''));
}

/** "1200 (tatqa_retrieval dev 900 of 1668, banking77 ... 300 of 5000)". */
export function describeSet(set: TripletSet): string {
  return `${set.triplets.length} (${Object.entries(set.counts).map(([k, n]) => `${k}: ${n} of ${set.available[k]}`).join('; ')})`;
}

/**
 * A retrieval task on a smaller corpus: every document relevant to a query of the evaluated splits is
 * kept, the others are a seeded sample, up to `maxDocs` documents in all; queries and qrels are
 * unchanged. Written as a BEIR folder under `dir`; the task gets a distinct name (`<Task>-sub<maxDocs>`)
 * so its scores never mix with the full task's. Returns the task unchanged when the corpus is small enough.
 */
export function subsampleRetrievalTask(task: TaskDefinition, dataRoot: string, dir: string, maxDocs: number, seed: Seed): { task: TaskDefinition; note?: string } {
  const src = path.isAbsolute(task.data) ? task.data : path.join(dataRoot, task.data);
  const corpusFile = path.join(src, 'corpus.jsonl');
  const corpus = readJsonl(corpusFile);
  if (corpus.length <= maxDocs) return { task };
  const relevant = new Set<string>();
  for (const split of task.splits) for (const r of readQrelsRows(path.join(src, 'qrels', `${split}.tsv`))) if (r.score > 0) relevant.add(r.doc);
  const ids = corpus.map(({ line, row }) => stringField(corpusFile, line, row, '_id', { allowNumber: true }));
  const others = ids.map((id, i) => ({ id, i })).filter((x) => !relevant.has(x.id));
  const keep = new Set([...ids.keys()].filter((i) => relevant.has(ids[i]!)));
  for (const x of seededSample(others, Math.max(0, maxDocs - keep.size), seed, `corpus:${task.name}`)) keep.add(x.i);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'qrels'), { recursive: true });
  writeFileAtomic(path.join(dir, 'corpus.jsonl'), corpus.filter((_, i) => keep.has(i)).map(({ row }) => `${JSON.stringify(row)}\n`).join(''));
  fs.copyFileSync(path.join(src, 'queries.jsonl'), path.join(dir, 'queries.jsonl'));
  for (const split of task.splits) fs.copyFileSync(path.join(src, 'qrels', `${split}.tsv`), path.join(dir, 'qrels', `${split}.tsv`));
  const name = `${task.name}-sub${maxDocs}`;
  const { source, ...def } = task;
  const sub = validateTask({ ...def, name, description: `${task.description ?? task.name} Corpus subsampled to ${keep.size} of ${ids.length} documents (all ${relevant.size} relevant ones kept, the rest a seeded sample).`, data: path.resolve(dir) }, `${source ?? task.name} (subsampled)`);
  return { task: sub, note: `subsampled: ${name} searches ${keep.size} of ${ids.length} ${task.name} documents (all ${relevant.size} relevant to its ${task.splits.join('/')} queries kept, the other ${keep.size - relevant.size} a seeded sample, seed ${String(seed)}), so its nDCG@10 is higher than the full task's; every model sees the same corpus.` };
}
