// Ridge regression, equivalent to scikit-learn's Ridge(alpha, fit_intercept) with its 'cholesky' solver: centre
// X and y, solve the normal equations (XᵀX + αI) w = Xᵀy by Cholesky, and fall back to a minimum-norm
// eigen-solve (like sklearn's fallback to 'svd') when the system is singular.

import {DataError} from '../errors.js'

export interface RidgeModel {
  readonly coef: Float64Array
  readonly intercept: number
}

export interface RidgeParams {
  /** L2 penalty on the coefficients (not on the intercept); >= 0. */
  alpha: number
  fitIntercept: boolean
}

const EPS = 2.220446049250313e-16
// Rows per block when accumulating XᵀX: the block is copied column-major so each Gram entry of the block is a
// dot product of contiguous vectors summed in a register, instead of a read-modify-write of the p×p matrix per
// row (about 4× faster in V8). 256 rows × 52 columns × 8 bytes ≈ 104 KiB, inside L2.
const BLOCK_ROWS = 256

/**
 * Fits ridge regression: minimises ||y - Xw - b||² + alpha·||w||².
 * @param X design matrix, nRows × nCols, ROW-major (X[i * nCols + j]), no missing values.
 * @param y nRows targets.
 */
export function fitRidge(
  X: Float64Array,
  nRows: number,
  nCols: number,
  y: Float64Array,
  params: RidgeParams,
): RidgeModel {
  checkShape(X, nRows, nCols)
  if (y.length !== nRows) throw new RangeError(`fitRidge: y has ${y.length} values for ${nRows} rows`)
  if (!(params.alpha >= 0)) throw new RangeError(`fitRidge: alpha must be >= 0, got ${params.alpha}`)
  if (nRows === 0) {
    throw new DataError('E_DATA_EMPTY', 'Cannot fit ridge regression on zero rows.', {
      hint: 'Check the data file and any row filters.',
    })
  }
  const p = nCols
  const alpha = params.alpha

  // Column and target means, subtracted on the fly below rather than forming XᵀX - n·μμᵀ afterwards, which
  // would cancel catastrophically for columns with large means.
  const xMean = new Float64Array(p)
  let yMean = 0
  if (params.fitIntercept) {
    for (let i = 0; i < nRows; i++) {
      const row = i * p
      for (let j = 0; j < p; j++) xMean[j] = xMean[j]! + X[row + j]!
      yMean += y[i]!
    }
    for (let j = 0; j < p; j++) xMean[j] = xMean[j]! / nRows
    yMean /= nRows
  }

  // G = XcᵀXc and b = Xcᵀyc. Rows are processed in blocks copied (centred) into a column-major buffer whose
  // column count is padded with zero columns to a multiple of 4; each pass then computes a 2×4 tile of G in
  // eight register accumulators (six loads per eight multiply-adds), covering the upper triangle and a few
  // harmless lower entries. The padded Gram is pp × pp; only its upper p × p triangle is read back.
  const pp = (p + 3) & ~3
  const gramPad = new Float64Array(pp * pp)
  const xty = new Float64Array(p)
  const block = new Float64Array(BLOCK_ROWS * pp)
  const yBlock = new Float64Array(BLOCK_ROWS)
  for (let start = 0; start < nRows; start += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, nRows - start)
    for (let r = 0; r < rows; r++) {
      const src = (start + r) * p
      for (let j = 0; j < p; j++) block[j * BLOCK_ROWS + r] = X[src + j]! - xMean[j]!
      yBlock[r] = y[start + r]! - yMean
    }
    for (let j = 0; j < p; j++) {
      const cj = j * BLOCK_ROWS
      let sy = 0
      for (let r = 0; r < rows; r++) sy += block[cj + r]! * yBlock[r]!
      xty[j] = xty[j]! + sy
    }
    for (let j = 0; j < pp; j += 2) {
      const a0 = j * BLOCK_ROWS
      const a1 = a0 + BLOCK_ROWS
      for (let k = j & ~3; k < pp; k += 4) {
        const b0 = k * BLOCK_ROWS
        const b1 = b0 + BLOCK_ROWS
        const b2 = b1 + BLOCK_ROWS
        const b3 = b2 + BLOCK_ROWS
        let s00 = 0
        let s01 = 0
        let s02 = 0
        let s03 = 0
        let s10 = 0
        let s11 = 0
        let s12 = 0
        let s13 = 0
        for (let r = 0; r < rows; r++) {
          const u0 = block[a0 + r]!
          const u1 = block[a1 + r]!
          const v0 = block[b0 + r]!
          const v1 = block[b1 + r]!
          const v2 = block[b2 + r]!
          const v3 = block[b3 + r]!
          s00 += u0 * v0
          s01 += u0 * v1
          s02 += u0 * v2
          s03 += u0 * v3
          s10 += u1 * v0
          s11 += u1 * v1
          s12 += u1 * v2
          s13 += u1 * v3
        }
        const o0 = j * pp + k
        const o1 = o0 + pp
        gramPad[o0] = gramPad[o0]! + s00
        gramPad[o0 + 1] = gramPad[o0 + 1]! + s01
        gramPad[o0 + 2] = gramPad[o0 + 2]! + s02
        gramPad[o0 + 3] = gramPad[o0 + 3]! + s03
        gramPad[o1] = gramPad[o1]! + s10
        gramPad[o1 + 1] = gramPad[o1 + 1]! + s11
        gramPad[o1 + 2] = gramPad[o1 + 2]! + s12
        gramPad[o1 + 3] = gramPad[o1 + 3]! + s13
      }
    }
  }
  const gram = new Float64Array(p * p)
  for (let j = 0; j < p; j++) {
    for (let k = j; k < p; k++) {
      const v = gramPad[j * pp + k]!
      gram[j * p + k] = v
      gram[k * p + j] = v
    }
    gram[j * p + j] = gram[j * p + j]! + alpha
  }

  const coef = solveSpd(gram, xty, p) ?? solveMinNorm(gram, xty, p)
  let intercept = 0
  if (params.fitIntercept) {
    intercept = yMean
    for (let j = 0; j < p; j++) intercept -= xMean[j]! * coef[j]!
  }
  return {coef, intercept}
}

