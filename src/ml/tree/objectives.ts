// Boosting objectives: the initial score and per-row gradients / hessians of the loss with respect to the
// raw score. Squared error for regression, log loss for binary, softmax cross-entropy for multiclass.

export interface Objective {
  readonly name: 'squared_error' | 'binary_logloss' | 'softmax'
  /** Raw scores per row: 1, or K for softmax. */
  readonly k: number
  /** The constant score before any tree (the loss minimiser), per score column. */
  initScore(y: ArrayLike<number>, rows: Int32Array): Float64Array
  /** Fills grad[j][r], hess[j][r] for each score column j and row r in `rows`; score is nRows × k row-major. */
  gradients(
    score: Float64Array,
    y: ArrayLike<number>,
    rows: Int32Array,
    grad: Float64Array[],
    hess: Float64Array[],
  ): void
  /** Mean loss over `rows` (for early stopping). */
  loss(score: Float64Array, y: ArrayLike<number>, rows: Int32Array): number
}

export const squaredError: Objective = {
  name: 'squared_error',
  k: 1,
  initScore(y, rows) {
    let s = 0
    for (const r of rows) s += y[r]!
    return Float64Array.of(rows.length > 0 ? s / rows.length : 0)
  },
  gradients(score, y, rows, grad, hess) {
    const g = grad[0]!
    const h = hess[0]!
    for (const r of rows) {
      g[r] = score[r]! - y[r]!
      h[r] = 1
    }
  },
  loss(score, y, rows) {
    let s = 0
    for (const r of rows) s += (score[r]! - y[r]!) ** 2
    return s / rows.length
  },
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))
}

/** y holds class indices 0 / 1. */
export const binaryLogloss: Objective = {
  name: 'binary_logloss',
  k: 1,
  initScore(y, rows) {
    let positives = 0
    for (const r of rows) positives += y[r]!
    const p = Math.min(Math.max(positives / rows.length, 1e-15), 1 - 1e-15)
    return Float64Array.of(Math.log(p / (1 - p)))
  },
  gradients(score, y, rows, grad, hess) {
    const g = grad[0]!
    const h = hess[0]!
    for (const r of rows) {
      const p = sigmoid(score[r]!)
      g[r] = p - y[r]!
      h[r] = Math.max(p * (1 - p), 1e-16)
    }
  },
  loss(score, y, rows) {
    let s = 0
    for (const r of rows) {
      const z = score[r]!
      // log(1 + e^z) - y z, computed without overflow
      s += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y[r]! * z
    }
    return s / rows.length
  },
}

/** Softmax cross-entropy over K classes; y holds class indices. One tree per class and iteration. */
export function softmax(k: number): Objective {
  const probs = new Float64Array(k)
  const softmaxRow = (score: Float64Array, r: number) => {
    let max = Number.NEGATIVE_INFINITY
    for (let j = 0; j < k; j++) max = Math.max(max, score[r * k + j]!)
    let sum = 0
    for (let j = 0; j < k; j++) {
      probs[j] = Math.exp(score[r * k + j]! - max)
      sum += probs[j]!
    }
    for (let j = 0; j < k; j++) probs[j] = probs[j]! / sum
  }
  return {
    name: 'softmax',
    k,
    initScore(y, rows) {
      const counts = new Float64Array(k)
      for (const r of rows) counts[y[r]!] = counts[y[r]!]! + 1
      // log priors, centred: any constant shift gives the same probabilities
      const logs = Float64Array.from(counts, c => Math.log(Math.max(c / rows.length, 1e-15)))
      const mean = logs.reduce((a, b) => a + b, 0) / k
      return logs.map(v => v - mean)
    },
    gradients(score, y, rows, grad, hess) {
      for (const r of rows) {
        softmaxRow(score, r)
        const label = y[r]!
        for (let j = 0; j < k; j++) {
          const p = probs[j]!
          grad[j]![r] = p - (j === label ? 1 : 0)
          hess[j]![r] = Math.max(p * (1 - p), 1e-16)
        }
      }
    },
    loss(score, y, rows) {
      let s = 0
      for (const r of rows) {
        softmaxRow(score, r)
        s -= Math.log(Math.max(probs[y[r]!]!, 1e-15))
      }
      return s / rows.length
    },
  }
}
