// Histograms: per feature and bin, the sums of K gradients, of hessians and of row counts over a node's rows.
// Only the smaller child of a split is built from rows; the larger is parent minus smaller (LightGBM's
// histogram subtraction), which halves the work per tree level. Gradient boosting (K = 1) runs the same sums in
// WebAssembly when it can (wasm-histogram.ts); this kernel is the reference and the fallback.
import {HIST_BINS} from './binning.js'

/**
 * Layout of one node's histogram: nFeatures × HIST_BINS × (K + 2) float64, feature-major; per bin the K
 * gradient sums, then the hessian sum, then the count.
 */
export function histogramSize(nFeatures: number, k: number): number {
  return nFeatures * HIST_BINS * (k + 2)
}

/**
 * Adds rows[start..end) into `hist` for features [fromFeature, toFeature). `bins` is nRows × nFeatures
 * row-major, `grad` nRows × K row-major, `hess` nRows. Rows outside, features inside: each row's bins are
 * contiguous and its gradients are read once (1.6× faster than feature-major loops measured on 400k × 30).
 */
export function buildHistogram(
  bins: Uint8Array,
  nFeatures: number,
  rows: Int32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
  k: number,
  hist: Float64Array,
  fromFeature: number,
  toFeature: number,
): void {
  const c = k + 2
  const stride = 256 * c
  hist.fill(0, fromFeature * stride, toFeature * stride)
  if (k === 1) {
    for (let i = start; i < end; i++) {
      const r = rows[i]!
      const g = grad[r]!
      const h = hess[r]!
      const rb = r * nFeatures
      for (let f = fromFeature; f < toFeature; f++) {
        const o = f * stride + bins[rb + f]! * 3
        hist[o] = hist[o]! + g
        hist[o + 1] = hist[o + 1]! + h
        hist[o + 2] = hist[o + 2]! + 1
      }
    }
    return
  }
  for (let i = start; i < end; i++) {
    const r = rows[i]!
    const h = hess[r]!
    const rb = r * nFeatures
    const gb = r * k
    for (let f = fromFeature; f < toFeature; f++) {
      const o = f * stride + bins[rb + f]! * c
      for (let j = 0; j < k; j++) hist[o + j] = hist[o + j]! + grad[gb + j]!
      hist[o + k] = hist[o + k]! + h
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
