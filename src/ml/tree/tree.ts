// The flat tree: parallel typed arrays, one entry per node. The same arrays feed the in-memory predictor
// and the ONNX exporter, so both take the same branch for every value, missing ones included.

export interface FlatTree {
  readonly nNodes: number
  /** Outputs per leaf (1 for regression and binary boosting; K for class proportions). */
  readonly nOutputs: number
  /** Split feature, -1 for a leaf. */
  readonly feature: Int32Array
  /** Numeric split: x <= threshold goes left. */
  readonly threshold: Float64Array
  /** Categorical split: the category values going left are catValues[catStart[i] .. catStart[i + 1]). */
  readonly catStart: Int32Array
  readonly catValues: Float64Array
  readonly isCategorical: Uint8Array
  /** Where missing values (NaN) go: 1 = left. */
  readonly missingLeft: Uint8Array
  readonly left: Int32Array
  readonly right: Int32Array
  /** nNodes × nOutputs; the prediction at leaves. */
  readonly value: Float64Array
  /** Gain of the node's split (0 at leaves), for feature importance. */
  readonly gain: Float64Array
  /** Training rows that reached the node. */
  readonly count: Float64Array
}

/** The leaf that row `i` of the column-major feature values reaches. */
export function leafIndex(tree: FlatTree, columns: readonly Float64Array[], i: number): number {
  let node = 0
  while (tree.feature[node]! >= 0) {
    const x = columns[tree.feature[node]!]![i]!
    let goLeft: boolean
    if (Number.isNaN(x)) goLeft = tree.missingLeft[node] === 1
    else if (tree.isCategorical[node]) {
      goLeft = false
      for (let j = tree.catStart[node]!, e = tree.catStart[node + 1]!; j < e; j++) {
        if (tree.catValues[j] === x) {
          goLeft = true
          break
        }
      }
    } else goLeft = x <= tree.threshold[node]!
    node = goLeft ? tree.left[node]! : tree.right[node]!
  }
  return node
}

/** Adds `scale × leaf value` of every row into `out` (nRows × nOutputs, row-major, at output `offset`). */
export function addTreePredictions(
  tree: FlatTree,
  columns: readonly Float64Array[],
  nRows: number,
  out: Float64Array,
  outStride: number,
  offset: number,
  scale: number,
): void {
  const k = tree.nOutputs
  for (let i = 0; i < nRows; i++) {
    const leaf = leafIndex(tree, columns, i)
    for (let j = 0; j < k; j++)
      out[i * outStride + offset + j] = out[i * outStride + offset + j]! + scale * tree.value[leaf * k + j]!
  }
}

export interface Importance {
  /** Total gain of the splits on each feature. */
  readonly gain: Float64Array
  /** Number of splits on each feature. */
  readonly splits: Float64Array
}

export function featureImportance(trees: readonly FlatTree[], nFeatures: number): Importance {
  const gain = new Float64Array(nFeatures)
  const splits = new Float64Array(nFeatures)
  for (const tree of trees) {
    for (let i = 0; i < tree.nNodes; i++) {
      const f = tree.feature[i]!
      if (f < 0) continue
      gain[f] = gain[f]! + tree.gain[i]!
      splits[f] = splits[f]! + 1
    }
  }
  return {gain, splits}
}
