// The built-in tasks against the real datasets in ../shared/datasets (skipped when absent).
import { describe, expect, it } from 'vitest';
import { sharedPath } from '../../../tools/test-support/shared.js';
import { loadLabelledTexts, loadPairs, loadReranking, loadRetrieval, loadSts } from './data.js';
import { evaluateTask } from './evaluate.js';
import { TaskRegistry } from './tasks.js';
import { toyEncoder } from './test-support/toyEncoder.js';

const root = sharedPath('datasets');

describe('built-in tasks on ../shared/datasets', () => {
  const reg = TaskRegistry.builtin();
  it.skipIf(!root)('every built-in task loads all of its splits (and its train split) without errors', () => {
    for (const t of reg.listTasks()) {
      for (const split of t.splits) {
        if (t.type === 'retrieval') {
          const d = loadRetrieval(t, root!, split);
          expect(d.queryIds.length, t.name).toBeGreaterThan(0);
          expect(d.warnings, `${t.name} warnings`).toEqual([]);
        } else if (t.type === 'sts') expect(loadSts(t, root!, split).scores.length).toBeGreaterThan(0);
        else if (t.type === 'pair-classification') expect(new Set(loadPairs(t, root!, split).labels).size).toBe(2);
        else if (t.type === 'reranking') expect(loadReranking(t, root!, split).length).toBeGreaterThan(0);
        else {
          expect(loadLabelledTexts(t, root!, split).texts.length).toBeGreaterThan(0);
          if (t.type === 'classification') expect(new Set(loadLabelledTexts(t, root!, t.options.trainSplit).labels).size).toBeGreaterThan(1);
        }
      }
    }
  });
  it.skipIf(!root)('ChemLitQARetrieval and ChemLitClustering run end to end with a toy encoder', async () => {
    const enc = toyEncoder();
    const r = await evaluateTask(enc, reg.getTask('ChemLitQARetrieval'), { datasetsRoot: root!, batchSize: 512 });
    const s = r.scores.test![0]!;
    expect(s.evaluated_queries).toBe(211);
    // a bag-of-words hash retrieves far better than chance (1/823) on question → passage
    expect(s.ndcg_at_10).toBeGreaterThan(0.05);
    const c = await evaluateTask(enc, reg.getTask('ChemLitClustering'), { datasetsRoot: root! });
    expect(c.scores.test![0]!.v_measure).toBeGreaterThan(0);
  });
});
