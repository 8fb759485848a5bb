import {describe, expect, it} from 'vitest'
import {minimizeLbfgs, type Objective} from '../../src/ml/lbfgs.js'

/** Extended Rosenbrock: Σ 100 (x_{2i+1} - x_{2i}²)² + (1 - x_{2i})², minimum 0 at all ones. */
const rosenbrock: Objective = (x, g) => {
  let f = 0
  for (let i = 0; i + 1 < x.length; i += 2) {
    const a = x[i]!
    const b = x[i + 1]!
    const t = b - a * a
    const u = 1 - a
    f += 100 * t * t + u * u
    g[i] = -400 * t * a - 2 * u
    g[i + 1] = 200 * t
  }
  return f
}

/**
 * f(x) = ½ (x - c)ᵀ A (x - c) with a fixed SPD A = D + uuᵀ (eigenvalues in [1, ~102]): the minimum is x* = c
 * with f* = 0. Written around c rather than as ½xᵀAx - bᵀx so that f near the optimum is not a small difference
 * of large numbers, which would stall any line search at |g| ~ sqrt(eps·|f|) long before gtol.
 */
function quadratic(n: number): {f: Objective; xStar: Float64Array} {
  const dDiag = Float64Array.from({length: n}, (_, i) => 1 + (99 * i) / (n - 1))
  const u = Float64Array.from({length: n}, (_, i) => 0.3 * Math.cos(i))
  const xStar = Float64Array.from({length: n}, (_, i) => Math.sin(i + 1) * 5)
  const f: Objective = (x, g) => {
    let ue = 0
    for (let i = 0; i < n; i++) ue += u[i]! * (x[i]! - xStar[i]!)
    let val = 0
    for (let i = 0; i < n; i++) {
      const e = x[i]! - xStar[i]!
      const ae = dDiag[i]! * e + u[i]! * ue
      g[i] = ae
      val += 0.5 * e * ae
    }
    return val
  }
  return {f, xStar}
}

function maxAbsDiff(a: Float64Array, b: ArrayLike<number>): number {
  let r = 0
  for (let i = 0; i < a.length; i++) r = Math.max(r, Math.abs(a[i]! - b[i]!))
  return r
}

