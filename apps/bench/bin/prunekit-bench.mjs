#!/usr/bin/env node
// The `prunekit-bench` command. A committed launcher (not dist/main.js itself) so that npm links the
// command at install time, before anything is built; it runs the built program.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!fs.existsSync(fileURLToPath(main))) {
  process.stderr.write('prunekit-bench: not built yet; run `npm start` (or `npx nx run @prunekit/bench:build`) first\n');
  process.exit(1);
}
await import(main.href);
