// Split finding on a node histogram. Gain is the reduction of Σ_k G_k² / (H + λ) (XGBoost/LightGBM's
// second-order gain; with g = -y and h = 1 it is the squared-error and Gini impurity decrease of CART).
// Missing values try both sides; categories are ordered by G/(H + smoothing) and split as a set (LightGBM).
import {type BinnedData, HIST_BINS, MISSING_BIN} from './binning.js'

export interface SplitConstraints {
  readonly k: number
  readonly lambdaL2: number
  readonly minDataInLeaf: number
  readonly minSumHessian: number
  readonly minGainToSplit: number
  /** Added to H when ordering categories, so rare categories do not look extreme. */
  readonly catSmooth: number
}

export interface Split {
  readonly feature: number
  readonly gain: number
  /** Numeric: rows whose bin is <= this go left (-1: only missing values go left). */
  readonly bin: number
  /** Categorical: bins (categories) that go left; null for numeric splits. */
  readonly leftBins: Uint8Array | null
  readonly missingLeft: boolean
  /** K gradient sums, hessian sum and count of the left child (right = node − left). */
  readonly left: Float64Array
}

/** Σ_k G_k² / (H + λ): the node's "score"; gains are differences of it. */
export function nodeScore(stats: Float64Array, offset: number, k: number, lambda: number): number {
  const h = stats[offset + k]! + lambda
  if (h <= 0) return 0
  let s = 0
  for (let j = 0; j < k; j++) s += stats[offset + j]! * stats[offset + j]!
  return s / h
}

/**
 * Best split of a node over `features` (or all), given its histogram and its totals (K + 2 values).
 * Returns undefined when no split satisfies the constraints with a positive gain.
 */
export function findBestSplit(
  data: BinnedData,
  hist: Float64Array,
  totals: Float64Array,
  features: Int32Array | null,
  cons: SplitConstraints,
): Split | undefined {
  const k = cons.k
  const c = k + 2
  const parentScore = nodeScore(totals, 0, k, cons.lambdaL2)
  let best: Split | undefined
  const left = new Float64Array(c)
  const candidate = new Float64Array(c)
  const nF = features ? features.length : data.nFeatures
  for (let fi = 0; fi < nF; fi++) {
    const f = features ? features[fi]! : fi
    const spec = data.features[f]!
    const base = f * HIST_BINS * c
    const missingOffset = base + MISSING_BIN * c
    const missingCount = hist[missingOffset + k + 1]!
    const consider = (
      gain: number,
      bin: number,
      leftBins: Uint8Array | null,
      missingLeft: boolean,
      stats: Float64Array,
    ) => {
      if (gain > cons.minGainToSplit && gain > 1e-12 && (!best || gain > best.gain)) {
        best = {feature: f, gain, bin, leftBins, missingLeft, left: Float64Array.from(stats)}
      }
    }
    if (spec.kind === 'numeric') {
      // Two scans: missing values with the right child, then with the left one.
      for (const missingLeft of missingCount > 0 ? [false, true] : [false]) {
        if (missingLeft) {
          for (let j = 0; j < c; j++) left[j] = hist[missingOffset + j]!
          // Missing values alone on the left: threshold below every value (bin -1).
          const gain = splitGain(left, totals, k, cons, parentScore, candidate)
          if (gain !== undefined) consider(gain, -1, null, true, left)
        } else left.fill(0)
        for (let b = 0; b < spec.nBins - 1; b++) {
          const o = base + b * c
          for (let j = 0; j < c; j++) left[j] = left[j]! + hist[o + j]!
          const gain = splitGain(left, totals, k, cons, parentScore, candidate)
          if (gain !== undefined)
            consider(gain, b, null, missingLeft || (missingCount === 0 && left[k + 1]! >= totals[k + 1]! / 2), left)
        }
      }
      continue
    }
    // Categorical: order the bins present in the node by G/(H + smoothing) and scan prefixes as the left set.
    const present: number[] = []
    for (let b = 0; b < spec.nBins; b++) if (hist[base + b * c + k + 1]! > 0) present.push(b)
    if (present.length < (missingCount > 0 ? 1 : 2)) continue
    const key = (b: number) => {
      const o = base + b * c
      let g = 0
      for (let j = 0; j < k; j++) g += hist[o + j]!
      return g / (hist[o + k]! + cons.catSmooth)
    }
    present.sort((a, b) => key(a) - key(b) || a - b)
    for (const missingLeft of missingCount > 0 ? [false, true] : [false]) {
      if (missingLeft) for (let j = 0; j < c; j++) left[j] = hist[missingOffset + j]!
      else left.fill(0)
      // Children must stay non-empty: the constraints refuse a count below minDataInLeaf (>= 1).
      for (let p = missingLeft ? -1 : 0; p < present.length; p++) {
        if (p >= 0) {
          const o = base + present[p]! * c
          for (let j = 0; j < c; j++) left[j] = left[j]! + hist[o + j]!
        }
        const gain = splitGain(left, totals, k, cons, parentScore, candidate)
        if (gain === undefined) continue
        const leftBins = Uint8Array.from(present.slice(0, p + 1)).sort()
        consider(gain, -1, leftBins, missingLeft || (missingCount === 0 && left[k + 1]! >= totals[k + 1]! / 2), left)
      }
    }
  }
  return best
}

/** Gain of sending `left` to the left child, or undefined when a child breaks the constraints. */
function splitGain(
  left: Float64Array,
  totals: Float64Array,
  k: number,
  cons: SplitConstraints,
  parentScore: number,
  right: Float64Array,
): number | undefined {
  const c = k + 2
  for (let j = 0; j < c; j++) right[j] = totals[j]! - left[j]!
  const minCount = Math.max(1, cons.minDataInLeaf)
  if (left[k + 1]! < minCount || right[k + 1]! < minCount) return undefined
  if (left[k]! < cons.minSumHessian || right[k]! < cons.minSumHessian) return undefined
  return nodeScore(left, 0, k, cons.lambdaL2) + nodeScore(right, 0, k, cons.lambdaL2) - parentScore
}
