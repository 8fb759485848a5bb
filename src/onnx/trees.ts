// Flat trees → one ai.onnx.ml TreeEnsemble node (opset 5): double thresholds and leaf weights, so ONNX
// Runtime reproduces the in-memory trees exactly; categorical splits compare an indicator column (see
// categoricalSets) or use BRANCH_MEMBER sets, and nodes_missing_value_tracks_true sends NaN (missing or unseen
// values) the way training did.
import type {FlatTree} from '../ml/tree/tree.js'
import {type AttrValue, DataType, type GraphBuilder} from './graph.js'

const BRANCH_LEQ = 0
const BRANCH_MEMBER = 6

export interface EnsembleTree {
  readonly tree: FlatTree
  /** Output column of each leaf output: leaf output j adds to target targets[j]. */
  readonly targets: readonly number[]
}

/** The category codes of a categorical split, sorted. */
function setCodes(tree: FlatTree, node: number): number[] {
  return Array.from(tree.catValues.subarray(tree.catStart[node]!, tree.catStart[node + 1]!)).sort((a, b) => a - b)
}

/** A categorical split's set as a key: the feature index and the sorted category codes. */
export function setKey(feature: number, codes: readonly number[]): string {
  return `${feature}:${codes.join(',')}`
}

/** A distinct category set that categorical splits test, on preprocessor feature `feature`. */
export interface CategorySet {
  readonly feature: number
  readonly codes: readonly number[]
}

/** The distinct category sets of the trees' categorical splits, in the order the trees use them first. */
export function categoricalSets(trees: readonly FlatTree[]): CategorySet[] {
  const sets = new Map<string, CategorySet>()
  for (const tree of trees) {
    for (let i = 0; i < tree.nNodes; i++) {
      if (tree.feature[i]! < 0 || !tree.isCategorical[i]) continue
      const codes = setCodes(tree, i)
      const key = setKey(tree.feature[i]!, codes)
      if (!sets.has(key)) sets.set(key, {feature: tree.feature[i]!, codes})
    }
  }
  return [...sets.values()]
}

/**
 * Where a categorical split's set has an indicator column: the input column holding 0 for a category in the set,
 * 1 for one outside it and NaN for a missing or unseen one, so that the split is `indicator <= 0.5`.
 */
export type IndicatorColumns = ReadonlyMap<string, number>

/**
 * Adds a TreeEnsemble over `input` ([N, P] double) and returns its output ([N, nTargets] double).
 * A tree with several outputs per leaf is written once per output (a v5 leaf carries one weight).
 * Categorical splits whose set is in `indicators` become <= splits on its column, the others membership splits:
 * ONNX Runtime walks trees whose nodes all compare with <= about twice as fast as trees mixing the two.
 */
export function treeEnsemble(
  g: GraphBuilder,
  input: string,
  trees: readonly EnsembleTree[],
  nTargets: number,
  aggregate: 'SUM' | 'AVERAGE',
  output: string,
  /** ONNX input column of each tree feature index. */
  featureMap: Int32Array,
  indicators: IndicatorColumns = new Map(),
): string {
  const featureIds: number[] = []
  const modes: number[] = []
  const splits: number[] = []
  const trueIds: number[] = []
  const trueLeafs: number[] = []
  const falseIds: number[] = []
  const falseLeafs: number[] = []
  const missingTrue: number[] = []
  const membership: number[] = []
  const roots: number[] = []
  const leafTargets: number[] = []
  const leafWeights: number[] = []

  for (const {tree, targets} of trees) {
    for (let out = 0; out < tree.nOutputs; out++) {
      const interior = new Int32Array(tree.nNodes).fill(-1)
      const leaf = new Int32Array(tree.nNodes).fill(-1)
      let nextInterior = featureIds.length
      let nextLeaf = leafWeights.length
      for (let i = 0; i < tree.nNodes; i++) {
        if (tree.feature[i]! >= 0) interior[i] = nextInterior++
        else leaf[i] = nextLeaf++
      }
      for (let i = 0; i < tree.nNodes; i++) {
        if (tree.feature[i]! < 0) {
          leafTargets.push(targets[out]!)
          leafWeights.push(tree.value[i * tree.nOutputs + out]!)
        }
      }
      if (tree.feature[0]! < 0) {
        // A tree without splits: one always-true node leading to two leaves of the same weight.
        roots.push(featureIds.length)
        featureIds.push(0)
        modes.push(BRANCH_LEQ)
        splits.push(Number.POSITIVE_INFINITY)
        trueIds.push(leaf[0]!)
        trueLeafs.push(1)
        leafTargets.push(targets[out]!)
        leafWeights.push(tree.value[out]!)
        falseIds.push(leafWeights.length - 1)
        falseLeafs.push(1)
        missingTrue.push(1)
        continue
      }
      roots.push(interior[0]!)
      for (let i = 0; i < tree.nNodes; i++) {
        if (tree.feature[i]! < 0) continue
        const indicator = tree.isCategorical[i]
          ? indicators.get(setKey(tree.feature[i]!, setCodes(tree, i)))
          : undefined
        if (indicator !== undefined) {
          featureIds.push(indicator)
          modes.push(BRANCH_LEQ)
          splits.push(0.5)
        } else if (tree.isCategorical[i]) {
          featureIds.push(featureMap[tree.feature[i]!]!)
          modes.push(BRANCH_MEMBER)
          splits.push(Number.NaN)
          for (let j = tree.catStart[i]!; j < tree.catStart[i + 1]!; j++) membership.push(tree.catValues[j]!)
          membership.push(Number.NaN)
        } else {
          featureIds.push(featureMap[tree.feature[i]!]!)
          modes.push(BRANCH_LEQ)
          splits.push(tree.threshold[i]!)
        }
        const l = tree.left[i]!
        const r = tree.right[i]!
        trueIds.push(tree.feature[l]! >= 0 ? interior[l]! : leaf[l]!)
        trueLeafs.push(tree.feature[l]! >= 0 ? 0 : 1)
        falseIds.push(tree.feature[r]! >= 0 ? interior[r]! : leaf[r]!)
        falseLeafs.push(tree.feature[r]! >= 0 ? 0 : 1)
        missingTrue.push(tree.missingLeft[i]!)
      }
    }
  }
  const tensor = (values: number[], type: number) =>
    type === DataType.UINT8
      ? {dataType: type, dims: [values.length], rawData: Uint8Array.from(values)}
      : {dataType: type, dims: [values.length], rawData: new Uint8Array(Float64Array.from(values).buffer)}
  const attrs: Record<string, AttrValue> = {
    tree_roots: roots,
    nodes_featureids: featureIds,
    nodes_modes: {tensor: tensor(modes, DataType.UINT8)},
    nodes_splits: {tensor: tensor(splits, DataType.DOUBLE)},
    nodes_truenodeids: trueIds,
    nodes_trueleafs: trueLeafs,
    nodes_falsenodeids: falseIds,
    nodes_falseleafs: falseLeafs,
    nodes_missing_value_tracks_true: missingTrue,
    leaf_targetids: leafTargets,
    leaf_weights: {tensor: tensor(leafWeights, DataType.DOUBLE)},
    n_targets: nTargets,
    aggregate_function: aggregate === 'SUM' ? 1 : 0,
    post_transform: 0,
  }
  if (membership.length > 0) attrs.membership_values = {tensor: tensor(membership, DataType.DOUBLE)}
  return g.op('TreeEnsemble', [input], output, attrs, 'ai.onnx.ml')
}
