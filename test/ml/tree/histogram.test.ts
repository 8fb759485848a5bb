import {describe, expect, it} from 'vitest'
import {Rng} from '../../../src/ml/rng.js'
import {HIST_BINS, MISSING_BIN} from '../../../src/ml/tree/binning.js'
import {buildHistogram, histogramSize, subtractHistogram} from '../../../src/ml/tree/histogram.js'

const N_ROWS = 200
const N_FEATURES = 3

/** nRows × nFeatures row-major bins in 0..7, with some rows in MISSING_BIN. */
function randomBins(rng: Rng): Uint8Array {
  return Uint8Array.from({length: N_ROWS * N_FEATURES}, () => (rng.nextInt(9) === 8 ? MISSING_BIN : rng.nextInt(8)))
}

/** Σ over rows[start..end) of each channel (K gradients, hessian, count) of the rows in bin b of feature f. */
function bruteForce(
  bins: Uint8Array,
  rows: Int32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  k: number,
): Float64Array {
  const c = k + 2
  const hist = new Float64Array(histogramSize(N_FEATURES, k))
  for (let f = 0; f < N_FEATURES; f++) {
    for (let b = 0; b < HIST_BINS; b++) {
      const o = (f * HIST_BINS + b) * c
      for (let i = start; i < end; i++) {
        const r = rows[i]!
        if (bins[r * N_FEATURES + f] !== b) continue
        for (let j = 0; j < k; j++) hist[o + j] = hist[o + j]! + grad[r * k + j]!
        hist[o + k] = hist[o + k]! + hess[r]!
        hist[o + k + 1] = hist[o + k + 1]! + 1
      }
    }
  }
  return hist
}

function build(
  bins: Uint8Array,
  rows: Int32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  k: number,
): Float64Array {
  const hist = new Float64Array(histogramSize(N_FEATURES, k)).fill(Number.NaN)
  buildHistogram(bins, N_FEATURES, rows, start, end, grad, hess, k, hist, 0, N_FEATURES)
  return hist
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
  return worst
}

// Row r's gradient as a multiple of 1/1024 below 8 in magnitude: every partial sum of 200 of them is a multiple
// of 2^-10 below 2^11, exactly representable, so sums in any order are exact and comparisons can be `toEqual`.
const dyadic = (rng: Rng) => (rng.nextInt(16_384) - 8192) / 1024

describe('buildHistogram', () => {
  it('sums gradients, hessians and counts per feature and bin as a brute-force sum does', () => {
    // Given rows 40..160 of a shuffled row list (the node's range), over a buffer full of NaN
    const rng = new Rng(1)
    const bins = randomBins(rng)
    const grad = Float64Array.from({length: N_ROWS}, () => dyadic(rng))
    const hess = Float64Array.from({length: N_ROWS}, () => (1 + rng.nextInt(8)) / 8)
    const rows = Int32Array.from({length: N_ROWS}, (_, i) => i)
    rng.shuffle(rows)
    // When / Then
    expect(build(bins, rows, 40, 160, grad, hess, 1)).toEqual(bruteForce(bins, rows, 40, 160, grad, hess, 1))
  })

  it('sums K = 3 gradient channels per row (nRows × K, row-major)', () => {
    const rng = new Rng(2)
    const bins = randomBins(rng)
    const grad = Float64Array.from({length: N_ROWS * 3}, () => dyadic(rng))
    const hess = Float64Array.from({length: N_ROWS}, () => (1 + rng.nextInt(8)) / 8)
    const rows = Int32Array.from({length: N_ROWS}, (_, i) => i)
    expect(build(bins, rows, 0, N_ROWS, grad, hess, 3)).toEqual(bruteForce(bins, rows, 0, N_ROWS, grad, hess, 3))
  })

  it('fills only features [fromFeature, toFeature) and leaves the others as they were', () => {
    const rng = new Rng(3)
    const bins = randomBins(rng)
    const grad = Float64Array.from({length: N_ROWS}, () => dyadic(rng))
    const hess = new Float64Array(N_ROWS).fill(1)
    const rows = Int32Array.from({length: N_ROWS}, (_, i) => i)
    const hist = new Float64Array(histogramSize(N_FEATURES, 1)).fill(-1)
    buildHistogram(bins, N_FEATURES, rows, 0, N_ROWS, grad, hess, 1, hist, 1, 2)
    const stride = HIST_BINS * 3
    const expected = bruteForce(bins, rows, 0, N_ROWS, grad, hess, 1)
    expect(Array.from(hist.subarray(stride, 2 * stride))).toEqual(Array.from(expected.subarray(stride, 2 * stride)))
    expect(hist.subarray(0, stride).every(v => v === -1)).toBe(true)
    expect(hist.subarray(2 * stride).every(v => v === -1)).toBe(true)
  })
})

describe('subtractHistogram', () => {
  // A node's rows partitioned in place: the left child holds rows[0..nLeft), the right child the rest.
  function partitioned(rng: Rng) {
    const rows = Int32Array.from({length: N_ROWS}, (_, i) => i)
    rng.shuffle(rows)
    return {rows, nLeft: 73}
  }

  it('turns the parent into exactly the sibling built from its own rows when sums are exact', () => {
    // Given dyadic gradients and hessians (every sum exact, see `dyadic`) and K = 2
    const rng = new Rng(4)
    const bins = randomBins(rng)
    const grad = Float64Array.from({length: N_ROWS * 2}, () => dyadic(rng))
    const hess = Float64Array.from({length: N_ROWS}, () => (1 + rng.nextInt(8)) / 8)
    const {rows, nLeft} = partitioned(rng)
    const parent = build(bins, rows, 0, N_ROWS, grad, hess, 2)
    const left = build(bins, rows, 0, nLeft, grad, hess, 2)
    // When
    subtractHistogram(parent, left, 2, 0, N_FEATURES)
    // Then
    expect(parent).toEqual(build(bins, rows, nLeft, N_ROWS, grad, hess, 2))
  })

  it('turns the parent into the sibling within 1e-12 for arbitrary double gradients', () => {
    // Given gradients and hessians whose sums round. A bin holds about 200 / 9 ≈ 22 rows (36 at most with this
    // seed) of |g| < 1; summing m of them errs by at most (m − 1)·2^-53·m ≈ 1.4e-13 for m = 36, so parent − left
    // and the sibling's own sum (three such sums) differ by less than 1e-12. Counts are integers and stay exact.
    const rng = new Rng(5)
    const bins = randomBins(rng)
    const grad = Float64Array.from({length: N_ROWS}, () => rng.nextFloat() * 2 - 1)
    const hess = Float64Array.from({length: N_ROWS}, () => rng.nextFloat())
    const {rows, nLeft} = partitioned(rng)
    const parent = build(bins, rows, 0, N_ROWS, grad, hess, 1)
    const left = build(bins, rows, 0, nLeft, grad, hess, 1)
    // When
    subtractHistogram(parent, left, 1, 0, N_FEATURES)
    // Then
    const right = build(bins, rows, nLeft, N_ROWS, grad, hess, 1)
    expect(maxAbsDiff(parent, right)).toBeLessThan(1e-12)
    for (let i = 2; i < parent.length; i += 3) expect(parent[i]).toBe(right[i])
  })
})
