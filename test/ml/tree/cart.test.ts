// CART trees against known answers: trees scikit-learn 1.2 grows on small tables (DecisionTreeClassifier /
// DecisionTreeRegressor, the same tree for random_state 0..39, i.e. without ties), a table on which Gini and
// entropy disagree, missing values and categories. Thresholds agree to 1e-6: scikit-learn averages float32 values.
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../../src/errors.js'
import {type CartParams, fitCart, predictTrees, type TreeModel} from '../../../src/ml/tree/cart.js'
import type {FlatTree} from '../../../src/ml/tree/tree.js'

/** Rows of the small table (3 features, one decimal) and its labels: (x0 > 5) xor (x1 > 6), three flipped. */
const X = [
  [4.2, 9.3, 2.7],
  [0.6, 3.1, 7.2],
  [7.8, 5.4, 3.1],
  [9.2, 9.3, 4.4],
  [4.1, 6.1, 7.1],
  [6.2, 4.3, 4.4],
  [6.5, 9.2, 0.5],
  [0.9, 7.6, 4.6],
  [7.8, 5.4, 4.6],
  [9.5, 3.7, 6.5],
  [5.4, 1.1, 1.7],
  [8.2, 5.2, 6.8],
  [4.5, 8.5, 8.5],
  [4.3, 1.3, 8.3],
  [5.0, 5.6, 5.1],
  [0.4, 5.1, 1.0],
  [0.6, 8.3, 1.4],
  [7.2, 4.4, 5.0],
  [5.1, 1.7, 0.6],
  [6.4, 1.0, 0.7],
  [0.5, 6.0, 9.5],
  [5.4, 0.2, 5.8],
  [4.8, 6.9, 1.2],
  [6.7, 9.3, 2.2],
]
const Y = [1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0]

const DEFAULTS: CartParams = {
  criterion: 'auto',
  maxDepth: -1,
  minSamplesLeaf: 1,
  minSamplesSplit: 2,
  maxLeafNodes: 0,
  maxBins: 255,
}

function grow(rows: number[][], y: number[], nClasses: number, params: Partial<CartParams> = {}): TreeModel {
  const p = rows[0]!.length
  return fitCart(
    {
      columns: Array.from({length: p}, (_, f) => Float64Array.from(rows, r => r[f]!)),
      categorical: Array.from({length: p}, () => false),
      rows: Int32Array.from(rows, (_, i) => i),
      y,
      nClasses,
    },
    {...DEFAULTS, ...params},
    0,
  )
}

type Node = [number, number] | number[]

/** The tree in preorder as scikit-learn prints it: [feature, threshold] per split, leaf values (class proportions). */
function preorder(tree: FlatTree, nClasses: number, i = 0): Node[] {
  if (tree.feature[i]! < 0) {
    const v = Array.from(tree.value.subarray(i * tree.nOutputs, (i + 1) * tree.nOutputs))
    return [nClasses === 2 ? [1 - v[0]!, v[0]!] : v]
  }
  return [
    [tree.feature[i]!, tree.threshold[i]!],
    ...preorder(tree, nClasses, tree.left[i]!),
    ...preorder(tree, nClasses, tree.right[i]!),
  ]
}

function expectTree(actual: Node[], expected: Array<[number, number] | number[]>, isSplit: boolean[]): void {
  expect(actual.length).toBe(expected.length)
  actual.forEach((node, i) => {
    const want = expected[i]!
    if (isSplit[i]) {
      expect(node[0]).toBe(want[0])
      expect(node[1]).toBeCloseTo(want[1]!, 6)
    } else for (const [j, v] of node.entries()) expect(v).toBeCloseTo(want[j]!, 6)
  })
}

/** scikit-learn's printout: tuples are splits, lists are leaves. */
function sk(...nodes: Array<{split: [number, number]} | number[]>): [Array<[number, number] | number[]>, boolean[]] {
  return [nodes.map(n => ('split' in n ? n.split : n)), nodes.map(n => 'split' in n)]
}

