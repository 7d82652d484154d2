#!/usr/bin/env node
// SMP settings chosen on a dev split carved from the training data (never on the reported
// evaluation split): runs SMP-L (or another method) for each λ setting and length on
// `evalSplit: 'train-holdout'` (872 training examples held out by a permutation seeded
// "dev-holdout:0"; training samples from the rest) and prints a Markdown table. Not a test.
//
//   npx nx run @prunekit/mask-smp:build && node tools/bench/smp-dev-sweep.mjs \
//     [--model ../shared/models/mini-mlm] [--task glue_sst2] [--keeps 0.8,0.1] [--steps 200,400] \
//     [--lambdas per-score:400,per-score:2700,paper:400] [--method smp-l] [--out /tmp/smp-dev-sweep]
//
// Each run is an ordinary runSmp output folder under --out; a rerun reuses finished ones.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '@prunekit/tensor-core';
import { runSmp } from '@prunekit/mask-smp';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: '../shared/models/mini-mlm' },
    datasets: { type: 'string', default: '../shared/datasets' },
    task: { type: 'string', default: 'glue_sst2' },
    method: { type: 'string', default: 'smp-l' },
    keeps: { type: 'string', default: '0.8,0.1' },
    steps: { type: 'string', default: '200' },
    lambdas: { type: 'string', default: 'per-score:400,per-score:2700,paper:400' },
    'batch-size': { type: 'string', default: '16' },
    'max-train': { type: 'string', default: '4000' },
    'max-length': { type: 'string', default: '64' },
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: '/tmp/smp-dev-sweep' },
  },
});
await initBackend();
const rows = [];
for (const steps of a.steps.split(',').map(Number)) {
  for (const keep of a.keeps.split(',').map(Number)) {
    for (const spec of a.lambdas.split(',')) {
      const [lambdaScale, lam] = spec.split(':');
      const out = path.join(a.out, `${a.method}-keep${keep}-${lambdaScale}-${lam}-steps${steps}-seed${a.seed}`);
      const metrics = path.join(out, 'metrics.json');
      if (!fs.existsSync(metrics)) {
        process.stderr.write(`${path.basename(out)} …\n`);
        await runSmp({
          model: a.model, datasets: a.datasets, task: a.task, out, method: a.method, keep, steps, seed: Number(a.seed),
          batchSize: Number(a['batch-size']), maxTrain: Number(a['max-train']), maxLength: Number(a['max-length']), maxEval: 872,
          evalSplit: 'train-holdout', head: 'first', lambdaR: Number(lam), lambdaScale, weightLr: 1e-4, checkpointEvery: 50,
        });
      }
      const m = JSON.parse(fs.readFileSync(metrics, 'utf8'));
      rows.push({ steps, keep, lambda: `${lambdaScale} ${lam} (applied ${m.regulariserCheck?.lambdaEffective?.toFixed(1) ?? '-'})`, dev: m.final.main, below: m.regulariserCheck?.belowShare, seconds: m.seconds });
      process.stderr.write(`  dev ${(100 * m.final.main).toFixed(1)} in ${m.seconds.toFixed(0)} s\n`);
    }
  }
}
console.log(`| steps | keep | λ_R | dev ${a.task} (held out of train) | scores under the push | seconds |\n|---:|---:|---|---:|---:|---:|`);
for (const r of rows) console.log(`| ${r.steps} | ${r.keep} | ${r.lambda} | ${(100 * r.dev).toFixed(1)} | ${r.below === undefined ? '' : `${(100 * r.below).toFixed(1)}%`} | ${r.seconds.toFixed(0)} |`);
