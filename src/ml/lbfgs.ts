// Unconstrained limited-memory BFGS minimiser for the smooth convex losses of the linear models: the two-loop
// recursion of Nocedal & Wright, Numerical Optimization (2nd ed.), alg. 7.4/7.5, with a strong-Wolfe line search
// (alg. 3.5/3.6) and the stopping rules of scipy's L-BFGS-B (pgtol, factr), which scikit-learn's 'lbfgs' relies on.

/** Writes the gradient at `x` into `grad` and returns the objective. Must not keep references to either array. */
export type Objective = (x: Float64Array, grad: Float64Array) => number

export interface LbfgsOptions {
  /** Stop after this many iterations (accepted steps), like scipy's `maxiter`. */
  maxIter: number
  /** Stop when max_i |grad_i| <= gtol (scipy's `pgtol`/`gtol`). */
  gtol: number
  /** Number of correction pairs kept (scipy's `maxcor`); default 10. */
  m?: number
  /**
   * Stop when (f_old - f_new) / max(|f_old|, |f_new|, 1) <= ftol. Default 2.2e-9, scipy's factr = 1e7 times
   * machine epsilon.
   */
  ftol?: number
  /** Function evaluations allowed per line search (scipy's `maxls`); default 20. */
  maxLineSearch?: number
}

export interface LbfgsResult {
  x: Float64Array
  f: number
  iterations: number
  /** True when the gtol or ftol test stopped the run; false on maxIter or a failed line search. */
  converged: boolean
  /** Number of calls to the objective. */
  evaluations: number
}

const EPS = 2.220446049250313e-16
// Wolfe constants: c1 for sufficient decrease, c2 for curvature (N&W recommend 1e-4 and 0.9 for quasi-Newton).
const C1 = 1e-4
const C2 = 0.9

