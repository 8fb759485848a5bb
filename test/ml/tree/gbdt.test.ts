import {describe, expect, it} from 'vitest'
import {Rng} from '../../../src/ml/rng.js'
import {trainTestSplit} from '../../../src/ml/split.js'
import {fitGbdt, type GbdtInput, type GbdtModel, type GbdtParams, predictGbdtRaw} from '../../../src/ml/tree/gbdt.js'
import {squaredError} from '../../../src/ml/tree/objectives.js'
import {leafIndex} from '../../../src/ml/tree/tree.js'
import {allRows} from './helpers.js'

/** The defaults of `--algo gbdt` (src/ml/algorithms.ts), with overrides. */
function gbdtParams(overrides: Partial<GbdtParams> = {}): GbdtParams {
  return {
    nEstimators: 100,
    learningRate: 0.1,
    numLeaves: 31,
    maxDepth: -1,
    minDataInLeaf: 20,
    minSumHessianInLeaf: 1e-3,
    lambdaL2: 0,
    minGainToSplit: 0,
    maxBins: 255,
    baggingFraction: 1,
    featureFraction: 1,
    earlyStoppingRounds: 0,
    validationFraction: 0.1,
    catSmooth: 10,
    ...overrides,
  }
}

/** n rows of two uniform features on [0, 10) and a category 0..3 (10% missing); y = f(x) + noise. */
function regression(seed: number, n: number, noise: number): GbdtInput {
  const rng = new Rng(seed)
  const x0 = Float64Array.from({length: n}, () => rng.nextFloat() * 10)
  const x1 = Float64Array.from({length: n}, () => rng.nextFloat() * 10)
  const c = Float64Array.from({length: n}, () => (rng.nextInt(10) === 0 ? Number.NaN : rng.nextInt(4)))
  const y = Float64Array.from({length: n}, (_, i) => Math.sin(x0[i]!) + 0.2 * x1[i]! + noise * rng.normal())
  return {columns: [x0, x1, c], categorical: [false, false, true], rows: allRows(n), y, nClasses: 0}
}

/** The model with only its first `iterations` iterations of trees. */
function truncated(model: GbdtModel, iterations: number): GbdtModel {
  const n = iterations * model.k
  return {...model, trees: model.trees.slice(0, n), treeClass: model.treeClass.slice(0, n), iterations}
}

function mse(model: GbdtModel, input: GbdtInput, rows: Int32Array): number {
  const raw = predictGbdtRaw(model, input.columns, input.y.length)
  return squaredError.loss(raw, input.y, rows)
}

describe('fitGbdt', () => {
  it('drives the training loss of a noiseless step to zero, by the learning rate per tree', () => {
    // Given x = 0, 0.1, ..., 9.9 and y = 10 for x > 3.5, else 0 (64 and 36 rows; variance 23.04)
    const x = Float64Array.from({length: 100}, (_, i) => i / 10)
    const y = Float64Array.from(x, v => (v > 3.5 ? 10 : 0))
    const input: GbdtInput = {columns: [x], categorical: [false], rows: allRows(100), y, nClasses: 0}
    // When
    const model = fitGbdt(input, gbdtParams({nEstimators: 20, learningRate: 0.5, minDataInLeaf: 1}), 1)
    // Then: each tree splits between 3.5 and 3.6 and removes half of every residual: the loss is 23.04 × (1/2)^(2 × 20)
    expect(model.trees.every(t => t.nNodes === 3 && t.threshold[0] === 3.55)).toBe(true)
    const loss = mse(model, input, allRows(100))
    expect(loss).toBeLessThan(1e-9)
    expect(loss / (23.04 * 0.25 ** 20)).toBeCloseTo(1, 6)
  })

  it('stops early once the validation loss has not improved for earlyStoppingRounds, keeping the best iteration', () => {
    // Given noisy data that 31-leaf trees overfit within a few dozen iterations
    const seed = 11
    const input = regression(seed, 400, 1)
    const params = gbdtParams({nEstimators: 60, minDataInLeaf: 10, validationFraction: 0.25})
    // The validation losses of every iteration: fitting on exactly the rows early stopping trains on grows the
    // same trees (same bins, same seed) without stopping
    const split = trainTestSplit(input.rows.length, params.validationFraction, seed)
    const fitRows = Int32Array.from(split.train, i => input.rows[i]!)
    const validRows = Int32Array.from(split.test, i => input.rows[i]!)
    const full = fitGbdt({...input, rows: fitRows}, params, seed)
    const rounds = 5
    let best = 0
    let bestLoss = Number.POSITIVE_INFINITY
    let stop = params.nEstimators
    for (let t = 1; t <= params.nEstimators; t++) {
      const loss = mse(truncated(full, t), input, validRows)
      if (loss < bestLoss - 1e-12) {
        best = t
        bestLoss = loss
      } else if (t - best >= rounds) {
        stop = t
        break
      }
    }
    // (here the loss is lowest after 13 iterations, with ups and downs before, and the 18th stops)
    expect(best).toBeGreaterThan(1)
    expect(stop).toBeLessThan(params.nEstimators)
    // When: counting the trees grown, as each asks the parallelism hook for a histogram builder once
    let grown = 0
    const parallel = {
      histogram: () => {
        grown++
        return undefined
      },
    }
    const model = fitGbdt({...input, parallel}, {...params, earlyStoppingRounds: rounds}, seed)
    // Then
    expect(grown).toBe(stop)
    expect(model.iterations).toBe(best)
    expect(model.trees).toEqual(full.trees.slice(0, best))
  })

  it('grows identical trees for the same seed', () => {
    const input = regression(3, 300, 0.3)
    const params = gbdtParams({nEstimators: 10, baggingFraction: 0.6, featureFraction: 0.7})
    expect(fitGbdt(input, params, 5).trees).toEqual(fitGbdt(input, params, 5).trees)
  })

  it('grows different trees for another seed when bagging rows', () => {
    const input = regression(3, 300, 0.3)
    const params = gbdtParams({nEstimators: 10, baggingFraction: 0.6})
    expect(fitGbdt(input, params, 5).trees).not.toEqual(fitGbdt(input, params, 6).trees)
  })

  it('predicts raw scores as the base score plus the leaf value of every tree in its class column', () => {
    // Given 3 classes, so each iteration adds one tree per class
    const base = regression(4, 300, 0.3)
    const y = Float64Array.from(base.y, v => (v < 0 ? 0 : v < 1.2 ? 1 : 2))
    const input = {...base, y, nClasses: 3}
    const model = fitGbdt(input, gbdtParams({nEstimators: 5}), 1)
    expect(Array.from(model.treeClass)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    // When
    const raw = predictGbdtRaw(model, input.columns, 300)
    // Then: the same additions in the same order, so equal to the last bit
    for (let i = 0; i < 300; i++) {
      const expected = Array.from(model.baseScore)
      model.trees.forEach((tree, t) => {
        const j = model.treeClass[t]!
        expected[j] = expected[j]! + tree.value[leafIndex(tree, input.columns, i)]!
      })
      expect(Array.from(raw.subarray(i * 3, i * 3 + 3))).toEqual(expected)
    }
  })
})
