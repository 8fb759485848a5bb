import {describe, expect, it} from 'vitest'
import {Rng} from '../../../src/ml/rng.js'
import {type BinnedData, binData, MISSING_BIN} from '../../../src/ml/tree/binning.js'
import {binnedLeaf, type GrownTree, type GrowParams, growTree} from '../../../src/ml/tree/grower.js'
import {leafIndex} from '../../../src/ml/tree/tree.js'
import {allRows, growParams} from './helpers.js'

const N = 500

/**
 * 500 rows: x0 uniform on [0, 10), x1 normal with 10% missing, x2 a category 0..5 with 5% missing; y depends
 * on all three plus noise. Gradients and hessians are multiples of 2^-6 and 2^-3 (|g| < 64, h in [0.5, 1.5]),
 * so every sum the grower forms is exact and leaf values can be compared bit for bit.
 */
function dataset(seed: number) {
  const rng = new Rng(seed)
  const x0 = Float64Array.from({length: N}, () => rng.nextFloat() * 10)
  const x1 = Float64Array.from({length: N}, () => (rng.nextInt(10) === 0 ? Number.NaN : rng.normal()))
  const x2 = Float64Array.from({length: N}, () => (rng.nextInt(20) === 0 ? Number.NaN : rng.nextInt(6)))
  const columns = [x0, x1, x2]
  const grad = new Float64Array(N)
  for (let i = 0; i < N; i++) {
    const y = (x0[i]! > 4 ? 8 : 0) + (Number.isNaN(x1[i]) ? -6 : 3 * x1[i]!) + (x2[i] === 2 ? 5 : 0) + rng.normal()
    grad[i] = Math.round(-y * 64) / 64
  }
  const hess = Float64Array.from({length: N}, () => (4 + rng.nextInt(9)) / 8)
  return {columns, categorical: [false, false, true], grad, hess}
}

function grow(seed: number, params: Partial<GrowParams>, maxBins = 255) {
  const {columns, categorical, grad, hess} = dataset(seed)
  const data = binData(columns, categorical, allRows(N), maxBins, seed)
  const rows = allRows(N)
  const grown = growTree({data, grad, hess, rows}, growParams({minDataInLeaf: 5, ...params}))
  return {columns, data, grad, hess, rows, grown}
}

function leaves(grown: GrownTree): number[] {
  const out: number[] = []
  for (let i = 0; i < grown.tree.nNodes; i++) if (grown.tree.feature[i]! < 0) out.push(i)
  return out
}

function depths(grown: GrownTree): Int32Array {
  const depth = new Int32Array(grown.tree.nNodes)
  for (let i = 0; i < grown.tree.nNodes; i++) {
    if (grown.tree.feature[i]! < 0) continue
    depth[grown.tree.left[i]!] = depth[i]! + 1
    depth[grown.tree.right[i]!] = depth[i]! + 1
  }
  return depth
}

/** The nodes a binned training row passes through, root first, routed by each node's split bin and mask. */
function binnedPath(grown: GrownTree, data: BinnedData, row: number): number[] {
  const {tree, splitBin, leftMask} = grown
  const path = [0]
  let node = 0
  while (tree.feature[node]! >= 0) {
    const b = data.bins[row * data.nFeatures + tree.feature[node]!]!
    const mask = leftMask[node]
    const goLeft = b === MISSING_BIN ? tree.missingLeft[node] === 1 : mask ? mask[b] === 1 : b <= splitBin[node]!
    node = goLeft ? tree.left[node]! : tree.right[node]!
    path.push(node)
  }
  return path
}