export function minimizeLbfgs(f: Objective, x0: Float64Array, options: LbfgsOptions): LbfgsResult {
  const n = x0.length
  const m = Math.max(1, Math.floor(options.m ?? 10))
  const ftol = options.ftol ?? 1e7 * EPS
  const gtol = options.gtol
  const maxIter = options.maxIter
  const maxLs = Math.max(1, Math.floor(options.maxLineSearch ?? 20))

  // Every buffer the iteration needs is allocated here once; x/g and xTrial/gTrial swap roles after each step.
  let x = Float64Array.from(x0)
  let g = new Float64Array(n)
  let xTrial = new Float64Array(n)
  let gTrial = new Float64Array(n)
  const d = new Float64Array(n)
  const sHist = new Float64Array(m * n)
  const yHist = new Float64Array(m * n)
  const rhoHist = new Float64Array(m)
  const alphaTmp = new Float64Array(m)
  let histCount = 0
  let histHead = 0 // slot the next pair is written to

  let evaluations = 1
  let fx = f(x, g)
  let iterations = 0
  let converged = false

  if (!Number.isFinite(fx)) {
    return {x, f: fx, iterations, converged, evaluations}
  }
  if (maxAbs(g) <= gtol) {
    return {x, f: fx, iterations, converged: true, evaluations}
  }

  // Line-search state lives in closure variables rather than per-call objects, to keep the loop allocation-free.
  let phiAcc = 0
  let usedSteepest = false

  /** phi(alpha) = f(x + alpha d); writes the point and gradient into xTrial/gTrial and returns phi'(alpha). */
  const evalAt = (alpha: number): number => {
    for (let i = 0; i < n; i++) xTrial[i] = x[i]! + alpha * d[i]!
    phiAcc = f(xTrial, gTrial)
    evaluations++
    let dphi = 0
    for (let i = 0; i < n; i++) dphi += gTrial[i]! * d[i]!
    return dphi
  }

  /**
   * N&W alg. 3.5 (bracketing) + 3.6 (zoom) with cubic interpolation (N&W eq. 3.59) safeguarded to the inner
   * 80% of the bracket, falling back to bisection. Returns the accepted step (its point and gradient are in
   * xTrial/gTrial, its value in phiAcc), or 0 when no strong-Wolfe point was found within maxLs evaluations.
   */
  const lineSearch = (phi0: number, dphi0: number, alphaInit: number): number => {
    let evalsLeft = maxLs
    let alphaPrev = 0
    let phiPrev = phi0
    let dphiPrev = dphi0
    let alpha = alphaInit
    let lo = 0
    let phiLo = 0
    let dphiLo = 0
    let hi = 0
    let phiHi = 0
    let dphiHi = 0
    let bracketed = false
    let first = true
    while (evalsLeft > 0) {
      const dphi = evalAt(alpha)
      evalsLeft--
      const phi = phiAcc
      // Written as !(a <= b) so that NaN/Infinity (e.g. overflow far along d) count as "too far".
      if (!(phi <= phi0 + C1 * alpha * dphi0) || (!first && phi >= phiPrev)) {
        lo = alphaPrev
        phiLo = phiPrev
        dphiLo = dphiPrev
        hi = alpha
        phiHi = phi
        dphiHi = dphi
        bracketed = true
        break
      }
      if (Math.abs(dphi) <= -C2 * dphi0) return alpha
      if (dphi >= 0) {
        lo = alpha
        phiLo = phi
        dphiLo = dphi
        hi = alphaPrev
        phiHi = phiPrev
        dphiHi = dphiPrev
        bracketed = true
        break
      }
      alphaPrev = alpha
      phiPrev = phi
      dphiPrev = dphi
      // Still descending and sufficiently decreasing: expand the step (N&W leave the rule open; x4 like
      // scipy's dcsrch upper bound on extrapolation).
      alpha *= 4
      first = false
    }
    if (!bracketed) return fallback(alphaPrev, phiPrev, phi0)

    // zoom: invariant — lo satisfies sufficient decrease with the lowest phi so far, and dphiLo*(hi-lo) < 0.
    while (evalsLeft > 0) {
      const width = hi - lo
      // The bracket has shrunk to rounding level: no further progress is possible along d.
      if (Math.abs(width) <= EPS * Math.max(Math.abs(lo), Math.abs(hi))) break
      let a = cubicMin(lo, phiLo, dphiLo, hi, phiHi, dphiHi)
      const left = Math.min(lo, hi)
      const span = Math.abs(width)
      if (!(a >= left + 0.1 * span && a <= left + 0.9 * span)) a = lo + 0.5 * width
      const dphi = evalAt(a)
      evalsLeft--
      const phi = phiAcc
      if (!(phi <= phi0 + C1 * a * dphi0) || phi >= phiLo) {
        hi = a
        phiHi = phi
        dphiHi = dphi
      } else {
        if (Math.abs(dphi) <= -C2 * dphi0) return a
        if (dphi * (hi - lo) >= 0) {
          hi = lo
          phiHi = phiLo
          dphiHi = dphiLo
        }
        lo = a
        phiLo = phi
        dphiLo = dphi
      }
    }
    return fallback(lo, phiLo, phi0)
  }

  /**
   * No strong-Wolfe point: if the best step found still decreases f, take it (re-evaluating, since the trial
   * buffers hold a later point) so the run does not stall on a merely flat curvature test; otherwise give up.
   */
  const fallback = (alpha: number, phiAlpha: number, phi0: number): number => {
    if (alpha > 0 && phiAlpha < phi0) {
      evalAt(alpha)
      return alpha
    }
    return 0
  }

  while (iterations < maxIter) {
    // Two-loop recursion (N&W alg. 7.4): d = -H g, with H0 = gamma I, gamma = s'y / y'y of the newest pair.
    for (let i = 0; i < n; i++) d[i] = -g[i]!
    for (let k = 0; k < histCount; k++) {
      const slot = (histHead - 1 - k + m) % m
      const off = slot * n
      let sd = 0
      for (let i = 0; i < n; i++) sd += sHist[off + i]! * d[i]!
      const a = rhoHist[slot]! * sd
      alphaTmp[slot] = a
      for (let i = 0; i < n; i++) d[i] = d[i]! - a * yHist[off + i]!
    }
    if (histCount > 0) {
      const newest = ((histHead - 1 + m) % m) * n
      let sy = 0
      let yy = 0
      for (let i = 0; i < n; i++) {
        const yi = yHist[newest + i]!
        sy += sHist[newest + i]! * yi
        yy += yi * yi
      }
      const gamma = sy / yy
      for (let i = 0; i < n; i++) d[i] = d[i]! * gamma
    }
    for (let k = histCount - 1; k >= 0; k--) {
      const slot = (histHead - 1 - k + m) % m
      const off = slot * n
      let yd = 0
      for (let i = 0; i < n; i++) yd += yHist[off + i]! * d[i]!
      const b = alphaTmp[slot]! - rhoHist[slot]! * yd
      for (let i = 0; i < n; i++) d[i] = d[i]! + b * sHist[off + i]!
    }

    let dphi0 = 0
    for (let i = 0; i < n; i++) dphi0 += g[i]! * d[i]!
    if (!(dphi0 < 0)) {
      // Not a descent direction (only possible through rounding in H): restart from steepest descent.
      histCount = 0
      let gg = 0
      for (let i = 0; i < n; i++) {
        d[i] = -g[i]!
        gg += g[i]! * g[i]!
      }
      dphi0 = -gg
      // A non-finite gradient leaves no direction to follow.
      if (!(dphi0 < 0)) break
    }

    // First step (and after a reset) is scaled to unit length, like scipy's 1/||d||; afterwards the quasi-Newton
    // step of 1 is natural.
    let alphaInit = 1
    if (histCount === 0) {
      let dd = 0
      for (let i = 0; i < n; i++) dd += d[i]! * d[i]!
      alphaInit = Math.min(1, 1 / Math.sqrt(dd))
    }

    const alpha = lineSearch(fx, dphi0, alphaInit)
    if (alpha === 0) {
      if (histCount > 0 && !usedSteepest) {
        // The quasi-Newton model may be stale: drop the memory and retry once from steepest descent.
        histCount = 0
        usedSteepest = true
        continue
      }
      break
    }
    usedSteepest = false
    iterations++

    // Store s = x_new - x_old and y = g_new - g_old; skip pairs without positive curvature (BFGS needs s'y > 0,
    // which strong Wolfe guarantees except on the fallback step or by rounding).
    const off = histHead * n
    let sy = 0
    let yy = 0
    for (let i = 0; i < n; i++) {
      const si = xTrial[i]! - x[i]!
      const yi = gTrial[i]! - g[i]!
      sHist[off + i] = si
      yHist[off + i] = yi
      sy += si * yi
      yy += yi * yi
    }
    if (sy > EPS * yy) {
      rhoHist[histHead] = 1 / sy
      histHead = (histHead + 1) % m
      if (histCount < m) histCount++
    }

    const fOld = fx
    fx = phiAcc
    let tmp = x
    x = xTrial
    xTrial = tmp
    tmp = g
    g = gTrial
    gTrial = tmp

    if (maxAbs(g) <= gtol) {
      converged = true
      break
    }
    if (fOld - fx <= ftol * Math.max(Math.abs(fOld), Math.abs(fx), 1)) {
      converged = true
      break
    }
  }

  return {x, f: fx, iterations, converged, evaluations}
}

function maxAbs(v: Float64Array): number {
  let r = 0
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!)
    if (a > r || Number.isNaN(a)) r = a
  }
  return r
}

/** Minimiser of the cubic matching phi and phi' at a and b (N&W eq. 3.59); NaN when it does not exist. */
function cubicMin(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b)
  const disc = d1 * d1 - da * db
  if (!(disc >= 0)) return Number.NaN
  const d2 = Math.sign(b - a) * Math.sqrt(disc)
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2)
}
