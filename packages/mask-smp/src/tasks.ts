// Classification tasks with their label words and prompt templates.
//
// Label words: the pretrained MLM head scores each label by its word (logit h·e_word + bias, after
// the head's transform). Each label lists candidate words in order of preference; the first one
// that is a single token of the model's vocabulary is used (the paper's words first, e.g. SST-2's
// "terrible"/"great", then common substitutes), and the run's manifest records the words used.
// Words the user gives explicitly get no substitutes: a word missing from the vocabulary is an error.
//
// The 'first' head variant (the default; the paper and the authors' GLUE code, kongds/SMP) reads the
// label words at the first position ([CLS]) of the plain input. Templates (the 'prompt' variant, an
// LM-BFF-style option): the input is the template with {text} / {sentence1} / {sentence2} filled in
// and the label read at its [MASK].

import { CLASSIFICATION_TASKS } from '@prunekit/tensor-core';

export type Metric = 'accuracy' | 'mcc' | 'f1' | 'macro-f1';

export interface TaskSpec {
  /** registry name (also the folder name under the datasets root) */
  name: string;
  /** 'single': {text, label}; 'pair': {sentence1, sentence2, label} */
  input: 'single' | 'pair';
  /** label values as they appear in the jsonl (compared as strings), in class order */
  labels: string[];
  /** per label: candidate label words, first in-vocabulary single token wins */
  labelWords: string[][];
  /** prompt template with {text} or {sentence1}/{sentence2} and exactly one [MASK] */
  template: string;
  /** files under the task folder */
  trainFile: string;
  evalFile: string;
  /** main metric; the others are reported too */
  metric: Metric;
}

/** SMP's label words and templates per task; files, labels and metrics come from tensor-core's CLASSIFICATION_TASKS. */
const HEADS: Readonly<Record<string, Pick<TaskSpec, 'labelWords' | 'template'>>> = {
  // the authors' words (kongds/SMP run.sh LABEL_MAP) first, then substitutes for small vocabularies
  glue_sst2: { labelWords: [['terrible', 'bad'], ['great', 'good']], template: '{text} it was [MASK] .' },
  glue_cola: { labelWords: [['incorrect', 'wrong'], ['correct', 'right']], template: '{text} this is [MASK] .' },
  glue_mrpc: { labelWords: [['no'], ['yes']], template: '{sentence1} [MASK] , {sentence2}' },
  // label 0 = not_entailment → "no", 1 = entailment → "yes" (the authors map entailment to Yes)
  glue_rte: { labelWords: [['no'], ['yes']], template: '{sentence1} ? [MASK] , {sentence2}' },
  financial_phrasebank: { labelWords: [['terrible', 'bad'], ['okay', 'fine'], ['great', 'good']], template: '{text} it was [MASK] .' },
};

export const TASKS: Readonly<Record<string, TaskSpec>> = Object.fromEntries(Object.entries(HEADS).map(([name, head]) => {
  const t = CLASSIFICATION_TASKS[name]!;
  return [name, { name, input: t.input, labels: [...t.labels!], ...head, trainFile: t.trainFile, evalFile: t.evalFile, metric: t.metric }];
}));

/** The task named `name`, with optional overrides (label words, template). */
export function resolveTask(name: string, overrides: { labelWords?: string[] | undefined; template?: string | undefined } = {}): TaskSpec {
  const base = TASKS[name];
  if (!base) {
    const why = name === 'glue_stsb'
      ? 'glue_stsb is a regression task; SMP\'s label-word head is a classifier and is not provided for it (see the README)'
      : `unknown task "${name}"`;
    throw new Error(`${why}; the tasks are ${Object.keys(TASKS).join(', ')}`);
  }
  const task: TaskSpec = { ...base, labelWords: base.labelWords.map((w) => [...w]) };
  if (overrides.labelWords) {
    if (overrides.labelWords.length !== base.labels.length) {
      throw new Error(`task ${name} has ${base.labels.length} labels (${base.labels.join(', ')}) but ${overrides.labelWords.length} label words were given (${overrides.labelWords.join(', ')})`);
    }
    task.labelWords = overrides.labelWords.map((w) => [w]);
  }
  if (overrides.template !== undefined) task.template = overrides.template;
  checkTemplate(task);
  return task;
}

export function checkTemplate(task: TaskSpec): void {
  const masks = task.template.split('[MASK]').length - 1;
  if (masks !== 1) throw new Error(`template "${task.template}" must contain exactly one [MASK] (it has ${masks})`);
  const need = task.input === 'single' ? ['{text}'] : ['{sentence1}', '{sentence2}'];
  for (const f of need) if (!task.template.includes(f)) throw new Error(`template "${task.template}" for a ${task.input} task must contain ${f}`);
  const fields = task.template.match(/\{[^}]*\}/g) ?? [];
  for (const f of fields) if (!need.includes(f)) throw new Error(`template "${task.template}": unknown placeholder ${f} (a ${task.input} task has ${need.join(', ')})`);
}
