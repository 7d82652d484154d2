// GateSet: FineGates' row and column gates of every gated linear, keyed by the linear's HF weight name.
// Parameters θ are tf.Variables (trainable); gate values come from regulariser.ts. Saved as safetensors
// (`<weight name>.gate_rows` [out], `<weight name>.gate_cols` [in], the θ values) + a JSON manifest.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  createRng, prunableParameters, readSafetensors, writeSafetensors, writeJsonAtomic, toFloat32, DEFAULT_POLICY,
  type EncoderModel, type GateMap, type MatrixKind, type PrunablePolicy, type Rng, type Seed, type HostTensor,
} from '@prunekit/tensor-core';
import { evalGate, GATE_DEFAULTS, openProbability, sparsityRegulariser, trainingGate, type RegulariserTerm } from './regulariser.js';

export interface GateSpec {
  /** HF weight name of the gated linear */
  name: string;
  layer: number;
  kind: MatrixKind;
  rows: number;
  cols: number;
}

export interface GateSetOptions {
  /** which linears get gates (default: Q, K, V, attention output, FFN up, FFN down of every layer) */
  policy?: PrunablePolicy;
  /** seed of the θ initialisation */
  seed?: Seed;
  initMean?: number;
  initStd?: number;
  noiseStd?: number;
  regSigma?: number;
}

/** Gate values of one linear (tensors the caller disposes). */
export interface GateValues {
  rows: tf.Tensor1D;
  cols: tf.Tensor1D;
}

export interface GateManifest {
  format: 'prunekit-finegates-gates';
  version: 1;
  gates: GateSpec[];
  noiseStd: number;
  regSigma: number;
  /** free-form: method settings, data, model fingerprint, results */
  [key: string]: unknown;
}

export interface GateStats {
  /** gated weights (Σ rows·cols) */
  numel: number;
  /** gated weights in a closed row or column at evaluation */
  closedWeights: number;
  /** closedWeights / numel */
  sparsity: number;
  /** expected fraction of gated weights removed: 1 − Σ numel·mean_rows P·mean_cols P / Σ numel */
  expectedSparsity: number;
  closedRows: number;
  closedCols: number;
  /**
   * Row and column gates by their evaluation value z = clamp(μ + 0.5, 0, 1), μ = tanh θ: closed z = 0
   * (μ ≤ −0.5, removed by compaction), open z = 1 (μ ≥ 0.5, passes its row/column unchanged), half-open
   * 0 < z < 1 (kept, scaling its row/column by z: it meets the regulariser's P without removing anything).
   */
  gates: { total: number; closed: number; halfOpen: number; open: number };
}

/** θ of a gate closed by a finalisation: tanh(−1) + 0.5 < 0, so its evaluation value is 0. */
export const CLOSED_THETA = -1;

/** A gate is open (kept) while its evaluation value tanh θ + 0.5 is above 0. */
const isOpenTheta = (theta: number): boolean => Math.tanh(theta) + 0.5 > 0;

const ROW = '.gate_rows';
const COL = '.gate_cols';

export class GateSet {
  readonly noiseStd: number;
  readonly regSigma: number;

  private constructor(
    readonly specs: readonly GateSpec[],
    /** θ of the row gates, by weight name */
    readonly rowTheta: Map<string, tf.Variable>,
    /** θ of the column gates, by weight name */
    readonly colTheta: Map<string, tf.Variable>,
    options: { noiseStd: number; regSigma: number },
  ) {
    this.noiseStd = options.noiseStd;
    this.regSigma = options.regSigma;
  }

  /** Gates for the model's linears under the policy, θ ~ N(1, 0.1²) from a seeded generator. */
  static create(model: EncoderModel, options: GateSetOptions = {}): GateSet {
    const rng = createRng(options.seed ?? 0).fork('finegates-init');
    const mean = options.initMean ?? GATE_DEFAULTS.initMean;
    const std = options.initStd ?? GATE_DEFAULTS.initStd;
    const specs = prunableParameters(model, options.policy ?? DEFAULT_POLICY).map((p) => ({ name: p.name, layer: p.layer, kind: p.kind, rows: p.shape[0], cols: p.shape[1] }));
    const rows = new Map<string, tf.Variable>();
    const cols = new Map<string, tf.Variable>();
    for (const s of specs) {
      rows.set(s.name, variable(rng.normalArray(s.rows, mean, std), s.name + ROW));
      cols.set(s.name, variable(rng.normalArray(s.cols, mean, std), s.name + COL));
    }
    return new GateSet(specs, rows, cols, { noiseStd: options.noiseStd ?? GATE_DEFAULTS.noiseStd, regSigma: options.regSigma ?? GATE_DEFAULTS.regSigma });
  }

