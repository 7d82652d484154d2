// `prunekit demo`: the main job on the bundled model and authored data, in a few seconds to minutes.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../util/context.js';
import { printJson } from '@prunekit/cli-support';
import { BUNDLED_MODEL, formatDemoTable, runDemo } from '../demo/run.js';

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('prune the bundled tiny-encoder to 50% with GAPrune for a finance domain and compare with dense, magnitude and random pruning')
    .option('--model <dir>', 'model folder', BUNDLED_MODEL)
    .option('--sparsity <s>', 'fraction of the prunable weights to remove', (v) => Number(v), 0.5)
    .option('--targets <t>', 'prunable matrices (mlp is GAPrune\'s default)', 'mlp')
    .option('--work-dir <dir>', 'where data, statistics and pruned models go (default: a temp folder)')
    .option('--json', 'print the table as JSON on stdout')
    .action(async (o: { model: string; sparsity: number; targets: string; workDir?: string; json?: boolean }) => {
      const workDir = o.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-demo-'));
      const t0 = performance.now();
      const rows = await runDemo({ model: o.model, workDir, sparsity: o.sparsity, targets: o.targets, log: (l) => { ctx.io.err(`${l}\n`); } });
      const seconds = (performance.now() - t0) / 1000;
      if (o.json) {
        printJson(ctx.io, { rows, seconds, workDir });
      } else {
        ctx.io.out(`\n${formatDemoTable(rows)}\n\n`);
        ctx.io.out(`finance = held-out questions about fictional companies' annual figures (the domain the model is pruned for); general = held-out paraphrase retrieval. ${seconds.toFixed(0)} s in all; outputs in ${workDir}\n`);
      }
    });
}
