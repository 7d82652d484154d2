// Limited-memory BFGS for smooth unconstrained minimisation, with the stopping rules of scipy's
// L-BFGS-B as scikit-learn calls it for LogisticRegression(solver="lbfgs"):
//   - stop when the largest |gradient component| ≤ gtol (sklearn passes gtol = tol = 1e-4),
//   - stop when (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol (sklearn: 64 · machine epsilon),
//   - stop after maxIter iterations (sklearn: max_iter = 100) or a failed line search (maxls = 50).
// History m = 10, initial inverse Hessian γI with γ = sᵀy / yᵀy, first step length 1/‖g‖, then 1.
// The line search finds a point satisfying the strong Wolfe conditions with c1 = 1e-3 and
// c2 = 0.9 (the constants of MINPACK-2's dcsrch used by L-BFGS-B) by bracketing and safeguarded
// cubic interpolation. The iterates are not bit-identical to scipy's (its line search differs in
// detail), but both stop at the same tolerance on a strongly convex objective, so they agree to
// within that tolerance.

export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  maxIter?: number;
  gtol?: number;
  ftol?: number;
  m?: number;
  maxLineSearch?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: 'gtol' | 'ftol' | 'maxIter' | 'lineSearch';
}

function dotv(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function infNorm(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function cubicMin(a: number, fa: number, ga: number, b: number, fb: number, gb: number): number {
  // minimiser of the cubic interpolating (a, fa, ga), (b, fb, gb); falls back to bisection
  const d1 = ga + gb - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - ga * gb;
  if (disc < 0) return (a + b) / 2;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  const t = b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2 * d2));
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (!Number.isFinite(t) || t <= lo + 0.1 * (hi - lo) || t >= hi - 0.1 * (hi - lo)) return (a + b) / 2;
  return t;
}

export function lbfgs(fg: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const maxIter = options.maxIter ?? 100;
  const gtol = options.gtol ?? 1e-4;
  const ftol = options.ftol ?? 64 * Number.EPSILON;
  const m = options.m ?? 10;
  const maxLs = options.maxLineSearch ?? 50;
  const c1 = 1e-3;
  const c2 = 0.9;
  const n = x0.length;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let f = fg(x, g);
  let evaluations = 1;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const xt = new Float64Array(n);
  const gt = new Float64Array(n);
  let iterations = 0;
  if (infNorm(g) <= gtol) return { x, f, iterations, evaluations, converged: true, reason: 'gtol' };
  for (;;) {
    if (iterations >= maxIter) return { x, f, iterations, evaluations, converged: false, reason: 'maxIter' };
    // two-loop recursion: d = −H g
    for (let i = 0; i < n; i++) d[i] = -g[i]!;
    const alpha: number[] = new Array<number>(S.length);
    for (let j = S.length - 1; j >= 0; j--) {
      const a = rho[j]! * dotv(S[j]!, d);
      alpha[j] = a;
      const y = Y[j]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! - a * y[i]!;
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dotv(S[last]!, Y[last]!) / dotv(Y[last]!, Y[last]!);
      for (let i = 0; i < n; i++) d[i] = d[i]! * gamma;
    }
    for (let j = 0; j < S.length; j++) {
      const b = rho[j]! * dotv(Y[j]!, d);
      const s = S[j]!;
      const a = alpha[j]!;
      for (let i = 0; i < n; i++) d[i] = d[i]! + (a - b) * s[i]!;
    }
    let dg0 = dotv(d, g);
    if (!(dg0 < 0)) {
      // not a descent direction: restart from steepest descent
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i]!;
      dg0 = dotv(d, g);
    }
    const f0 = f;
    let step = iterations === 0 && S.length === 0 ? 1 / Math.sqrt(dotv(d, d)) : 1;
    // strong Wolfe line search (Nocedal & Wright, algorithms 3.5 and 3.6)
    let lo = 0;
    let flo = f0;
    let glo = dg0;
    let hi = Number.NaN;
    let fhi = Number.NaN;
    let ghi = Number.NaN;
    let found = false;
    let ft = Number.NaN;
    for (let ls = 0; ls < maxLs; ls++) {
      for (let i = 0; i < n; i++) xt[i] = x[i]! + step * d[i]!;
      ft = fg(xt, gt);
      evaluations++;
      const dgt = dotv(d, gt);
      if (!Number.isFinite(ft) || ft > f0 + c1 * step * dg0 || ft >= flo) {
        // too long: the minimiser lies in (lo, step)
        hi = step;
        fhi = ft;
        ghi = dgt;
      } else if (Math.abs(dgt) <= -c2 * dg0) {
        found = true;
        break;
      } else {
        if (!Number.isNaN(hi) ? dgt * (hi - step) >= 0 : dgt >= 0) {
          hi = lo;
          fhi = flo;
          ghi = glo;
        }
        lo = step;
        flo = ft;
        glo = dgt;
      }
      if (Number.isNaN(hi)) step = step * 2;
      else if (!Number.isFinite(fhi)) step = (lo + hi) / 2;
      else step = cubicMin(lo, flo, glo, hi, fhi, ghi);
    }
    if (!found) {
      if (lo > 0 && flo < f0) {
        // accept the best sufficient-decrease point seen
        for (let i = 0; i < n; i++) xt[i] = x[i]! + lo * d[i]!;
        ft = fg(xt, gt);
        evaluations++;
      } else {
        return { x, f, iterations, evaluations, converged: false, reason: 'lineSearch' };
      }
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xt[i]! - x[i]!;
      y[i] = gt[i]! - g[i]!;
    }
    x.set(xt);
    g.set(gt);
    f = ft;
    iterations++;
    const sy = dotv(s, y);
    if (sy > Number.EPSILON * dotv(y, y)) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    if ((f0 - f) / Math.max(Math.abs(f0), Math.abs(f), 1) <= ftol) return { x, f, iterations, evaluations, converged: true, reason: 'ftol' };
    if (infNorm(g) <= gtol) return { x, f, iterations, evaluations, converged: true, reason: 'gtol' };
  }
}
