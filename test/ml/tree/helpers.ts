// Shared fixtures of the tree tests: row lists, split/grow parameters, and a node histogram with its totals.
import {HIST_BINS} from '../../../src/ml/tree/binning.js'
import type {GrowParams} from '../../../src/ml/tree/grower.js'
import {buildHistogram, histogramSize} from '../../../src/ml/tree/histogram.js'

export function allRows(n: number): Int32Array {
  return Int32Array.from({length: n}, (_, i) => i)
}

/** Split and growth parameters that refuse nothing: tests tighten what they check. */
export function growParams(overrides: Partial<GrowParams> = {}): GrowParams {
  return {
    k: 1,
    lambdaL2: 0,
    minDataInLeaf: 1,
    minSumHessian: 0,
    minGainToSplit: 0,
    catSmooth: 0,
    numLeaves: Number.POSITIVE_INFINITY,
    maxDepth: -1,
    order: 'best-first',
    ...overrides,
  }
}

/** The histogram of `rows` over every feature and its totals (K gradient sums, hessian sum, count). */
export function nodeHistogram(
  bins: Uint8Array,
  nFeatures: number,
  rows: Int32Array,
  grad: Float64Array,
  hess: Float64Array,
  k = 1,
): {hist: Float64Array; totals: Float64Array} {
  const hist = new Float64Array(histogramSize(nFeatures, k))
  buildHistogram(bins, nFeatures, rows, 0, rows.length, grad, hess, k, hist, 0, nFeatures)
  const totals = new Float64Array(k + 2)
  // Every row sits in exactly one bin of feature 0, so its bins add up to the node's totals.
  for (let b = 0; b < HIST_BINS; b++) for (let j = 0; j < k + 2; j++) totals[j] = totals[j]! + hist[b * (k + 2) + j]!
  return {hist, totals}
}
