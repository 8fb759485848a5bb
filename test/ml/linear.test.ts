import {describe, expect, it} from 'vitest'
import {DataError} from '../../src/errors.js'
import {fitRidge, predictRidge} from '../../src/ml/linear.js'
import {Rng} from '../../src/ml/rng.js'

// 40 × 3 design matrix (row-major) and target, generated once with numpy (RandomState(7), rounded to 3 decimals)
// so scikit-learn saw exactly these numbers: y ≈ 1.5 x0 - 2 x1 + 0.7 x2 + 4 + noise.
// biome-ignore format: keep the data compact
const X = Float64Array.of(
  1.691,-0.932,0.016,0.408,-1.578,0.001,-0.001,-3.509,0.509,0.6,-1.251,-0.086,0.505,-0.523,-0.121,-1.453,1.109,0.062,
  0.274,-3.053,0.825,0.154,-0.774,1.015,-0.045,-2.901,-0.203,-2.288,2.099,-0.208,-0.743,2.145,-0.826,0.535,-4.129,-0.331,
  -1.204,2.924,0.883,-0.329,1.681,-0.090,0.568,-1.506,-0.854,-1.803,0.766,1.124,0.269,-1.049,0.956,0.237,0.203,0.126,
  -0.132,-0.619,-0.717,0.502,-0.190,0.597,-0.369,-3.813,-0.050,1.700,-0.767,-0.445,-1.194,-2.100,-0.150,-1.180,2.995,
  -0.141,0.109,2.876,0.752,-0.213,0.664,0.368,-0.193,-3.556,0.327,0.894,0.831,-0.462,-0.196,-1.182,-0.150,1.297,3.059,
  0.335,0.549,1.353,-0.006,-0.076,-1.347,-0.028,2.260,1.738,-0.171,-0.472,-1.729,0.187,0.392,-2.886,0.243,-0.569,2.853,
  0.078,1.718,-0.916,-0.144,0.300,2.112,0.283,-1.234,0.366,0.011,-0.429,-1.296,0.874,
)
// biome-ignore format: keep the data compact
const Y = Float64Array.of(
  8.149,7.911,11.306,6.392,6.356,-0.344,11.463,5.903,10.237,-4.070,-2.037,12.128,-3.119,-0.033,7.174,0.770,7.201,4.526,
  4.304,5.053,11.028,8.087,6.926,-3.452,-1.945,2.799,11.782,3.387,5.707,0.217,1.862,6.880,3.788,7.577,10.780,-2.867,
  8.611,0.892,1.140,6.347,
)
const N = 40
const P = 3

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `index ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol)
  }
}

/**
 * max |Xcᵀ(yc - Xc w) - alpha·w|: the gradient of the ridge objective (halved) at w, which is zero exactly at
 * the solution. An implementation-independent check of optimality.
 */
function stationarity(
  x: Float64Array,
  nRows: number,
  nCols: number,
  y: Float64Array,
  alpha: number,
  coef: Float64Array,
  intercept: number,
): number {
  const resid = new Float64Array(nRows)
  for (let i = 0; i < nRows; i++) {
    let s = intercept
    for (let j = 0; j < nCols; j++) s += x[i * nCols + j]! * coef[j]!
    resid[i] = y[i]! - s
  }
  let worst = 0
  for (let j = 0; j < nCols; j++) {
    let g = -alpha * coef[j]!
    for (let i = 0; i < nRows; i++) g += x[i * nCols + j]! * resid[i]!
    worst = Math.max(worst, Math.abs(g))
  }
  // With an intercept the residuals must also sum to zero.
  let sum = 0
  for (let i = 0; i < nRows; i++) sum += resid[i]!
  return Math.max(worst, Math.abs(sum))
}

describe('fitRidge', () => {
  it('matches the closed form on a 5 × 2 matrix', () => {
    const x = Float64Array.of(1, 2, 2, 0, 3, 1, 4, 3, 5, 5)
    const y = Float64Array.of(3, 1, 4, 8, 9)
    const alpha = 0.5
    // By hand: centre (means x̄ = (3, 2.2), ȳ = 5), then w = (XcᵀXc + αI)⁻¹ Xcᵀyc via the 2 × 2 inverse.
    const xm = [3, 2.2]
    const ym = 5
    let a = 0
    let b = 0
    let d = 0
    let r0 = 0
    let r1 = 0
    for (let i = 0; i < 5; i++) {
      const u = x[2 * i]! - xm[0]!
      const v = x[2 * i + 1]! - xm[1]!
      const t = y[i]! - ym
      a += u * u
      b += u * v
      d += v * v
      r0 += u * t
      r1 += v * t
    }
    a += alpha
    d += alpha
    const det = a * d - b * b
    const w0 = (d * r0 - b * r1) / det
    const w1 = (a * r1 - b * r0) / det
    const model = fitRidge(x, 5, 2, y, {alpha, fitIntercept: true})
    // Double-precision arithmetic on a well-conditioned 2 × 2 system: agreement to ~1e-14; 1e-12 is generous.
    expectClose(model.coef, [w0, w1], 1e-12)
    expect(model.intercept).toBeCloseTo(ym - xm[0]! * w0 - xm[1]! * w1, 12)
  })

  it('matches scikit-learn Ridge(alpha=1) and Ridge(alpha=10) with an intercept', () => {
    // Reference: sklearn 1.2.1, Ridge(alpha).fit(X, Y).coef_ / .intercept_ (solver 'auto' = cholesky). Both are
    // direct solves in double precision, so they agree to rounding; 1e-10 allows for summation order.
    const m1 = fitRidge(X, N, P, Y, {alpha: 1, fitIntercept: true})
    expectClose(m1.coef, [1.4238805147924025, -2.0297469296618385, 0.5641898773296273], 1e-10)
    expect(Math.abs(m1.intercept - 4.028229230118264)).toBeLessThan(1e-10)
    const m10 = fitRidge(X, N, P, Y, {alpha: 10, fitIntercept: true})
    expectClose(m10.coef, [1.15271703440816, -1.9469408763197829, 0.25228872847747763], 1e-10)
    expect(Math.abs(m10.intercept - 4.092634268255706)).toBeLessThan(1e-10)
  })

  it('matches scikit-learn Ridge(alpha=0.5, fit_intercept=False)', () => {
    const m = fitRidge(X, N, P, Y, {alpha: 0.5, fitIntercept: false})
    expectClose(m.coef, [1.5829170741694922, -2.2950436556651903, 2.3436011339300884], 1e-10)
    expect(m.intercept).toBe(0)
  })

  it('returns the minimum-norm least-squares solution instead of throwing when alpha = 0 and XᵀX is singular', () => {
    // Append a fourth column x0 + x1: exactly collinear after centring. Reference: numpy.linalg.lstsq on the
    // centred data (the minimum-norm solution, what sklearn's SVD solver gives). sklearn 1.2.1's own Cholesky
    // path returns ±1.6e14 garbage here instead; we deliberately do better. The rank-deficient solve goes
    // through an eigen-decomposition of the Gram matrix (squared condition), hence the looser 1e-8.
    const xc = new Float64Array(N * 4)
    for (let i = 0; i < N; i++) {
      xc[i * 4] = X[i * 3]!
      xc[i * 4 + 1] = X[i * 3 + 1]!
      xc[i * 4 + 2] = X[i * 3 + 2]!
      xc[i * 4 + 3] = X[i * 3]! + X[i * 3 + 1]!
    }
    const m = fitRidge(xc, N, 4, Y, {alpha: 0, fitIntercept: true})
    expectClose(m.coef, [1.656826390609182, -1.8478168933414216, 0.6398791769998277, -0.19099050273223916], 1e-8)
    expect(Math.abs(m.intercept - 4.016364121796886)).toBeLessThan(1e-8)
  })

  it('gives zero weight to a constant column when alpha = 0, without throwing', () => {
    const xc = new Float64Array(N * 2)
    for (let i = 0; i < N; i++) {
      xc[i * 2] = X[i * 3]!
      xc[i * 2 + 1] = 3
    }
    const m = fitRidge(xc, N, 2, Y, {alpha: 0, fitIntercept: true})
    expect(Number.isFinite(m.coef[0]!)).toBe(true)
    expect(m.coef[1]).toBe(0)
    // The remaining coefficient is then ordinary least squares on x0 alone.
    expect(stationarity(xc, N, 2, Y, 0, m.coef, m.intercept)).toBeLessThan(1e-9)
  })

  it('satisfies the optimality conditions on shapes that exercise every block and padding edge', () => {
    // 1000 rows is not a multiple of the 256-row block; 1, 5 and 7 columns are not multiples of the 4-column
    // tile. Stationarity residuals are sums of ~1000 products of O(1..10) numbers: 1e-8 is rounding headroom.
    const rng = new Rng(3)
    for (const nCols of [1, 5, 7]) {
      const nRows = 1000
      const x = new Float64Array(nRows * nCols)
      for (let i = 0; i < x.length; i++) x[i] = rng.normal() * 2 + 1
      const y = new Float64Array(nRows)
      for (let i = 0; i < nRows; i++) {
        let s = 5
        for (let j = 0; j < nCols; j++) s += x[i * nCols + j]! * (j - 2)
        y[i] = s + rng.normal()
      }
      for (const alpha of [0, 3]) {
        const m = fitRidge(x, nRows, nCols, y, {alpha, fitIntercept: true})
        expect(stationarity(x, nRows, nCols, y, alpha, m.coef, m.intercept)).toBeLessThan(1e-8)
      }
    }
  })

  it('shrinks the coefficients as alpha grows', () => {
    const norm = (a: number): number => {
      const m = fitRidge(X, N, P, Y, {alpha: a, fitIntercept: true})
      return Math.hypot(...m.coef)
    }
    expect(norm(0)).toBeGreaterThan(norm(1))
    expect(norm(1)).toBeGreaterThan(norm(100))
    expect(norm(1e12)).toBeLessThan(1e-9)
  })

  it('throws a DataError on zero rows and a RangeError on a shape mismatch', () => {
    expect(() => fitRidge(new Float64Array(0), 0, 3, new Float64Array(0), {alpha: 1, fitIntercept: true})).toThrow(
      DataError,
    )
    expect(() => fitRidge(X, N, 4, Y, {alpha: 1, fitIntercept: true})).toThrow(RangeError)
  })
})

describe('predictRidge', () => {
  it('computes X·coef + intercept row by row', () => {
    const model = {coef: Float64Array.of(2, -1), intercept: 0.5}
    const x = Float64Array.of(1, 1, 0, 2, 3, -1)
    expect(Array.from(predictRidge(model, x, 3, 2))).toEqual([1.5, -1.5, 7.5])
  })

  it('reproduces the training fit: residuals of the sklearn-matched model sum to zero', () => {
    const m = fitRidge(X, N, P, Y, {alpha: 1, fitIntercept: true})
    const pred = predictRidge(m, X, N, P)
    let sum = 0
    for (let i = 0; i < N; i++) sum += Y[i]! - pred[i]!
    expect(Math.abs(sum)).toBeLessThan(1e-10)
  })

  it('rejects a matrix whose column count differs from the model', () => {
    expect(() => predictRidge({coef: new Float64Array(3), intercept: 0}, new Float64Array(4), 2, 2)).toThrow(RangeError)
  })
})
