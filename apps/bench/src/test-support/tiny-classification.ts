// Fixtures for miniature runs of the smp and finegates suites: the random 2-layer BERT models of
// tools/fixtures/data/models (hidden 32, vocab 128) made into model folders with a WordPiece
// vocabulary written here, and a datasets root in ../shared/datasets' layout (glue_sst2: train.jsonl
// and dev.jsonl of {text, label 0/1}; financial_phrasebank: train.jsonl and test.jsonl of
// {text, label negative/neutral/positive}) whose labels follow from sentiment words.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { workspaceRoot } from '../../../../tools/test-support/shared.js';

export const FIXTURE_MODELS = path.join(workspaceRoot, 'tools', 'fixtures', 'data', 'models');

const POSITIVE = ['great', 'good', 'lovely', 'superb', 'bright', 'strong'];
const NEGATIVE = ['terrible', 'bad', 'awful', 'weak', 'grim', 'poor'];
const NEUTRAL = ['okay', 'fine', 'usual', 'flat', 'steady', 'plain'];
const OTHER = ['the', 'a', 'film', 'show', 'plot', 'cast', 'it', 'was', 'is', 'this', 'very', 'and', 'quarter', 'sales', 'profit', 'company', 'year', 'results', 'were', 'of', 'in', 'so', 'quite', 'yes', 'no', 'correct', 'incorrect'];

/** 128 tokens: specials, punctuation, the words above, then filler pieces. */
function vocabulary(): string[] {
  const v = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.', ',', '?', ...POSITIVE, ...NEGATIVE, ...NEUTRAL, ...OTHER];
  for (let i = 0; v.length < 128; i++) v.push(`##p${i}`);
  if (v.length !== 128) throw new Error(`vocabulary has ${v.length} tokens, the fixtures 128`);
  return v;
}

/**
 * A model folder under `root` named `name`: the weights and config of tools/fixtures/data/models/<fixture>
 * with vocab.txt and a BertTokenizer tokenizer_config.json.
 */
export function fixtureModelFolder(root: string, name: string, fixture: 'bert-mlm' | 'bert-base'): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors']) fs.copyFileSync(path.join(FIXTURE_MODELS, fixture, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'vocab.txt'), `${vocabulary().join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 64 }));
  return dir;
}

/** Deterministic pseudo-random integers in [0, n) (a linear congruential generator). */
function counter(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

function sentence(pick: (n: number) => number, word: string): string {
  const words = Array.from({ length: 3 + pick(4) }, () => OTHER[pick(OTHER.length)]!);
  words.splice(pick(words.length + 1), 0, word);
  return words.join(' ');
}

function writeJsonl(file: string, rows: readonly unknown[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/** Row counts the datasets root holds. */
export const DATA_SIZES = { sst2: { train: 48, dev: 24 }, phrasebank: { train: 36, test: 18 } } as const;

/** Writes glue_sst2 and financial_phrasebank under `root` (the datasets root). */
export function writeTinyDatasets(root: string): string {
  const pick = counter(7);
  const sst2 = (n: number): { text: string; label: number }[] => Array.from({ length: n }, (_, i) => {
    const label = i % 2;
    const words = label ? POSITIVE : NEGATIVE;
    return { text: sentence(pick, words[pick(words.length)]!), label };
  });
  writeJsonl(path.join(root, 'glue_sst2', 'train.jsonl'), sst2(DATA_SIZES.sst2.train));
  writeJsonl(path.join(root, 'glue_sst2', 'dev.jsonl'), sst2(DATA_SIZES.sst2.dev));
  const classes = [['negative', NEGATIVE], ['neutral', NEUTRAL], ['positive', POSITIVE]] as const;
  const phrasebank = (n: number): { text: string; label: string }[] => Array.from({ length: n }, (_, i) => {
    const [label, words] = classes[i % 3]!;
    return { text: sentence(pick, words[pick(words.length)]!), label };
  });
  writeJsonl(path.join(root, 'financial_phrasebank', 'train.jsonl'), phrasebank(DATA_SIZES.phrasebank.train));
  writeJsonl(path.join(root, 'financial_phrasebank', 'test.jsonl'), phrasebank(DATA_SIZES.phrasebank.test));
  return root;
}

/** A fresh temp folder for one test file. */
export function tempRoot(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Every file below `dir` with its modification time (ms), for "nothing was rewritten" checks. */
export function mtimes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.statSync(p).mtimeMs);
    }
  };
  walk(dir);
  return out;
}