/** X (nRows × nCols, ROW-major, no missing values) times coef, plus the intercept. */
export function predictRidge(model: RidgeModel, X: Float64Array, nRows: number, nCols: number): Float64Array {
  checkShape(X, nRows, nCols)
  if (model.coef.length !== nCols) {
    throw new RangeError(`predictRidge: model has ${model.coef.length} coefficients, X has ${nCols} columns`)
  }
  const out = new Float64Array(nRows)
  const w = model.coef
  const b = model.intercept
  for (let i = 0; i < nRows; i++) {
    const row = i * nCols
    let s = b
    for (let j = 0; j < nCols; j++) s += X[row + j]! * w[j]!
    out[i] = s
  }
  return out
}

function checkShape(X: Float64Array, nRows: number, nCols: number): void {
  if (!Number.isInteger(nRows) || !Number.isInteger(nCols) || nRows < 0 || nCols < 0 || X.length !== nRows * nCols) {
    throw new RangeError(`X has ${X.length} values, expected ${nRows} × ${nCols}`)
  }
}

/**
 * Solves A x = b for symmetric positive definite A (p×p, full storage) by Cholesky–Banachiewicz (Golub & Van
 * Loan, alg. 4.2.1). Returns undefined when A is singular to working precision: a pivot that is not clearly
 * positive relative to its diagonal means the solve would amplify rounding into garbage, as it would for an
 * alpha = 0 fit with collinear or constant columns.
 */