  /** Gates from θ values (host arrays), e.g. read from a file. */
  static fromTheta(specs: readonly GateSpec[], theta: ReadonlyMap<string, { rows: Float32Array; cols: Float32Array }>, options: { noiseStd?: number; regSigma?: number } = {}): GateSet {
    const rows = new Map<string, tf.Variable>();
    const cols = new Map<string, tf.Variable>();
    for (const s of specs) {
      const t = theta.get(s.name);
      if (!t) throw new Error(`gates: no θ for "${s.name}"`);
      if (t.rows.length !== s.rows || t.cols.length !== s.cols) throw new Error(`gates: θ of "${s.name}" has ${t.rows.length} rows / ${t.cols.length} columns; expected ${s.rows} / ${s.cols}`);
      rows.set(s.name, variable(t.rows, s.name + ROW));
      cols.set(s.name, variable(t.cols, s.name + COL));
    }
    return new GateSet(specs, rows, cols, { noiseStd: options.noiseStd ?? GATE_DEFAULTS.noiseStd, regSigma: options.regSigma ?? GATE_DEFAULTS.regSigma });
  }

  get names(): string[] {
    return this.specs.map((s) => s.name);
  }

  /** The trainable θ variables, keyed `<weight name>.gate_rows` / `.gate_cols`. */
  variables(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const s of this.specs) {
      out.set(s.name + ROW, this.rowTheta.get(s.name)!);
      out.set(s.name + COL, this.colTheta.get(s.name)!);
    }
    return out;
  }

  /** Number of gate parameters (Σ rows + cols). */
  numParameters(): number {
    return this.specs.reduce((a, s) => a + s.rows + s.cols, 0);
  }

  /** Noise ε ~ N(0, σ²) for every gate, from a generator (tensors the caller disposes). */
  sampleNoise(rng: Rng): Map<string, GateValues> {
    const out = new Map<string, GateValues>();
    for (const s of this.specs) {
      out.set(s.name, { rows: tf.tensor1d(rng.normalArray(s.rows, 0, this.noiseStd)), cols: tf.tensor1d(rng.normalArray(s.cols, 0, this.noiseStd)) });
    }
    return out;
  }

  /** Training gates clamp(μ + ε + 0.5, 0, 1) for the given noise (differentiable in θ). */
  trainingGates(noise: ReadonlyMap<string, GateValues>): Map<string, GateValues> {
    const out = new Map<string, GateValues>();
    for (const s of this.specs) {
      const n = noise.get(s.name);
      if (!n) throw new Error(`gates: no noise for "${s.name}"`);
      out.set(s.name, { rows: trainingGate(this.rowTheta.get(s.name)!, n.rows) as tf.Tensor1D, cols: trainingGate(this.colTheta.get(s.name)!, n.cols) as tf.Tensor1D });
    }
    return out;
  }

  /** Evaluation gates clamp(μ + 0.5, 0, 1). */
  evalGates(): Map<string, GateValues> {
    const out = new Map<string, GateValues>();
    for (const s of this.specs) out.set(s.name, { rows: evalGate(this.rowTheta.get(s.name)!) as tf.Tensor1D, cols: evalGate(this.colTheta.get(s.name)!) as tf.Tensor1D });
    return out;
  }

  /** The regulariser without λ (optionally kurtosis-weighted; weights by weight name). */
  regulariser(targetSparsity: number, kurtosis?: ReadonlyMap<string, { rows: tf.Tensor; cols: tf.Tensor }>): tf.Scalar {
    const terms: RegulariserTerm[] = this.specs.map((s) => {
      const k = kurtosis?.get(s.name);
      const t: RegulariserTerm = { rowTheta: this.rowTheta.get(s.name)!, colTheta: this.colTheta.get(s.name)! };
      if (k) {
        t.rowWeights = k.rows;
        t.colWeights = k.cols;
      }
      return t;
    });
    return sparsityRegulariser(terms, targetSparsity, this.regSigma);
  }

  /** Open (1) / closed (0) rows and columns at evaluation: the plan input of tensor-core's planFromGates. */
  gateMap(): GateMap {
    const out = new Map<string, { rows: Uint8Array; cols: Uint8Array }>();
    const open = (v: tf.Variable): Uint8Array => {
      const g = tf.tidy(() => evalGate(v)).dataSync();
      return Uint8Array.from(g, (x) => (x > 0 ? 1 : 0));
    };
    for (const s of this.specs) out.set(s.name, { rows: open(this.rowTheta.get(s.name)!), cols: open(this.colTheta.get(s.name)!) });
    return out;
  }

  /** Closed rows/columns and expected sparsity over the gated weights. */
  stats(): GateStats {
    let numel = 0;
    let closed = 0;
    let expectedKept = 0;
    let closedRows = 0;
    let closedCols = 0;
    const gates = { total: 0, closed: 0, halfOpen: 0, open: 0 };
    for (const s of this.specs) {
      const { pr, pc, zr, zc } = tf.tidy(() => ({
        pr: tf.mean(openProbability(this.rowTheta.get(s.name)!, this.regSigma)).dataSync()[0]!,
        pc: tf.mean(openProbability(this.colTheta.get(s.name)!, this.regSigma)).dataSync()[0]!,
        zr: evalGate(this.rowTheta.get(s.name)!).dataSync(),
        zc: evalGate(this.colTheta.get(s.name)!).dataSync(),
      }));
      const openR = countOpen(zr);
      const openC = countOpen(zc);
      numel += s.rows * s.cols;
      closed += s.rows * s.cols - openR * openC;
      expectedKept += s.rows * s.cols * pr * pc;
      closedRows += s.rows - openR;
      closedCols += s.cols - openC;
      for (const z of [zr, zc]) {
        for (let i = 0; i < z.length; i++) {
          gates.total++;
          if (z[i]! <= 0) gates.closed++;
          else if (z[i]! >= 1) gates.open++;
          else gates.halfOpen++;
        }
      }
    }
    return { numel, closedWeights: closed, sparsity: numel ? closed / numel : 0, expectedSparsity: numel ? 1 - expectedKept / numel : 0, closedRows, closedCols, gates };
  }

  /**
   * Closes the `count` open gates (evaluation value > 0) with the lowest θ, rows and columns alike, by
   * setting their θ to CLOSED_THETA; ties broken by weight name, axis and index so the choice is
   * reproducible. This is a higher threshold on θ than the paper's (z > 0), applied to every gate at once.
   * Returns the θ of the last gate closed (the threshold), or null when none was.
   */
  closeLowest(count: number): number | null {
    if (!Number.isInteger(count) || count < 0) throw new Error(`closeLowest: count must be a whole number ≥ 0 (got ${count})`);
    if (count === 0) return null;
    const open: { theta: number; name: string; axis: 0 | 1; index: number }[] = [];
    const theta = this.theta();
    for (const s of this.specs) {
      const t = theta.get(s.name)!;
      t.rows.forEach((v, i) => { if (isOpenTheta(v)) open.push({ theta: v, name: s.name, axis: 0, index: i }); });
      t.cols.forEach((v, i) => { if (isOpenTheta(v)) open.push({ theta: v, name: s.name, axis: 1, index: i }); });
    }
    if (count > open.length) throw new Error(`closeLowest: ${count} gates asked for, ${open.length} open`);
    open.sort((a, b) => a.theta - b.theta || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || a.axis - b.axis || a.index - b.index);
    for (const g of open.slice(0, count)) (g.axis === 0 ? theta.get(g.name)!.rows : theta.get(g.name)!.cols)[g.index] = CLOSED_THETA;
    this.assign(theta);
    return open[count - 1]!.theta;
  }

  /** Number of gates whose evaluation value is > 0 (not closed). */
  openCount(): number {
    let n = 0;
    for (const t of this.theta().values()) for (const a of [t.rows, t.cols]) for (const v of a) if (isOpenTheta(v)) n++;
    return n;
  }

  /** θ values on the host, by weight name. */
  theta(): Map<string, { rows: Float32Array; cols: Float32Array }> {
    const out = new Map<string, { rows: Float32Array; cols: Float32Array }>();
    for (const s of this.specs) out.set(s.name, { rows: Float32Array.from(this.rowTheta.get(s.name)!.dataSync()), cols: Float32Array.from(this.colTheta.get(s.name)!.dataSync()) });
    return out;
  }

  /** Sets θ from host values (e.g. a checkpoint). */
  assign(theta: ReadonlyMap<string, { rows: Float32Array; cols: Float32Array }>): void {
    for (const s of this.specs) {
      const t = theta.get(s.name);
      if (!t) throw new Error(`gates: no θ for "${s.name}"`);
      tf.tidy(() => {
        this.rowTheta.get(s.name)!.assign(tf.tensor1d(t.rows));
        this.colTheta.get(s.name)!.assign(tf.tensor1d(t.cols));
      });
    }
  }

  /**
   * Writes `<dir>/gates.safetensors` (θ as `<name>.gate_rows` / `.gate_cols`, F32; also the evaluation
   * gates as `<name>.eval_rows` / `.eval_cols`) and `<dir>/gates.json` (manifest), each atomically.
   */
  save(dir: string, extra: Record<string, unknown> = {}): void {
    fs.mkdirSync(dir, { recursive: true });
    const { tensors, manifest } = this.toHost(extra);
    const tmp = path.join(dir, `.gates.safetensors.${process.pid}.tmp`);
    writeSafetensors(tmp, tensors, { format: 'prunekit-finegates' });
    fs.renameSync(tmp, path.join(dir, 'gates.safetensors'));
    writeJsonAtomic(path.join(dir, 'gates.json'), manifest);
  }

  /** The tensors and manifest save() writes, in memory. */
  toHost(extra: Record<string, unknown> = {}): { tensors: Map<string, HostTensor>; manifest: GateManifest } {
    const tensors = new Map<string, HostTensor>();
    const ev = this.evalGates();
    try {
      for (const [name, t] of this.theta()) {
        tensors.set(name + ROW, { dtype: 'F32', shape: [t.rows.length], data: t.rows });
        tensors.set(name + COL, { dtype: 'F32', shape: [t.cols.length], data: t.cols });
        const e = ev.get(name)!;
        tensors.set(`${name}.eval_rows`, { dtype: 'F32', shape: [t.rows.length], data: Float32Array.from(e.rows.dataSync()) });
        tensors.set(`${name}.eval_cols`, { dtype: 'F32', shape: [t.cols.length], data: Float32Array.from(e.cols.dataSync()) });
      }
    } finally {
      for (const e of ev.values()) tf.dispose([e.rows, e.cols]);
    }
    const manifest: GateManifest = { format: 'prunekit-finegates-gates', version: 1, gates: [...this.specs], noiseStd: this.noiseStd, regSigma: this.regSigma, stats: this.stats(), ...extra };
    return { tensors, manifest };
  }

  /** Reads a folder written by save(). */
  static load(dir: string): { gates: GateSet; manifest: GateManifest } {
    const mf = path.join(dir, 'gates.json');
    const sf = path.join(dir, 'gates.safetensors');
    if (!fs.existsSync(mf) || !fs.existsSync(sf)) throw new Error(`${dir}: expected gates.json and gates.safetensors (written by GateSet.save)`);
    const manifest = JSON.parse(fs.readFileSync(mf, 'utf8')) as GateManifest;
    if ((manifest.format as string) !== 'prunekit-finegates-gates') throw new Error(`${mf}: not a FineGates gate manifest (format "${manifest.format as string}")`);
    const { tensors } = readSafetensors(sf);
    const theta = new Map<string, { rows: Float32Array; cols: Float32Array }>();
    for (const s of manifest.gates) {
      const r = tensors.get(s.name + ROW);
      const c = tensors.get(s.name + COL);
      if (!r || !c) throw new Error(`${sf}: missing ${s.name}${ROW} or ${s.name}${COL}`);
      theta.set(s.name, { rows: toFloat32(r), cols: toFloat32(c) });
    }
    return { gates: GateSet.fromTheta(manifest.gates, theta, { noiseStd: manifest.noiseStd, regSigma: manifest.regSigma }), manifest };
  }

  dispose(): void {
    for (const v of this.rowTheta.values()) v.dispose();
    for (const v of this.colTheta.values()) v.dispose();
    this.rowTheta.clear();
    this.colTheta.clear();
  }
}

