// Compares the smp and finegates suites' run folders of two bench outputs cell by cell: BEFORE in
// the old layout (runSmp: metrics.json + masks.bin; runGates: report.json + gates/) and AFTER in the
// artifact layout (prunekit/manifest.json, masks.safetensors, gates.safetensors, training.json).
// Prints one line per cell finished in both: scores, masks / gate θ bit for bit, removal, gate states.
//   node tools/bench/compare-method-runs.mjs BEFORE_OUT AFTER_OUT   (build the packages first)
import fs from 'node:fs';
import path from 'node:path';
import { loadBitMasks } from '@prunekit/mask-smp';
import { MaskSet, readSafetensors } from '@prunekit/tensor-core';

const [before, after] = process.argv.slice(2);
if (!before || !after) {
  console.error('usage: node tools/bench/compare-method-runs.mjs BEFORE_OUT AFTER_OUT');
  process.exit(2);
}
const json = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const sameBytes = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const cells = (root) => (fs.existsSync(root) ? fs.readdirSync(root, { recursive: true }).map(String).filter((p) => p.split(path.sep).length === 3) : []);

let differ = 0;
const smpRoot = (o) => path.join(o, 'smp', 'runs');
for (const cell of cells(smpRoot(before)).sort()) {
  const b = path.join(smpRoot(before), cell);
  const a = path.join(smpRoot(after), cell);
  if (!fs.existsSync(path.join(b, 'metrics.json')) || !fs.existsSync(path.join(a, 'prunekit', 'manifest.json'))) continue;
  const bm = json(path.join(b, 'metrics.json')).final;
  const am = json(path.join(a, 'prunekit', 'manifest.json')).metrics;
  let masks = 'no masks';
  if (fs.existsSync(path.join(b, 'masks.bin'))) {
    const x = loadBitMasks(b).masks;
    const y = MaskSet.load(path.join(a, 'prunekit', 'masks.safetensors')).masks;
    const names = x.names().sort();
    const same = names.join() === y.names().sort().join() && names.every((n) => sameBytes(x.masks.get(n).data, y.masks.get(n).data));
    masks = same ? 'masks identical' : 'MASKS DIFFER';
    if (!same) differ++;
  }
  const scores = JSON.stringify(bm.scores) === JSON.stringify(am.scores) && bm.main === am.score;
  if (!scores) differ++;
  console.log(`smp ${cell}: ${(100 * bm.main).toFixed(2)} vs ${(100 * am.score).toFixed(2)} ${scores ? 'scores identical' : 'SCORES DIFFER'}, ${masks}`);
}

const fgRoot = (o) => path.join(o, 'finegates', 'runs');
for (const cell of cells(fgRoot(before)).sort()) {
  const b = path.join(fgRoot(before), cell);
  const a = path.join(fgRoot(after), cell);
  if (!fs.existsSync(path.join(b, 'report.json')) || !fs.existsSync(path.join(a, 'prunekit', 'manifest.json'))) continue;
  const br = json(path.join(b, 'report.json'));
  const ar = json(path.join(a, 'prunekit', 'training.json'));
  const am = json(path.join(a, 'prunekit', 'manifest.json')).metrics;
  const checks = {
    metrics: Object.keys(br.metrics).every((k) => JSON.stringify(br.metrics[k]) === JSON.stringify(am[k])),
    losses: JSON.stringify(br.losses) === JSON.stringify(ar.losses),
    removal: JSON.stringify(br.removal) === JSON.stringify(ar.removal),
    gateStats: JSON.stringify(br.gateStats) === JSON.stringify(ar.gateStats),
    initialThetaAuc: br.initialThetaAuc === ar.initialThetaAuc || (Number.isNaN(br.initialThetaAuc) && Number.isNaN(ar.initialThetaAuc)),
  };
  if (fs.existsSync(path.join(b, 'gates', 'gates.safetensors'))) {
    const x = readSafetensors(path.join(b, 'gates', 'gates.safetensors')).tensors;
    const y = readSafetensors(path.join(a, 'prunekit', 'gates.safetensors')).tensors;
    checks.gates = [...x.keys()].sort().join() === [...y.keys()].sort().join() && [...x].every(([n, t]) => sameBytes(t.data, y.get(n).data));
  }
  const bad = Object.entries(checks).filter(([, v]) => !v).map(([k]) => k);
  if (bad.length) differ++;
  const removed = br.removal ? `, ${(100 * br.removal.linearRemovedFraction).toFixed(1)}% vs ${(100 * ar.removal.linearRemovedFraction).toFixed(1)}% of attention+FFN removed` : '';
  console.log(`finegates ${cell}: accuracy ${(100 * br.metrics.accuracy).toFixed(2)}% vs ${(100 * am.accuracy).toFixed(2)}%${removed}; ${bad.length ? `DIFFER: ${bad.join(', ')}` : `identical (${Object.keys(checks).join(', ')})`}`);
}
console.log(differ ? `${differ} cell(s) differ` : 'every cell finished in both is identical');
process.exit(differ ? 1 : 0);
