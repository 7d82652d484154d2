// Runs a package README's code examples as written: each ```ts / ```js block is saved, its types
// erased (TypeScript's transpileModule), as an .mjs file and run by node in a scratch folder laid out like the workspace root (node_modules, apps,
// packages and tools linked in, ../shared beside it), which is where the examples' relative paths
// point. Tests add the input files an example names (e.g. domain.jsonl) to the scratch folder.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { sharedDir, workspaceRoot } from './shared.js';

/** The ```ts and ```js blocks of a README, in order. */
export function readmeCodeBlocks(readme: string): string[] {
  const text = fs.readFileSync(readme, 'utf8');
  return [...text.matchAll(/^```(?:ts|js)\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** A scratch folder laid out like the workspace root; `files` are written into it. */
export function exampleWorkspace(files: Record<string, string> = {}): string {
  const outer = fs.mkdtempSync(path.join(os.tmpdir(), 'pk-readme-'));
  const root = path.join(outer, 'ws');
  fs.mkdirSync(root);
  for (const d of ['node_modules', 'apps', 'packages', 'tools']) fs.symlinkSync(path.join(workspaceRoot, d), path.join(root, d));
  if (fs.existsSync(sharedDir)) fs.symlinkSync(sharedDir, path.join(outer, 'shared'));
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(root, name), body);
  return root;
}

/** Runs one example in `cwd` with node (TypeScript's types erased first); returns its exit status and output. */
export function runExample(code: string, cwd: string, timeoutMs = 240_000): { status: number | null; stdout: string; stderr: string } {
  const file = path.join(cwd, `example-${fs.readdirSync(cwd).length}.mjs`);
  fs.writeFileSync(file, ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
  // no colours: under nx (FORCE_COLOR) console.log would wrap printed numbers in ANSI escapes
  const r = spawnSync(process.execPath, [file], { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', FORCE_COLOR: '0', NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
