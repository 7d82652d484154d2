// A tiny masked-LM task for tests: the random 2-layer BertForMaskedLM fixture
// (tools/fixtures/data/models/bert-mlm, vocab 128) with a WordPiece vocabulary written here, and a
// sentiment-like data set in the shared datasets' layout (glue_sst2 / glue_rte file names).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tokenizer, createRng } from '@prunekit/tensor-core';
import { encodeExamples, loadExamples, resolveLabelWords } from '../data.js';
import { resolveTask } from '../tasks.js';
import type { TrainData } from '../train.js';
import { workspaceRoot } from '../../../../tools/test-support/shared.js';

export const FIXTURE_MODEL = path.join(workspaceRoot, 'tools', 'fixtures', 'data', 'models', 'bert-mlm');

const POS = ['good', 'great', 'fine', 'nice', 'happy', 'love', 'best', 'fun'];
const NEG = ['bad', 'awful', 'poor', 'sad', 'hate', 'worst', 'dull', 'ugly'];
const FILLER = ['the', 'a', 'movie', 'film', 'was', 'is', 'it', 'this', 'very', 'and', 'plot', 'story', 'actor', 'scene', 'really', 'quite', 'so', 'too', 'not', 'but', 'of', 'in', 'to', 'on', 'yes', 'no', 'correct', 'incorrect', 'okay'];

export interface TinySetup {
  root: string;
  model: string;
  datasets: string;
  cleanup: () => void;
}

function sentences(rng: ReturnType<typeof createRng>, n: number): { text: string; label: string }[] {
  const out: { text: string; label: string }[] = [];
  for (let i = 0; i < n; i++) {
    const label = rng.int(2);
    const words: string[] = [];
    const len = 3 + rng.int(6);
    for (let j = 0; j < len; j++) words.push(FILLER[rng.int(FILLER.length)]!);
    const sw = label ? POS : NEG;
    words.splice(rng.int(words.length + 1), 0, sw[rng.int(sw.length)]!);
    out.push({ text: words.join(' '), label: String(label) });
  }
  return out;
}

/** Writes the model folder (fixture weights + vocab.txt) and glue_sst2 / glue_rte data into a temp folder. */
export function tinySetup(): TinySetup {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-smp-'));
  const model = path.join(root, 'model');
  fs.mkdirSync(model);
  for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(FIXTURE_MODEL, f), path.join(model, f));
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.', ',', '?', ...POS, ...NEG, ...FILLER, 'terrible'];
  for (let i = 0; vocab.length < 128; i++) vocab.push(`##${String.fromCharCode(97 + (i % 26))}${i >= 26 ? String(Math.floor(i / 26)) : ''}`);
  fs.writeFileSync(path.join(model, 'vocab.txt'), `${vocab.join('\n')}\n`);
  fs.writeFileSync(path.join(model, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 64 }));
  const datasets = path.join(root, 'datasets');
  const rng = createRng('tiny-data');
  const write = (task: string, file: string, rows: unknown[]): void => {
    fs.mkdirSync(path.join(datasets, task), { recursive: true });
    fs.writeFileSync(path.join(datasets, task, file), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  };
  write('glue_sst2', 'train.jsonl', sentences(rng, 96));
  write('glue_sst2', 'dev.jsonl', sentences(rng, 40));
  const pairs = (n: number): unknown[] => sentences(rng, n).map((s, i) => ({ sentence1: s.text, sentence2: `the story was ${i % 2 ? 'good' : 'bad'}`, label: Number(s.label) }));
  write('glue_rte', 'train.jsonl', pairs(40));
  write('glue_rte', 'dev.jsonl', pairs(20));
  return { root, model, datasets, cleanup: () => {
    fs.rmSync(root, { recursive: true, force: true });
  } };
}

/** The tiny glue_sst2 train and dev sets, encoded for the [CLS] label-word head (first variant, ≤ 32 tokens). */
export async function tinySst2Data(tiny: TinySetup): Promise<TrainData> {
  const task = resolveTask('glue_sst2');
  const tok = await Tokenizer.fromPretrained(tiny.model);
  const lw = await resolveLabelWords(tok, task);
  const enc = async (f: string) => encodeExamples(tok, task, await loadExamples(path.join(tiny.datasets, 'glue_sst2', f), task), { variant: 'first', maxLength: 32 });
  return { train: await enc('train.jsonl'), eval: await enc('dev.jsonl'), numClasses: 2, labelIds: lw.ids, metric: 'accuracy' };
}