describe('growTree, leaf-wise', () => {
  it('stops at numLeaves leaves', () => {
    const {grown} = grow(1, {numLeaves: 7})
    expect(leaves(grown)).toHaveLength(7)
    expect(grown.tree.nNodes).toBe(13)
  })

  it('grows no leaf deeper than maxDepth', () => {
    // Given no bound on leaves, a depth bound of 3 and enough rows to split every node
    const {grown} = grow(2, {maxDepth: 3})
    const depth = depths(grown)
    const leafDepths = leaves(grown).map(i => depth[i]!)
    expect(Math.max(...leafDepths)).toBe(3)
    expect(leafDepths.length).toBeLessThanOrEqual(8)
  })

  it('splits the open leaf with the largest gain first, whichever side it is on', () => {
    // Given y = 0, 10, 30, 31 on x = 0..3, 4..7, 8..11, 12..15 (g = −y, h = 1): the root splits at 7.5
    // (gain 2601 against 1680 at 3.5); then the left child gains 200 at 3.5 and the right child only 2 at 11.5
    const x = Float64Array.from({length: 16}, (_, i) => i)
    const grad = Float64Array.from(x, v => -[0, 10, 30, 31][Math.floor(v / 4)]!)
    const data = binData([x], [false], allRows(16), 255, 1)
    // When
    const {tree} = growTree(
      {data, grad, hess: new Float64Array(16).fill(1), rows: allRows(16)},
      growParams({numLeaves: 3}),
    )
    // Then
    expect(tree.threshold[0]).toBe(7.5)
    expect(tree.feature[tree.left[0]!]).toBe(0)
    expect(tree.threshold[tree.left[0]!]).toBe(3.5)
    expect(tree.gain[tree.left[0]!]).toBe(200)
    expect(tree.feature[tree.right[0]!]).toBe(-1)
  })

  it('gives every leaf the value −G/(H + λ) of its rows', () => {
    // Given λ = 2 and exact sums (see `dataset`): the value is the same division of the same numbers
    const lambda = 2
    const {grown, rows, grad, hess} = grow(4, {numLeaves: 12, lambdaL2: lambda})
    for (const leaf of leaves(grown)) {
      let g = 0
      let h = 0
      for (let i = grown.start[leaf]!; i < grown.end[leaf]!; i++) {
        g += grad[rows[i]!]!
        h += hess[rows[i]!]!
      }
      expect(grown.tree.value[leaf]).toBe(-g / (h + lambda))
    }
  })

  it('keeps at rows[start..end) of every node exactly the training rows routed through it', () => {
    // Given the nodes each training row passes through when routed by bins from the root
    const {grown, data, rows} = grow(5, {numLeaves: 15})
    const routed: number[][] = Array.from({length: grown.tree.nNodes}, () => [])
    for (let r = 0; r < N; r++) for (const node of binnedPath(grown, data, r)) routed[node]!.push(r)
    // Then
    for (let node = 0; node < grown.tree.nNodes; node++) {
      const held = Array.from(rows.subarray(grown.start[node]!, grown.end[node]!)).sort((a, b) => a - b)
      expect(held).toEqual(routed[node])
      expect(grown.tree.count[node]).toBe(held.length)
    }
  })

  it('routes every training row to the same leaf from its bins (binnedLeaf) and its raw values (leafIndex)', () => {
    // Given numeric splits, missing values on both kinds of feature and categorical splits
    const {grown, data, columns} = grow(6, {numLeaves: 31})
    expect(grown.tree.isCategorical.some(c => c === 1)).toBe(true)
    for (let r = 0; r < N; r++) expect(leafIndex(grown.tree, columns, r)).toBe(binnedLeaf(grown, data.bins, 3, r))
  })

  it('routes categories that maxBins left without a bin the same way from bins and from raw values', () => {
    // Given maxBins = 2: of the six categories of x2, four share the missing bin with the missing values, while
    // their raw values are categories the tree's set does not list
    const {grown, data, columns} = grow(7, {numLeaves: 31}, 2)
    expect(grown.tree.isCategorical.some(c => c === 1)).toBe(true)
    for (let r = 0; r < N; r++) expect(leafIndex(grown.tree, columns, r)).toBe(binnedLeaf(grown, data.bins, 3, r))
  })

  it('routes -Infinity the same way from bins and raw values when the split sends only missing values left', () => {
    // Given missing values with negative gradients, everything else (-Infinity included) positive: the best
    // split puts the 4 missing rows alone in one child
    const x = Float64Array.of(Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NEGATIVE_INFINITY, -1, 1, 2, 3, 4)
    const grad = Float64Array.of(-1, -1, -1, -1, 1, 1, 1, 1, 1, 1)
    const data = binData([x], [false], allRows(10), 255, 1)
    // When
    const grown = growTree(
      {data, grad, hess: new Float64Array(10).fill(1), rows: allRows(10)},
      growParams({numLeaves: 2}),
    )
    // Then
    expect([grown.tree.count[1], grown.tree.count[2]].sort()).toEqual([4, 6])
    for (let r = 0; r < 10; r++) expect(leafIndex(grown.tree, [x], r)).toBe(binnedLeaf(grown, data.bins, 1, r))
  })
})