describe('minimizeLbfgs', () => {
  it('finds the minimum of the 2-D Rosenbrock function from the classic start (-1.2, 1)', () => {
    const x0 = Float64Array.of(-1.2, 1)
    const res = minimizeLbfgs(rosenbrock, x0, {maxIter: 200, gtol: 1e-8, ftol: 0})
    expect(res.converged).toBe(true)
    // gtol 1e-8 on a Hessian with eigenvalues ~0.4..1000 puts x within ~1e-8/0.4 of (1, 1); 1e-6 leaves room.
    expect(maxAbsDiff(res.x, [1, 1])).toBeLessThan(1e-6)
    expect(res.f).toBeLessThan(1e-12)
    // L-BFGS needs ~35 iterations here (scipy: 36); a broken line search or update takes hundreds or fails.
    expect(res.iterations).toBeLessThan(60)
    expect(res.evaluations).toBeGreaterThan(res.iterations)
    // The start vector is the caller's: it must not be modified.
    expect(Array.from(x0)).toEqual([-1.2, 1])
  })

  it('finds the minimum of a 20-dimensional Rosenbrock function', () => {
    const x0 = Float64Array.from({length: 20}, (_, i) => (i % 2 === 0 ? -1.2 : 1))
    const res = minimizeLbfgs(rosenbrock, x0, {maxIter: 1000, gtol: 1e-8, ftol: 0})
    expect(res.converged).toBe(true)
    expect(maxAbsDiff(res.x, new Array(20).fill(1))).toBeLessThan(1e-6)
  })

  it('finds the known minimum of a convex quadratic', () => {
    const n = 30
    const {f, xStar} = quadratic(n)
    const res = minimizeLbfgs(f, new Float64Array(n), {maxIter: 500, gtol: 1e-10, ftol: 0})
    expect(res.converged).toBe(true)
    // |x - x*|₂ <= |g|₂ / λmin with λmin >= 1: gtol 1e-10 per coordinate gives <= sqrt(30)·1e-10 ≈ 5.5e-10.
    expect(maxAbsDiff(res.x, xStar)).toBeLessThan(1e-8)
    const g = new Float64Array(n)
    f(res.x, g)
    expect(maxAbsDiff(g, new Float64Array(n))).toBeLessThanOrEqual(1e-10)
  })

  it('honours a non-default memory size m', () => {
    const n = 30
    const {f, xStar} = quadratic(n)
    const res = minimizeLbfgs(f, new Float64Array(n), {maxIter: 500, gtol: 1e-10, ftol: 0, m: 3})
    expect(res.converged).toBe(true)
    expect(maxAbsDiff(res.x, xStar)).toBeLessThan(1e-8)
  })

  it('stops with converged = false when maxIter runs out', () => {
    const res = minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), {maxIter: 5, gtol: 1e-8})
    expect(res.iterations).toBe(5)
    expect(res.converged).toBe(false)
  })

  it('stops on the relative reduction of f (ftol) when gtol cannot be met', () => {
    // Σ x⁴ has a vanishing Hessian at 0, so convergence is only linear; gtol = 0 can never be met, and only
    // the ftol test (default 2.2e-9, scipy's factr = 1e7) stops the run before maxIter.
    const quartic: Objective = (x, g) => {
      let f = 0
      for (let i = 0; i < x.length; i++) {
        const v = x[i]!
        f += v * v * v * v
        g[i] = 4 * v * v * v
      }
      return f
    }
    const res = minimizeLbfgs(quartic, Float64Array.of(1, -2, 0.5), {maxIter: 10_000, gtol: 0})
    expect(res.converged).toBe(true)
    expect(res.iterations).toBeLessThan(10_000)
    expect(res.f).toBeLessThan(1e-6)
  })

  it('returns at once, converged, when the start already satisfies gtol', () => {
    const {f, xStar} = quadratic(10)
    const res = minimizeLbfgs(f, xStar, {maxIter: 100, gtol: 1e-6})
    expect(res.converged).toBe(true)
    expect(res.iterations).toBe(0)
    expect(res.evaluations).toBe(1)
  })

  it('takes only steps that satisfy the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9)', () => {
    // The run is deterministic, so stopping it after k iterations yields exactly the k-th iterate x_k. For each
    // step s = x_{k+1} - x_k = α d: f_{k+1} <= f_k + c1 g_kᵀs and |g_{k+1}ᵀs| <= c2 |g_kᵀs|.
    const x0 = Float64Array.of(-1.2, 1)
    const full = minimizeLbfgs(rosenbrock, x0, {maxIter: 200, gtol: 1e-8, ftol: 0})
    const gk = new Float64Array(2)
    const gNext = new Float64Array(2)
    let checked = 0
    for (let k = 0; k < full.iterations; k++) {
      const xk = minimizeLbfgs(rosenbrock, x0, {maxIter: k, gtol: 1e-8, ftol: 0}).x
      const xNext = minimizeLbfgs(rosenbrock, x0, {maxIter: k + 1, gtol: 1e-8, ftol: 0}).x
      const fk = rosenbrock(xk, gk)
      const fNext = rosenbrock(xNext, gNext)
      const s0 = xNext[0]! - xk[0]!
      const s1 = xNext[1]! - xk[1]!
      const slopeK = gk[0]! * s0 + gk[1]! * s1
      const slopeNext = gNext[0]! * s0 + gNext[1]! * s1
      // Rounding slack of a few ulps of f: near the optimum f and the slopes are ~1e-16 and below.
      const slack = 1e-15 * Math.max(1, Math.abs(fk))
      expect(slopeK).toBeLessThan(0)
      expect(fNext).toBeLessThanOrEqual(fk + 1e-4 * slopeK + slack)
      expect(Math.abs(slopeNext)).toBeLessThanOrEqual(0.9 * Math.abs(slopeK) + slack)
      checked++
    }
    expect(checked).toBeGreaterThan(20)
  })

  it('is deterministic: two runs give bit-identical results', () => {
    const a = minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), {maxIter: 200, gtol: 1e-8})
    const b = minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), {maxIter: 200, gtol: 1e-8})
    expect(Array.from(b.x)).toEqual(Array.from(a.x))
    expect(b.f).toBe(a.f)
    expect(b.evaluations).toBe(a.evaluations)
  })
})