function solveSpd(a: Float64Array, b: Float64Array, p: number): Float64Array | undefined {
  const l = new Float64Array(p * p)
  const tol = Math.max(p, 1) * EPS * 16
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * p + j]!
      for (let k = 0; k < j; k++) s -= l[i * p + k]! * l[j * p + k]!
      if (i === j) {
        if (!(s > tol * a[i * p + i]!) || !(s > 0)) return undefined
        l[i * p + i] = Math.sqrt(s)
      } else {
        l[i * p + j] = s / l[j * p + j]!
      }
    }
  }
  const x = new Float64Array(p)
  for (let i = 0; i < p; i++) {
    let s = b[i]!
    for (let k = 0; k < i; k++) s -= l[i * p + k]! * x[k]!
    x[i] = s / l[i * p + i]!
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = x[i]!
    for (let k = i + 1; k < p; k++) s -= l[k * p + i]! * x[k]!
    x[i] = s / l[i * p + i]!
  }
  return x
}

/**
 * Minimum-norm solution of A x = b for symmetric positive semi-definite A: x = Σ_{λ_i > tol} v_i (v_iᵀb) / λ_i,
 * from a cyclic Jacobi eigen-decomposition (Golub & Van Loan, alg. 8.5.3). Equivalent to sklearn's SVD fallback,
 * whose min-norm least-squares solution is the pseudo-inverse of XᵀX applied to Xᵀy. The cut-off follows
 * numpy's matrix_rank default (max eigenvalue × size × eps).
 */
function solveMinNorm(a: Float64Array, b: Float64Array, p: number): Float64Array {
  const m = Float64Array.from(a)
  const v = new Float64Array(p * p)
  for (let i = 0; i < p; i++) v[i * p + i] = 1
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    let diag = 0
    for (let i = 0; i < p; i++) {
      diag += m[i * p + i]! * m[i * p + i]!
      for (let j = i + 1; j < p; j++) off += m[i * p + j]! * m[i * p + j]!
    }
    if (off <= EPS * EPS * diag || off === 0) break
    for (let pi = 0; pi < p - 1; pi++) {
      for (let q = pi + 1; q < p; q++) {
        const apq = m[pi * p + q]!
        if (apq === 0) continue
        const app = m[pi * p + pi]!
        const aqq = m[q * p + q]!
        // Rotation angle from Golub & Van Loan's sym.schur2: t = tan θ, the smaller root for stability.
        const tau = (aqq - app) / (2 * apq)
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau))
        const c = 1 / Math.sqrt(1 + t * t)
        const s = t * c
        for (let k = 0; k < p; k++) {
          const mkp = m[k * p + pi]!
          const mkq = m[k * p + q]!
          m[k * p + pi] = c * mkp - s * mkq
          m[k * p + q] = s * mkp + c * mkq
        }
        for (let k = 0; k < p; k++) {
          const mpk = m[pi * p + k]!
          const mqk = m[q * p + k]!
          m[pi * p + k] = c * mpk - s * mqk
          m[q * p + k] = s * mpk + c * mqk
        }
        for (let k = 0; k < p; k++) {
          const vkp = v[k * p + pi]!
          const vkq = v[k * p + q]!
          v[k * p + pi] = c * vkp - s * vkq
          v[k * p + q] = s * vkp + c * vkq
        }
      }
    }
  }
  let lambdaMax = 0
  for (let i = 0; i < p; i++) lambdaMax = Math.max(lambdaMax, m[i * p + i]!)
  const cutoff = lambdaMax * Math.max(p, 1) * EPS
  const x = new Float64Array(p)
  for (let e = 0; e < p; e++) {
    const lambda = m[e * p + e]!
    if (!(lambda > cutoff)) continue
    let vb = 0
    for (let k = 0; k < p; k++) vb += v[k * p + e]! * b[k]!
    const scale = vb / lambda
    for (let k = 0; k < p; k++) x[k] = x[k]! + scale * v[k * p + e]!
  }
  return x
}
