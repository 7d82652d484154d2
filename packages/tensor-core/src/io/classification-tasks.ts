// The labelled classification tasks of the shared datasets, one table for every package that trains
// on them (mask-smp's label-word head, gates-finegates' classifier): where each split lives, the
// input form, the label values in class order, and the main metric. GLUE's test labels are hidden,
// so GLUE dev is the evaluation split except where the shared copy has a labelled test split.
// Metrics follow the papers' code: accuracy for SST-2, MRPC and RTE (kongds/SMP run.sh), Matthews
// correlation for CoLA.

export type ClassificationMetric = 'accuracy' | 'mcc';

export interface ClassificationTask {
  /** folder name under the datasets root */
  name: string;
  /** 'single': {text, label}; 'pair': {sentence1, sentence2, label} */
  input: 'single' | 'pair';
  /** label values as they appear in the jsonl (compared as strings), in class order; null: read from the data */
  labels: string[] | null;
  trainFile: string;
  /** the labelled split used for evaluation */
  evalFile: string;
  metric: ClassificationMetric;
}

export const CLASSIFICATION_TASKS: Readonly<Record<string, ClassificationTask>> = {
  glue_sst2: { name: 'glue_sst2', input: 'single', labels: ['0', '1'], trainFile: 'train.jsonl', evalFile: 'dev.jsonl', metric: 'accuracy' },
  glue_cola: { name: 'glue_cola', input: 'single', labels: ['0', '1'], trainFile: 'train.jsonl', evalFile: 'dev.jsonl', metric: 'mcc' },
  glue_mrpc: { name: 'glue_mrpc', input: 'pair', labels: ['0', '1'], trainFile: 'train.jsonl', evalFile: 'test.jsonl', metric: 'accuracy' },
  // 1 = entailment, 0 = not_entailment in ../shared/datasets/glue_rte
  glue_rte: { name: 'glue_rte', input: 'pair', labels: ['0', '1'], trainFile: 'train.jsonl', evalFile: 'dev.jsonl', metric: 'accuracy' },
  financial_phrasebank: { name: 'financial_phrasebank', input: 'single', labels: ['negative', 'neutral', 'positive'], trainFile: 'train.jsonl', evalFile: 'test.jsonl', metric: 'accuracy' },
  banking77: { name: 'banking77', input: 'single', labels: null, trainFile: 'train.jsonl', evalFile: 'test.jsonl', metric: 'accuracy' },
};
