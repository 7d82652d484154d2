// apps/cli/README.md documents every command and every flag that `--help` shows (the built-in
// method registry's flags on `prune` included): walked from the real command tree, so a new flag
// without a README line fails here.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program.js';

const README = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'README.md'), 'utf8');

interface Shown { command: string; flags: string[] }

function walk(cmd: Command, prefix: string[], out: Shown[]): void {
  for (const sub of cmd.commands) {
    const names = [...prefix, sub.name()];
    // hidden options are refused-with-a-hint knobs (e.g. prune --keep), not documented flags
    const flags = sub.options.filter((o) => !o.hidden && o.long !== undefined).map((o) => o.long!).filter((f) => f !== '--help');
    out.push({ command: names.join(' '), flags });
    walk(sub, names, out);
  }
}

describe('apps/cli/README.md', () => {
  const shown: Shown[] = [];
  walk(buildProgram(), [], shown);

  it('names every command', () => {
    expect(shown.length).toBeGreaterThan(8);
    const missing = shown.filter((c) => !README.includes(`prunekit ${c.command}`)).map((c) => c.command);
    expect(missing).toEqual([]);
  });

  it('mentions every flag of every command', () => {
    const missing = shown.flatMap((c) => c.flags.filter((f) => !new RegExp(`${f}(?![\\w-])`).test(README)).map((f) => `${c.command} ${f}`));
    expect(missing).toEqual([]);
  });
});
