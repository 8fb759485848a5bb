import {describe, expect, it} from 'vitest'
import {binData, type NumericBins} from '../../../src/ml/tree/binning.js'
import {findBestSplit, nodeScore} from '../../../src/ml/tree/split.js'
import {allRows, growParams, nodeHistogram} from './helpers.js'

// A missing value, as binning sees it.
const MISSING = Number.NaN

/**
 * The best split of one node holding every row, with squared-error gradients at score 0 (g = −y, h = 1 unless
 * given): G²/H is then n·mean², and gains are the drop of the sum of squared errors.
 */
function bestSplit(
  columns: Float64Array[],
  categorical: boolean[],
  y: readonly number[],
  options: {hess?: readonly number[]} & Parameters<typeof growParams>[0] = {},
) {
  const {hess: h, ...overrides} = options
  const n = y.length
  const data = binData(columns, categorical, allRows(n), 255, 1)
  const grad = Float64Array.from(y, v => -v)
  const hess = h ? Float64Array.from(h) : new Float64Array(n).fill(1)
  const {hist, totals} = nodeHistogram(data.bins, data.nFeatures, allRows(n), grad, hess)
  return {data, totals, split: findBestSplit(data, hist, totals, null, growParams(overrides))}
}

describe('findBestSplit on numeric features', () => {
  it('finds the jump of y at x = 3.5 on the feature that has it, with its bin and threshold', () => {
    // Given y = 1 for x <= 3 and 5 for x >= 4, and a shuffled copy of x as a second feature
    const x = Float64Array.of(0, 1, 2, 3, 4, 5, 6, 7)
    const noise = Float64Array.of(5, 2, 7, 0, 3, 6, 1, 4)
    const y = [1, 1, 1, 1, 5, 5, 5, 5]
    // When
    const {data, split} = bestSplit([noise, x], [false, false], y)
    // Then: bin 3 (values 0..3) goes left, its upper edge is 3.5; gain = 4²/4 + 20²/4 − 24²/8 = 32
    expect(split?.feature).toBe(1)
    expect(split?.bin).toBe(3)
    expect((data.features[1] as NumericBins).thresholds[split!.bin]).toBe(3.5)
    expect(split?.gain).toBe(32)
    expect(Array.from(split!.left)).toEqual([-4, 4, 4])
  })

  it('sends missing values left when they look like the left rows', () => {
    // Given the jump at 3.5 and two missing rows with the left rows' y
    const x = Float64Array.of(0, 1, 2, 3, 4, 5, 6, 7, MISSING, MISSING)
    const y = [1, 1, 1, 1, 5, 5, 5, 5, 1, 1]
    // When
    const {split} = bestSplit([x], [false], y)
    // Then: left = 6 rows with G = −6; gain = 6²/6 + 20²/4 − 26²/10 = 38.4 (17.07 with missing values right)
    expect(split?.bin).toBe(3)
    expect(split?.missingLeft).toBe(true)
    expect(Array.from(split!.left)).toEqual([-6, 6, 6])
    expect(split?.gain).toBeCloseTo(38.4, 12)
  })

  it('sends missing values right when they look like the right rows', () => {
    const x = Float64Array.of(0, 1, 2, 3, 4, 5, 6, 7, MISSING, MISSING)
    const y = [1, 1, 1, 1, 5, 5, 5, 5, 5, 5]
    const {split} = bestSplit([x], [false], y)
    expect(split?.bin).toBe(3)
    expect(split?.missingLeft).toBe(false)
    expect(Array.from(split!.left)).toEqual([-4, 4, 4])
  })

  it('computes the gain as Σ G²/(H + λ) of the children minus the parent', () => {
    // Given g = (−2, −1, 1, 3), h = 1 and λ = 1; by hand, with the parent at G = 1, H = 4 (score 1/5):
    //   bin 0: 4/2 + 9/4 − 1/5 = 4.05;  bin 1: 9/3 + 16/3 − 1/5 = 122/15 ≈ 8.133;  bin 2: 4/4 + 9/2 − 1/5 = 5.3
    const x = Float64Array.of(1, 2, 3, 4)
    const {split, totals} = bestSplit([x], [false], [2, 1, -1, -3], {lambdaL2: 1})
    expect(nodeScore(totals, 0, 1, 1)).toBeCloseTo(1 / 5, 15)
    expect(split?.bin).toBe(1)
    expect(split?.gain).toBeCloseTo(122 / 15, 12)
  })

  it('refuses a split whose gain does not exceed minGainToSplit', () => {
    const x = Float64Array.of(1, 2, 3, 4)
    expect(bestSplit([x], [false], [2, 1, -1, -3], {lambdaL2: 1, minGainToSplit: 8}).split?.bin).toBe(1)
    expect(bestSplit([x], [false], [2, 1, -1, -3], {lambdaL2: 1, minGainToSplit: 8.2}).split).toBeUndefined()
  })
})

