// Tokeniser speed: @prunekit/tensor-core's Tokenizer vs Python HF (transformers 5 fast tokenizer)
// on the same 2000 real sentences from ../shared/datasets, on this machine.
// Run from the repository root: node tools/bench/tokenizer-speed.mjs [model folder]
// (needs ../shared and tools/.venv). Prints sentences/s for both and the ratio.
// The TypeScript sources are compiled first into node_modules/.cache (Node 20 cannot run .ts).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const shared = process.env.PRUNEKIT_SHARED_DIR ?? path.resolve(root, '..', 'shared');
const folder = process.argv[2] ?? path.join(shared, 'models', 'mini-encoder');

function sentences(n) {
  const out = [];
  const sources = [['glue_sst2/dev.jsonl', 'text'], ['financial_phrasebank/test.jsonl', 'text'], ['banking77/test.jsonl', 'text'],
    ['chemprot/dev.jsonl', 'text'], ['scicite/dev.jsonl', 'text'], ['glue_mrpc/test.jsonl', 'sentence1']];
  for (const [file, field] of sources) {
    const lines = fs.readFileSync(path.join(shared, 'datasets', file), 'utf8').split('\n').filter(Boolean);
    for (const l of lines.slice(0, Math.ceil(n / sources.length))) out.push(JSON.parse(l)[field]);
  }
  return out.slice(0, n);
}

const outDir = path.join(root, 'node_modules', '.cache', 'prunekit-tokenizer-bench');
execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), [
  ...['index.ts', 'tokenizer.ts', 'folder.ts'].map((f) => path.join(root, 'packages', 'tensor-core', 'src', 'tokenizer', f)),
  '--outDir', outDir, '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--skipLibCheck', '--types', 'node',
], { stdio: 'inherit' });
const { Tokenizer } = await import(pathToFileURL(path.join(outDir, 'index.js')).href);

const texts = sentences(2000);
const tok = await Tokenizer.fromPretrained(folder);
await tok.encodeBatch(texts.slice(0, 50));
let bestSingle = Infinity, bestBatch = Infinity;
for (let rep = 0; rep < 3; rep++) {
  let t = performance.now();
  for (const s of texts) await tok.encode(s);
  bestSingle = Math.min(bestSingle, performance.now() - t);
  t = performance.now();
  await tok.encodeBatch(texts);
  bestBatch = Math.min(bestBatch, performance.now() - t);
}
const ts = { singlePerSec: texts.length / bestSingle * 1000, batchPerSec: texts.length / bestBatch * 1000 };

const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tok-bench-')), 'sentences.json');
fs.writeFileSync(tmp, JSON.stringify(texts));
const py = path.join(root, 'tools', '.venv', 'bin', 'python');
const pyOut = JSON.parse(execFileSync(py, [path.join(root, 'tools', 'bench', 'tokenizer-speed.py'), folder, tmp], { encoding: 'utf8' }).trim().split('\n').at(-1));
fs.rmSync(path.dirname(tmp), { recursive: true });

const f = (x) => Math.round(x).toLocaleString('en');
console.log(`${texts.length} sentences, ${folder}, ${os.cpus().length} CPUs`);
console.log(`prunekit (tokenizers npm): one at a time ${f(ts.singlePerSec)}/s, batch ${f(ts.batchPerSec)}/s`);
console.log(`Python transformers fast:  one at a time ${f(pyOut.singlePerSec)}/s, batch ${f(pyOut.batchPerSec)}/s`);
console.log(`ratio prunekit / Python:   one at a time ${(ts.singlePerSec / pyOut.singlePerSec).toFixed(2)}, batch ${(ts.batchPerSec / pyOut.batchPerSec).toFixed(2)}`);
