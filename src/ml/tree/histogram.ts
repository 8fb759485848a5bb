// Histograms: per feature and bin, the sums of K gradients, of hessians and of row counts over a node's rows.
// Only the smaller child of a split is built from rows; the larger is parent minus smaller (LightGBM's
// histogram subtraction), which halves the work per tree level.
import {HIST_BINS} from './binning.js'

/**
 * Layout of one node's histogram: nFeatures × HIST_BINS × (K + 2) float64, feature-major; per bin the K
 * gradient sums, then the hessian sum, then the count.
 */
export function histogramSize(nFeatures: number, k: number): number {
  return nFeatures * HIST_BINS * (k + 2)
}

/**
 * Adds rows[start..end) into `hist` for features [fromFeature, toFeature). `grad` is nRows × K row-major,
 * `hess` nRows. The node's gradients are first gathered into contiguous buffers (LightGBM's "ordered
 * gradients") so that the per-feature loops read memory in order.
 */
export function buildHistogram(
  bins: Uint8Array,
  nRows: number,
  rows: Int32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  k: number,
  hist: Float64Array,
  fromFeature: number,
  toFeature: number,
  scratch: Float64Array,
): void {
  const m = end - start
  const c = k + 2
  const stride = HIST_BINS * c
  hist.fill(0, fromFeature * stride, toFeature * stride)
  if (k === 1) {
    // scratch holds [g, h] pairs of the node's rows
    for (let i = 0; i < m; i++) {
      const r = rows[start + i]!
      scratch[2 * i] = grad[r]!
      scratch[2 * i + 1] = hess[r]!
    }
    for (let f = fromFeature; f < toFeature; f++) {
      const base = f * stride
      const col = f * nRows
      for (let i = 0; i < m; i++) {
        const o = base + bins[col + rows[start + i]!]! * 3
        hist[o] = hist[o]! + scratch[2 * i]!
        hist[o + 1] = hist[o + 1]! + scratch[2 * i + 1]!
        hist[o + 2] = hist[o + 2]! + 1
      }
    }
    return
  }
  for (let i = 0; i < m; i++) {
    const r = rows[start + i]!
    for (let j = 0; j < k; j++) scratch[i * (k + 1) + j] = grad[r * k + j]!
    scratch[i * (k + 1) + k] = hess[r]!
  }
  for (let f = fromFeature; f < toFeature; f++) {
    const base = f * stride
    const col = f * nRows
    for (let i = 0; i < m; i++) {
      const o = base + bins[col + rows[start + i]!]! * c
      const s = i * (k + 1)
      for (let j = 0; j <= k; j++) hist[o + j] = hist[o + j]! + scratch[s + j]!
      hist[o + k + 1] = hist[o + k + 1]! + 1
    }
  }
}

/** parent -= child, for features [fromFeature, toFeature): parent becomes the sibling's histogram. */
export function subtractHistogram(
  parent: Float64Array,
  child: Float64Array,
  k: number,
  fromFeature: number,
  toFeature: number,
): void {
  const stride = HIST_BINS * (k + 2)
  for (let i = fromFeature * stride, e = toFeature * stride; i < e; i++) parent[i] = parent[i]! - child[i]!
}