let counter = 0;
function variable(data: Float32Array, name: string): tf.Variable {
  const t = tf.tensor1d(data);
  const v = tf.variable(t, true, `finegates${counter++}/${name}`);
  t.dispose();
  return v;
}

function countOpen(z: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < z.length; i++) if (z[i]! > 0) n++;
  return n;
}

/**
 * Area under the ROC curve of `score` as a predictor of `positive` (Mann–Whitney U / (n⁺·n⁻), ties
 * counting one half); NaN when either class is empty. FineGates uses it to ask whether the gates that
 * closed are simply those whose random initial θ was lowest (score −θ₀): near 1 means the task did not
 * choose them.
 */
export function rocAuc(score: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = score.length;
  if (positive.length !== n) throw new Error(`rocAuc: ${n} scores but ${positive.length} labels`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let nPos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && score[order[j + 1]!] === score[order[i]!]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (positive[order[k]!]) {
        nPos++;
        rankSumPos += midRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** AUC of the initial θ (lower = more likely closed) as a predictor of which row/column gates are closed now. */
export function initialThetaClosedAuc(initial: ReadonlyMap<string, { rows: Float32Array; cols: Float32Array }>, gates: GateSet): number {
  const score: number[] = [];
  const closed: boolean[] = [];
  const now = gates.theta();
  for (const s of gates.specs) {
    const a = initial.get(s.name);
    const b = now.get(s.name)!;
    if (!a) throw new Error(`gates: no initial θ for "${s.name}"`);
    for (const [t0, t1] of [[a.rows, b.rows], [a.cols, b.cols]] as const) {
      for (let i = 0; i < t0.length; i++) {
        score.push(-t0[i]!);
        // closed at evaluation: clamp(tanh θ + 0.5, 0, 1) = 0
        closed.push(Math.tanh(t1[i]!) + 0.5 <= 0);
      }
    }
  }
  return rocAuc(score, closed);
}
