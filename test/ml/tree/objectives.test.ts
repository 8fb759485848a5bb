import {describe, expect, it} from 'vitest'
import {binaryLogloss, type Objective, softmax, squaredError} from '../../../src/ml/tree/objectives.js'

// Central differences with step h = 1e-4 err by about h² = 1e-8 times a higher derivative (≤ 1 here) plus the
// rounding of loss() (≤ 2e-15 for losses ≤ 12 here) divided by h (first derivative, 2e-11) or h² (second, 2e-7):
// 1e-6 covers both.
const STEP = 1e-4
const TOLERANCE = 1e-6

/** loss() of one row as a function of its score vector (loss() is a mean, so one row gives that row's loss). */
function rowLoss(objective: Objective, score: Float64Array, y: number): number {
  return objective.loss(score, [y], Int32Array.of(0))
}

/** Gradient and hessian diagonal of the objective at one row, next to their central differences of loss(). */
function compare(objective: Objective, scores: readonly number[], y: number, scale = 1) {
  const k = objective.k
  const grad = Array.from({length: k}, () => new Float64Array(1))
  const hess = Array.from({length: k}, () => new Float64Array(1))
  objective.gradients(Float64Array.from(scores), [y], Int32Array.of(0), grad, hess)
  for (let j = 0; j < k; j++) {
    const at = (delta: number) => {
      const s = Float64Array.from(scores)
      s[j] = s[j]! + delta
      return scale * rowLoss(objective, s, y)
    }
    const d1 = (at(STEP) - at(-STEP)) / (2 * STEP)
    const d2 = (at(STEP) - 2 * at(0) + at(-STEP)) / (STEP * STEP)
    expect(Math.abs(grad[j]![0]! - d1)).toBeLessThan(TOLERANCE)
    expect(Math.abs(hess[j]![0]! - d2)).toBeLessThan(TOLERANCE)
  }
}

describe('objective gradients', () => {
  it('squared error: g = s − y and h = 1, the derivatives of ½(s − y)² (loss() reports (s − y)²)', () => {
    // The gradients are those of half the squared error (LightGBM, scikit-learn's HalfSquaredError), while loss()
    // is the plain mean squared error used for early stopping: derivatives of ½·loss().
    for (const [s, y] of [
      [0, 1],
      [2.5, -1],
      [-3, -3],
    ] as const)
      compare(squaredError, [s], y, 0.5)
  })

  it('binary log loss: g = σ(s) − y and h = σ(s)(1 − σ(s)), the derivatives of loss()', () => {
    for (const [s, y] of [
      [0, 1],
      [2.5, 0],
      [-3, 1],
      [8, 1],
    ] as const)
      compare(binaryLogloss, [s], y)
  })

  it('softmax: g_j = p_j − [y = j] and h_j = p_j(1 − p_j), the derivatives of loss() in each score', () => {
    const objective = softmax(3)
    compare(objective, [0, 0, 0], 0)
    compare(objective, [1.5, -0.5, 0.25], 2)
    compare(objective, [-2, 3, 0.5], 1)
  })
})

describe('objective initial scores', () => {
  // The constant model's loss is smallest at initScore: any step away in any score column makes it larger.
  function expectMinimum(objective: Objective, y: readonly number[]) {
    const rows = Int32Array.from(y, (_, i) => i)
    const k = objective.k
    const init = objective.initScore(y, rows)
    const lossAt = (s: Float64Array) => {
      const score = new Float64Array(y.length * k)
      for (let i = 0; i < y.length; i++) score.set(s, i * k)
      return objective.loss(score, y, rows)
    }
    const best = lossAt(init)
    for (let j = 0; j < k; j++) {
      for (const delta of [-1e-3, 1e-3, -0.5, 0.5]) {
        const moved = Float64Array.from(init)
        moved[j] = moved[j]! + delta
        expect(lossAt(moved)).toBeGreaterThan(best)
      }
    }
    return init
  }

  it('squared error starts at the mean of y', () => {
    const init = expectMinimum(squaredError, [1, 2, 4, 9])
    expect(init[0]).toBe(4)
  })

  it('binary log loss starts at the log-odds of the positive rate', () => {
    const init = expectMinimum(binaryLogloss, [1, 0, 0, 1, 1, 1, 0, 1])
    expect(init[0]).toBeCloseTo(Math.log(5 / 3), 14)
  })

  it('softmax starts at the centred log class priors', () => {
    const init = expectMinimum(softmax(3), [0, 1, 1, 2, 2, 2, 2, 0, 2, 2])
    const logs = [Math.log(0.2), Math.log(0.2), Math.log(0.6)]
    const mean = (logs[0]! + logs[1]! + logs[2]!) / 3
    for (let j = 0; j < 3; j++) expect(init[j]).toBeCloseTo(logs[j]! - mean, 14)
  })
})