describe('findBestSplit constraints', () => {
  // y jumps after the first two of ten rows: the best split leaves 2 rows on the left.
  const x = Float64Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
  const y = [10, 10, 0, 0, 0, 0, 0, 0, 0, 0]

  it('moves the split until both children have minDataInLeaf rows, and refuses it when they cannot', () => {
    expect(bestSplit([x], [false], y, {minDataInLeaf: 1}).split?.bin).toBe(1)
    // 3 rows per child: bin 2 (gain 20²/3 − 20²/10 = 93.3) beats bin 3 (60), bin 4 (40) ...
    expect(bestSplit([x], [false], y, {minDataInLeaf: 3}).split?.bin).toBe(2)
    expect(bestSplit([x], [false], y, {minDataInLeaf: 6}).split).toBeUndefined()
  })

  it('moves the split until both children have minSumHessian, and refuses it when they cannot', () => {
    // Given h = 0.1 per row: 0.25 needs 3 rows per child, 0.55 needs 6 of 10
    const hess = new Array<number>(10).fill(0.1)
    expect(bestSplit([x], [false], y, {hess, minSumHessian: 0.15}).split?.bin).toBe(1)
    expect(bestSplit([x], [false], y, {hess, minSumHessian: 0.25}).split?.bin).toBe(2)
    expect(bestSplit([x], [false], y, {hess, minSumHessian: 0.55}).split).toBeUndefined()
  })
})

describe('findBestSplit on categorical features', () => {
  it('splits {a, c} from {b, d} by ordering the categories by G/(H + catSmooth)', () => {
    // Given categories a, b, c, d (codes 0..3), three rows each, with y = 4, 1, 5, 0: no split of the code
    // order ({a} | {b, c, d}, {a, b} | ...) separates them, the order c, a, b, d of G/(H + 10) does
    const codes = Float64Array.of(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3)
    const y = [4, 1, 5, 0, 4, 1, 5, 0, 4, 1, 5, 0]
    // When
    const {split} = bestSplit([codes], [true], y, {catSmooth: 10})
    // Then: gain = 27²/6 + 3²/6 − 30²/12 = 48
    expect(split?.leftBins && Array.from(split.leftBins)).toEqual([0, 2])
    expect(split?.gain).toBeCloseTo(48, 12)
    expect(Array.from(split!.left)).toEqual([-27, 6, 6])
  })

  it('never proposes an empty category set (ONNX Runtime rejects a BRANCH_MEMBER node without members)', () => {
    // Given two missing rows with negative gradients and categories a, b with positive ones: the best split is
    // "missing | {a, b}" (gain 0.9²/2 + 2.6²/4 − 1.7²/6 ≈ 1.613). The same split as "only missing values on the
    // left" has an empty set, and the finder used to prefer that form when rounding made its gain 1 ulp larger.
    const codes = Float64Array.of(MISSING, MISSING, 0, 1, 0, 1)
    const y = [0.5, 0.4, -0.7, -0.8, -0.5, -0.6]
    // When
    const {split} = bestSplit([codes], [true], y)
    // Then
    expect(split?.gain).toBeCloseTo(0.405 + 1.69 - 1.7 ** 2 / 6, 12)
    expect(split?.leftBins?.length).toBeGreaterThan(0)
  })
})
