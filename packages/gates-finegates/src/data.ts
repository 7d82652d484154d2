// Classification data in the shared datasets' jsonl formats: {text, label} (label a string or number)
// or {sentence1, sentence2, label}. Tokenised once; batches pad to their longest row.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CLASSIFICATION_TASKS, createRng, type Tokenizer } from '@prunekit/tensor-core';

export interface TaskSpec {
  name: string;
  train: string;
  /** the labelled split used for evaluation */
  test: string;
  /** 'accuracy' for most; CoLA also reports Matthews correlation */
  metric: 'accuracy' | 'mcc';
}

/** The shared classification / pair-classification datasets: tensor-core's CLASSIFICATION_TASKS (one table for every package). */
export const TASKS: Readonly<Record<string, TaskSpec>> = Object.fromEntries(
  Object.values(CLASSIFICATION_TASKS).map((t) => [t.name, { name: t.name, train: t.trainFile, test: t.evalFile, metric: t.metric }]),
);

export interface Example {
  text: string;
  pair?: string;
  label: string;
}

/** Reads a jsonl split; errors name the file and line. */
export function readExamples(file: string): Example[] {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  const out: Example[] = [];
  fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    const label = r.label;
    if (typeof label !== 'string' && typeof label !== 'number') throw new Error(`${file}:${i + 1}: "label" must be a string or number`);
    if (typeof r.text === 'string') out.push({ text: r.text, label: String(label) });
    else if (typeof r.sentence1 === 'string' && typeof r.sentence2 === 'string') out.push({ text: r.sentence1, pair: r.sentence2, label: String(label) });
    else throw new Error(`${file}:${i + 1}: expected {"text", "label"} or {"sentence1", "sentence2", "label"}`);
  });
  if (out.length === 0) throw new Error(`${file}: no examples`);
  return out;
}

/** Label names in a fixed order: numeric labels numerically, others alphabetically. */
export function labelSet(examples: readonly Example[]): string[] {
  const set = [...new Set(examples.map((e) => e.label))];
  return set.every((l) => /^-?\d+$/.test(l)) ? set.sort((a, b) => Number(a) - Number(b)) : set.sort();
}

/** The first n of a seeded permutation (all when n ≥ length), in the permuted order. */
export function subsample<T>(items: readonly T[], n: number | undefined, seed: number | string): T[] {
  if (n === undefined || n >= items.length) return [...items];
  const perm = createRng(seed).fork('subsample').permutation(items.length);
  return Array.from(perm.subarray(0, n), (i) => items[i]!);
}

export interface TokenizedSet {
  ids: Int32Array[];
  typeIds: Int32Array[];
  labels: Int32Array;
  size: number;
}

export async function tokenize(tokenizer: Tokenizer, examples: readonly Example[], labels: readonly string[], maxLength: number): Promise<TokenizedSet> {
  const index = new Map(labels.map((l, i) => [l, i]));
  const ids: Int32Array[] = [];
  const typeIds: Int32Array[] = [];
  const y = new Int32Array(examples.length);
  for (let i = 0; i < examples.length; i++) {
    const e = examples[i]!;
    const enc = await tokenizer.encode(e.text, e.pair ?? null, { maxLength, truncation: true });
    ids.push(enc.ids);
    typeIds.push(enc.tokenTypeIds);
    const k = index.get(e.label);
    if (k === undefined) throw new Error(`label "${e.label}" is not among the training labels (${labels.slice(0, 10).join(', ')}${labels.length > 10 ? ', …' : ''})`);
    y[i] = k;
  }
  return { ids, typeIds, labels: y, size: examples.length };
}

export interface BatchTensors {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  tokenTypeIds: tf.Tensor2D;
  labels: Int32Array;
}

/** Rows `idx` of a set, padded (pad id, on the right unless told) to their longest; tensors the caller disposes. */
export function makeBatch(set: TokenizedSet, idx: ArrayLike<number>, padId: number, side: 'left' | 'right' = 'right'): BatchTensors {
  const n = idx.length;
  let len = 1;
  for (let i = 0; i < n; i++) len = Math.max(len, set.ids[idx[i]!]!.length);
  const ids = new Int32Array(n * len).fill(padId);
  const mask = new Int32Array(n * len);
  const types = new Int32Array(n * len);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = idx[i]!;
    const row = set.ids[k]!;
    const at = i * len + (side === 'left' ? len - row.length : 0);
    ids.set(row, at);
    types.set(set.typeIds[k]!, at);
    mask.fill(1, at, at + row.length);
    labels[i] = set.labels[k]!;
  }
  return { inputIds: tf.tensor2d(ids, [n, len], 'int32'), attentionMask: tf.tensor2d(mask, [n, len], 'int32'), tokenTypeIds: tf.tensor2d(types, [n, len], 'int32'), labels };
}

export function disposeBatch(b: BatchTensors): void {
  tf.dispose([b.inputIds, b.attentionMask, b.tokenTypeIds]);
}

export interface LoadedTask {
  spec: TaskSpec;
  labels: string[];
  train: Example[];
  test: Example[];
  /** how the data was reduced, for reports */
  note: string;
}

/** Loads a task from a datasets root, subsampling train/test with a fixed seed when they exceed the caps. */
export function loadTask(dataRoot: string, task: string | TaskSpec, options: { maxTrain?: number; maxTest?: number; seed?: number } = {}): LoadedTask {
  const spec = typeof task === 'string' ? TASKS[task] : task;
  if (!spec) throw new Error(`unknown task "${typeof task === 'string' ? task : task.name}" (known: ${Object.keys(TASKS).join(', ')})`);
  const dir = path.join(dataRoot, spec.name);
  const trainAll = readExamples(path.join(dir, spec.train));
  const testAll = readExamples(path.join(dir, spec.test));
  const labels = labelSet(trainAll);
  const seed = options.seed ?? 0;
  const train = subsample(trainAll, options.maxTrain, `${spec.name}/train/${seed}`);
  const test = subsample(testAll, options.maxTest, `${spec.name}/test/${seed}`);
  const part = (name: string, all: number, kept: number): string => (kept < all ? `${name} ${kept} of ${all} (seeded random subset, seed ${seed})` : `${name} all ${all}`);
  return { spec, labels, train, test, note: `${part(spec.train.replace('.jsonl', ''), trainAll.length, train.length)}; ${part(spec.test.replace('.jsonl', ''), testAll.length, test.length)}` };
}
