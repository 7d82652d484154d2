// Run by trainer.test.ts in a child process (vitest with kill-child.config.ts), then killed with
// SIGKILL mid-run: trains the toy with a checkpoint every 3 steps, a pause per step so the kill lands
// between checkpoints, and a line per written checkpoint in $TOY_PROGRESS.
import fs from 'node:fs';
import { it } from 'vitest';
import { initBackend } from '../../backend.js';
import { train } from '../trainer.js';
import { toy } from './toy.js';

it('trains the toy until killed', async () => {
  await initBackend();
  const t = toy();
  const progress = process.env.TOY_PROGRESS!;
  const o = t.options({ checkpoint: { dir: process.env.TOY_DIR!, every: 3, fingerprint: 'toy', onWrite: (step) => { fs.appendFileSync(progress, `checkpoint ${step}\n`); } } });
  const load = o.loadBatch;
  await train({ ...o, loadBatch: async (rows, ctx) => {
    await new Promise((r) => setTimeout(r, 400));
    return load(rows, ctx);
  } });
  fs.appendFileSync(progress, 'finished\n');
});