describe('CART', () => {
  it('grows the tree scikit-learn DecisionTreeClassifier(max_depth=3) grows on a small table', () => {
    const model = grow(X, Y, 2, {maxDepth: 3})
    expectTree(
      preorder(model.trees[0]!, 2),
      ...sk(
        {split: [0, 2.5]},
        {split: [1, 7.95]},
        [1, 0],
        [0, 1],
        {split: [1, 8.85]},
        {split: [1, 1.5]},
        [0.5, 0.5],
        [0.181818, 0.818182],
        {split: [0, 5.35]},
        [0, 1],
        [1, 0],
      ),
    )
  })

  it('grows the tree of criterion="entropy" on the same table', () => {
    const model = grow(X, Y, 2, {maxDepth: 3, criterion: 'entropy'})
    expectTree(
      preorder(model.trees[0]!, 2),
      ...sk(
        {split: [0, 0.55]},
        [1, 0],
        {split: [1, 8.85]},
        {split: [0, 4.4]},
        [0.6, 0.4],
        [0.230769, 0.769231],
        {split: [0, 5.35]},
        [0, 1],
        [1, 0],
      ),
    )
  })

  it('grows best-first up to maxLeafNodes leaves, as scikit-learn max_leaf_nodes=4', () => {
    const model = grow(X, Y, 2, {maxLeafNodes: 4})
    expectTree(
      preorder(model.trees[0]!, 2),
      ...sk(
        {split: [0, 2.5]},
        {split: [1, 7.95]},
        [1, 0],
        [0, 1],
        {split: [1, 8.85]},
        [0.266667, 0.733333],
        [0.75, 0.25],
      ),
    )
  })

  it('keeps minSamplesLeaf rows in every leaf, as scikit-learn min_samples_leaf=4', () => {
    const model = grow(X, Y, 2, {minSamplesLeaf: 4})
    expectTree(
      preorder(model.trees[0]!, 2),
      ...sk(
        {split: [0, 2.5]},
        [0.8, 0.2],
        {split: [1, 8.85]},
        {split: [1, 1.5]},
        [0.5, 0.5],
        {split: [1, 5.3]},
        [0, 1],
        [0.333333, 0.666667],
        [0.75, 0.25],
      ),
    )
  })

  it('grows the tree scikit-learn DecisionTreeRegressor(max_depth=2) grows on a small table', () => {
    const rows = [
      [0.9, 2.4, 8.0],
      [5.8, 0.9, 4.3],
      [4.8, 1.6, 7.3],
      [1.1, 3.9, 5.2],
      [4.3, 5.9, 7.4],
      [9.6, 2.8, 6.5],
      [7.0, 2.9, 0.0],
      [9.7, 3.0, 3.1],
      [8.9, 5.9, 4.7],
      [7.7, 0.3, 7.1],
      [3.7, 0.9, 6.6],
      [9.3, 2.1, 6.3],
      [3.0, 7.4, 7.2],
      [2.2, 8.3, 6.6],
      [6.8, 8.2, 4.3],
      [7.6, 8.8, 1.0],
      [8.5, 3.9, 4.8],
      [1.5, 7.0, 2.9],
      [8.7, 2.8, 5.6],
      [4.0, 6.1, 2.0],
      [1.8, 7.5, 7.5],
      [5.7, 9.2, 2.1],
      [8.5, 1.7, 9.6],
      [6.2, 6.1, 9.7],
    ]
    const y = [
      10.23, 15.8, 17.93, 2.84, 12.95, 24.43, 14.72, 20.78, 18.89, 21.33, 14.11, 25.16, 13.88, 11.46, 18.27, 17.05,
      17.24, 5.81, 21.54, 7.85, 12.04, 12.51, 29.19, 21.26,
    ]
    const model = grow(rows, y, 0, {maxDepth: 2})
    expect(model.criterion).toBe('squared_error')
    expectTree(
      preorder(model.trees[0]!, 0),
      ...sk({split: [0, 6.0]}, {split: [0, 1.65]}, [6.293333], [13.17], {split: [2, 5.2]}, [17.825], [23.818333]),
    )
  })

  it('splits on the feature Gini prefers, and on another one with criterion=entropy', () => {
    // Feature 0 sends (2, 3, 4) of the three classes left, feature 1 sends (0, 1, 1): Gini decreases by 0.444
    // against 0.375, entropy by 0.980 against 1.258 bits (scikit-learn picks features 0 and 1 likewise).
    const a = [0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1]
    const b = [1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1]
    const rows = a.map((v, i) => [v, b[i]!])
    const y = a.map((_, i) => Math.floor(i / 6))
    expect(grow(rows, y, 3, {maxDepth: 1, criterion: 'gini'}).trees[0]!.feature[0]).toBe(0)
    expect(grow(rows, y, 3, {maxDepth: 1, criterion: 'entropy'}).trees[0]!.feature[0]).toBe(1)
  })

  it('grows until every leaf is pure by default', () => {
    const model = grow(X, Y, 2)
    const columns = [0, 1, 2].map(f => Float64Array.from(X, r => r[f]!))
    const p = predictTrees(model, columns, X.length).probabilities!
    for (const [i, label] of Y.entries()) expect(p[2 * i + label]).toBe(1)
  })

  it('sends missing values to the side of the rows they resemble', () => {
    const rows = [[1], [2], [3], [Number.NaN], [Number.NaN], [8], [9]]
    const model = grow(rows, [0, 0, 0, 1, 1, 1, 1], 2)
    const tree = model.trees[0]!
    expect(tree.nNodes).toBe(3)
    expect(tree.threshold[0]).toBe(5.5)
    expect(tree.missingLeft[0]).toBe(0)
    const p = predictTrees(model, [Float64Array.of(Number.NaN, 2.5, 5.4)], 3).probabilities!
    expect(Array.from(p)).toEqual([0, 1, 1, 0, 1, 0])
  })

  it('splits a categorical feature into the set of categories of one class', () => {
    // Levels 0 and 2 are class 0, levels 1 and 3 class 1: one split on the set {0, 2} separates them.
    const codes = [0, 1, 2, 3, 0, 1, 2, 3, 2, 1]
    const model = fitCart(
      {
        columns: [Float64Array.from(codes)],
        categorical: [true],
        rows: Int32Array.from(codes, (_, i) => i),
        y: codes.map(c => c % 2),
        nClasses: 2,
      },
      {...DEFAULTS, maxDepth: 1},
      0,
    )
    const tree = model.trees[0]!
    expect(tree.isCategorical[0]).toBe(1)
    expect(new Set(tree.catValues)).toSatisfy(
      (s: Set<number>) => (s.has(0) && s.has(2) && s.size === 2) || (s.has(1) && s.has(3) && s.size === 2),
    )
    expect(Array.from(tree.value.subarray(1))).toEqual(tree.catValues[0] === 0 ? [0, 1] : [1, 0])
  })

  it('reports the Gini decrease of each split as feature importance', () => {
    const model = grow(X, Y, 2, {maxDepth: 1})
    // Root: 24 rows with 13 of class 1 → 24 − (11² + 13²)/24; children: 5 rows (4, 1) and 19 rows (7, 12).
    const decrease = 24 - (11 ** 2 + 13 ** 2) / 24 - (5 - (4 ** 2 + 1) / 5) - (19 - (7 ** 2 + 12 ** 2) / 19)
    expect(model.importance.gain[0]).toBeCloseTo(decrease, 12)
    expect(Array.from(model.importance.splits)).toEqual([1, 0, 0])
  })

  it('refuses a criterion that does not fit the task', () => {
    expect(() => grow(X, Y, 0, {criterion: 'entropy'})).toThrow(UsageError)
    expect(() => grow(X, Y, 2, {criterion: 'squared_error'})).toThrow(UsageError)
  })
})
