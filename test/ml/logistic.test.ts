import {describe, expect, it} from 'vitest'
import {DataError} from '../../src/errors.js'
import {fitLogistic, logisticObjective, predictProbaLogistic} from '../../src/ml/logistic.js'
import {Rng} from '../../src/ml/rng.js'

// 40 × 3 design matrix (row-major), generated once with numpy (RandomState(7), rounded to 3 decimals), with a
// binary target (noisy linear rule, 21/19 split) and a 3-class target (argmax of noisy linear scores, 15/11/14).
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
const Y2 = Int32Array.of(1,1,1,1,1,0,0,1,1,0,0,1,0,1,0,0,1,0,1,0,1,0,0,0,0,1,1,0,1,0,0,1,1,0,1,0,0,0,0,1)
// biome-ignore format: keep the data compact
const Y3 = Int32Array.of(0,0,0,2,0,2,2,2,2,2,1,0,1,1,0,2,2,1,1,0,0,0,2,1,1,2,0,0,2,1,1,2,0,0,0,1,0,1,2,2)
const N = 40
const P = 3

// Reference numbers: the exact optimum of sklearn's objective C·Σ loss_i + ½||W||², found with scipy's L-BFGS-B
// at gtol 1e-13 (max |grad| <= 6e-10 at the end) on both the scaled form we use and on sklearn 1.2.1's own
// LinearModelLoss (they agree to 1e-13). sklearn 1.2.1's LogisticRegression(tol=1e-10) itself stops early, on
// scipy's default factr (relative f reduction 2.2e-9), and lands 1.2e-6 (binary) / 4.1e-5 (3-class) away; sklearn
// >= 1.4 passes ftol = 64·eps and gets the exact optimum as we do. Those sklearn 1.2.1 numbers are checked too,
// at a tolerance that covers its early stop.
const EXACT_BINARY = {
  coef: [0.39121291460309654, -0.603546065538397, 0.24175797209375455],
  intercept: [-0.3883581756824496],
}
const SKLEARN_121_BINARY = {
  coef: [0.39121171561594914, -0.6035461587996588, 0.24175755779183056],
  intercept: [-0.3883577016743717],
}
const EXACT_BINARY_NOINT_C01 = {coef: [0.16848503351713176, -0.43285231708158156, 0.02212006837332489]}
const EXACT_MULTI_C05 = {
  coef: [
    0.9563269048981425, -0.5850385705407888, -0.3009475523497783, -0.06561598670041426, 0.8364045589358771,
    -0.18702990362761607, -0.8907109181977283, -0.25136598839508717, 0.4879774559773943,
  ],
  intercept: [-0.08349251119566638, -0.27129957275872124, 0.3547920839543864],
}
const SKLEARN_121_MULTI_C05 = {
  coef: [
    0.9563387658725888, -0.5850431926038137, -0.3009557347841405, -0.06562506285220507, 0.8364124334465203,
    -0.18698898162400834, -0.8907137030203837, -0.2513692408427066, 0.48794471640814896,
  ],
  intercept: [-0.08349402945222022, -0.27130493472679884, 0.35479896417901874],
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i]! - expected[i]!), `index ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol)
  }
}

// With tol = 1e-10 on the gradient of the scaled objective, whose Hessian has smallest eigenvalue >= 1/(C·n)
// (the L2 term alone: 0.025 for C = 1, n = 40), the distance to the optimum is <= |g|₂/λmin ≈ 1e-10·2/0.025 ≈
// 1e-8 in the worst case; 1e-6 is the comparison the task asks for and leaves ample room.
const TIGHT = {maxIter: 1000, tol: 1e-10}

describe('fitLogistic', () => {
  it('matches scikit-learn on binary data (C = 1, with intercept)', () => {
    const m = fitLogistic(X, N, P, Y2, 2, {c: 1, fitIntercept: true, ...TIGHT})
    expect(m.converged).toBe(true)
    expect(m.nClasses).toBe(2)
    expect(m.nCols).toBe(P)
    expectClose(m.coef, EXACT_BINARY.coef, 1e-6)
    expectClose(m.intercept, EXACT_BINARY.intercept, 1e-6)
    // sklearn 1.2.1's own output is 1.2e-6 off the optimum (see above): 5e-6.
    expectClose(m.coef, SKLEARN_121_BINARY.coef, 5e-6)
    expectClose(m.intercept, SKLEARN_121_BINARY.intercept, 5e-6)
  })

  it('matches scikit-learn on binary data without an intercept (C = 0.1)', () => {
    const m = fitLogistic(X, N, P, Y2, 2, {c: 0.1, fitIntercept: false, ...TIGHT})
    expect(m.converged).toBe(true)
    expectClose(m.coef, EXACT_BINARY_NOINT_C01.coef, 1e-6)
    expect(Array.from(m.intercept)).toEqual([0])
  })

  it('matches scikit-learn multinomial coefficients on 3-class data (C = 0.5)', () => {
    const m = fitLogistic(X, N, P, Y3, 3, {c: 0.5, fitIntercept: true, ...TIGHT})
    expect(m.converged).toBe(true)
    expect(m.coef.length).toBe(9)
    expect(m.intercept.length).toBe(3)
    expectClose(m.coef, EXACT_MULTI_C05.coef, 1e-6)
    expectClose(m.intercept, EXACT_MULTI_C05.intercept, 1e-6)
    // sklearn 1.2.1's own output is 4.1e-5 off the optimum: 1e-4.
    expectClose(m.coef, SKLEARN_121_MULTI_C05.coef, 1e-4)
    expectClose(m.intercept, SKLEARN_121_MULTI_C05.intercept, 1e-4)
    // The over-parameterised softmax leaves the intercepts' common shift free; starting from zero keeps their
    // sum at zero, as in sklearn.
    expect(Math.abs(m.intercept[0]! + m.intercept[1]! + m.intercept[2]!)).toBeLessThan(1e-12)
  })

  it('gets within the default tolerance of the optimum with sklearn defaults (tol 1e-4, max_iter 100)', () => {
    // Stopping at max |grad| <= 1e-4 of the scaled objective bounds the error by ~1e-4·2/λmin; in practice the
    // L-BFGS endgame overshoots gtol by far, and 1e-3 is a safe bound for both problems.
    const b = fitLogistic(X, N, P, Y2, 2, {c: 1, maxIter: 100, tol: 1e-4, fitIntercept: true})
    expect(b.converged).toBe(true)
    expectClose(b.coef, EXACT_BINARY.coef, 1e-3)
    const m = fitLogistic(X, N, P, Y3, 3, {c: 0.5, maxIter: 100, tol: 1e-4, fitIntercept: true})
    expect(m.converged).toBe(true)
    expectClose(m.coef, EXACT_MULTI_C05.coef, 1e-3)
  })

  it('reports converged = false when maxIter is too small', () => {
    const m = fitLogistic(X, N, P, Y3, 3, {c: 0.5, maxIter: 2, tol: 1e-10, fitIntercept: true})
    expect(m.converged).toBe(false)
    expect(m.iterations).toBe(2)
  })

  it('throws DataError E_DATA_SINGLE_CLASS when there are fewer than 2 classes', () => {
    const y = new Int32Array(N)
    let error: unknown
    try {
      fitLogistic(X, N, P, y, 1, {c: 1, maxIter: 100, tol: 1e-4, fitIntercept: true})
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(DataError)
    expect((error as DataError).code).toBe('E_DATA_SINGLE_CLASS')
    expect((error as DataError).hint).toBeTruthy()
  })

  it('rejects class indices outside 0..nClasses-1', () => {
    const y = Int32Array.from(Y3)
    y[5] = 3
    expect(() => fitLogistic(X, N, P, y, 3, {c: 1, maxIter: 100, tol: 1e-4, fitIntercept: true})).toThrow(RangeError)
  })

  it('stays finite on perfectly separable data with a weak penalty', () => {
    // Without the L2 term the optimum would be at infinity; the stable loss forms must not overflow on the way.
    const x = Float64Array.of(-3, -2, -1, 1, 2, 3)
    const y = Int32Array.of(0, 0, 0, 1, 1, 1)
    const m = fitLogistic(x, 6, 1, y, 2, {c: 1e6, maxIter: 200, tol: 1e-8, fitIntercept: true})
    expect(Number.isFinite(m.coef[0]!)).toBe(true)
    expect(m.coef[0]).toBeGreaterThan(3)
    const proba = predictProbaLogistic(m, x, 6)
    expect(proba.every(Number.isFinite)).toBe(true)
  })
})

describe('predictProbaLogistic', () => {
  it('gives [1 - p, p] probabilities matching the reference model on binary data', () => {
    const m = fitLogistic(X, N, P, Y2, 2, {c: 1, fitIntercept: true, ...TIGHT})
    const proba = predictProbaLogistic(m, X, N)
    expect(proba.length).toBe(2 * N)
    // p for rows 0, 1, 2, 39 under the exact optimum (probabilities move at most ~|x|·Δw/4 ≈ 1e-6): 1e-6.
    const expectedP = [0.6983716801266876, 0.6734639567956576, 0.864379171611738, 0.6076163579027837]
    ;[0, 1, 2, 39].forEach((row, k) => {
      expect(Math.abs(proba[2 * row + 1]! - expectedP[k]!)).toBeLessThan(1e-6)
      expect(proba[2 * row]! + proba[2 * row + 1]!).toBeCloseTo(1, 14)
    })
  })

  it('gives softmax probabilities matching the reference model on 3-class data', () => {
    const m = fitLogistic(X, N, P, Y3, 3, {c: 0.5, fitIntercept: true, ...TIGHT})
    const proba = predictProbaLogistic(m, X, N)
    expect(proba.length).toBe(3 * N)
    // biome-ignore format: one row per line
    const expected = [
      0.9175763316045816, 0.0359763207871986, 0.0464473476082197,
      0.6714858936484729, 0.03893174195771993, 0.2895823643938073,
      0.5795347397403425, 0.00347495188181327, 0.4169903083778443,
      0.1769279785674699, 0.03979426940532011, 0.78327775202721,
    ]
    const got = [0, 1, 2, 39].flatMap(row => Array.from(proba.subarray(3 * row, 3 * row + 3)))
    expectClose(got, expected, 1e-6)
    for (let i = 0; i < N; i++) expect(proba[3 * i]! + proba[3 * i + 1]! + proba[3 * i + 2]!).toBeCloseTo(1, 14)
  })

  it('does not overflow on extreme scores', () => {
    const m = {
      nClasses: 3,
      nCols: 1,
      coef: Float64Array.of(1000, 0, -1000),
      intercept: new Float64Array(3),
      iterations: 0,
      converged: true,
    }
    const proba = predictProbaLogistic(m, Float64Array.of(5, -5), 2)
    expectClose(proba, [1, 0, 0, 0, 0, 1], 0)
    const b = {...m, nClasses: 2, coef: Float64Array.of(1000), intercept: new Float64Array(1)}
    expectClose(predictProbaLogistic(b, Float64Array.of(5, -5), 2), [0, 1, 1, 0], 0)
  })
})

describe('logisticObjective', () => {
  /** Central differences, step h: truncation error O(h²·f''') and rounding O(eps·f/h); h = 1e-5 balances them. */
  function checkGradient(
    x: Float64Array,
    nRows: number,
    nCols: number,
    y: Int32Array,
    nClasses: number,
    fitIntercept: boolean,
  ): number {
    const f = logisticObjective(x, nRows, nCols, y, nClasses, 0.7, fitIntercept)
    const kw = nClasses === 2 ? 1 : nClasses
    const dim = kw * nCols + (fitIntercept ? kw : 0)
    const rng = new Rng(17)
    const w = Float64Array.from({length: dim}, () => rng.normal() * 0.5)
    const g = new Float64Array(dim)
    f(w, g)
    const scratch = new Float64Array(dim)
    const h = 1e-5
    let worst = 0
    for (let k = 0; k < dim; k++) {
      const wp = Float64Array.from(w)
      const wm = Float64Array.from(w)
      wp[k] = wp[k]! + h
      wm[k] = wm[k]! - h
      const numeric = (f(wp, scratch) - f(wm, scratch)) / (2 * h)
      worst = Math.max(worst, Math.abs(numeric - g[k]!))
    }
    return worst
  }

  it('has a gradient that matches central finite differences (binary and multiclass, with and without intercept)', () => {
    // Objective values are O(1) and third derivatives O(1), so central differences with h = 1e-5 are accurate
    // to ~1e-10; 1e-7 flags any wrong term (a missing 1/n or penalty term is off by > 1e-3).
    expect(checkGradient(X, N, P, Y2, 2, true)).toBeLessThan(1e-7)
    expect(checkGradient(X, N, P, Y2, 2, false)).toBeLessThan(1e-7)
    expect(checkGradient(X, N, P, Y3, 3, true)).toBeLessThan(1e-7)
    expect(checkGradient(X, N, P, Y3, 3, false)).toBeLessThan(1e-7)
    // 37 rows: not a multiple of the 4-row block, so the padded tail is exercised.
    expect(checkGradient(X.subarray(0, 37 * P), 37, P, Y3.subarray(0, 37), 3, true)).toBeLessThan(1e-7)
    expect(checkGradient(X.subarray(0, 38 * P), 38, P, Y2.subarray(0, 38), 2, true)).toBeLessThan(1e-7)
  })

  it('computes the mean loss plus ||W||²/(2·C·n) (sklearn objective divided by C·n)', () => {
    // At W = 0, b = 0 every class is equally likely: binary loss log 2 per row, K-class loss log K per row.
    const f2 = logisticObjective(X, N, P, Y2, 2, 1, true)
    expect(f2(new Float64Array(P + 1), new Float64Array(P + 1))).toBeCloseTo(Math.LN2, 14)
    const f3 = logisticObjective(X, N, P, Y3, 3, 1, true)
    expect(f3(new Float64Array(3 * P + 3), new Float64Array(3 * P + 3))).toBeCloseTo(Math.log(3), 14)
    // The penalty alone: X = 0 keeps the data term at log 2; w = (3, 4) adds 25 / (2·C·n) = 25 / (2·2·10).
    const fz = logisticObjective(new Float64Array(20), 10, 2, new Int32Array(10), 2, 2, false)
    expect(fz(Float64Array.of(3, 4), new Float64Array(2))).toBeCloseTo(Math.LN2 + 25 / 40, 14)
  })
})
