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
 * Nodes (splits and leaves) one TreeEnsemble node holds at most; a bigger ensemble is written as several, whose
 * outputs a Sum adds. ONNX Runtime builds each operator from temporary copies of its attributes, so one operator
 * of millions of tree nodes costs far more memory to load than several smaller ones: a 100-tree forest of 2.1M
 * nodes (100,000 × 30 rows) peaks at 785 MiB loaded as one node, at 350 MiB as 34, and scores no slower.
 */
export const ENSEMBLE_NODES = 65_536

/**
 * Adds the sum of the trees' leaf values over `input` ([N, P] double) and returns its output ([N, nTargets]
 * double): one ai.onnx.ml TreeEnsemble, or several of at most `maxNodes` nodes each added up by a Sum.
 * A tree with several outputs per leaf is written once per output (a v5 leaf carries one weight).
 * Categorical splits whose set is in `indicators` become <= splits on its column, the others membership splits:
 * ONNX Runtime walks trees whose nodes all compare with <= about twice as fast as trees mixing the two.
 */
export function treeEnsemble(
  g: GraphBuilder,
  input: string,
  trees: readonly EnsembleTree[],
  nTargets: number,
  output: string,
  /** ONNX input column of each tree feature index. */
  featureMap: Int32Array,
  indicators: IndicatorColumns = new Map(),
  maxNodes = ENSEMBLE_NODES,
): string {
  const parts: EnsembleTree[][] = [[]]
  let nodes = 0
  for (const t of trees) {
    const size = writtenNodes(t.tree)
    if (nodes > 0 && nodes + size > maxNodes) {
      parts.push([])
      nodes = 0
    }
    parts.at(-1)!.push(t)
    nodes += size
  }
  if (parts.length === 1) return ensembleNode(g, input, trees, nTargets, output, featureMap, indicators)
  const outputs = parts.map((part, k) =>
    ensembleNode(g, input, part, nTargets, `${output}_part${k}`, featureMap, indicators),
  )
  return g.op('Sum', outputs, output)
}

/** Nodes a tree takes in a TreeEnsemble: its own per output, or a split and two leaves if it has no split. */
function writtenNodes(tree: FlatTree): number {
  return (tree.feature[0]! < 0 ? 3 : tree.nNodes) * tree.nOutputs
}

/** One TreeEnsemble node (SUM of the trees) over `input`; its attributes are built in typed arrays. */
function ensembleNode(
  g: GraphBuilder,
  input: string,
  trees: readonly EnsembleTree[],
  nTargets: number,
  output: string,
  featureMap: Int32Array,
  indicators: IndicatorColumns,
): string {
  let nInterior = 0
  let nLeaves = 0
  for (const {tree} of trees) {
    if (tree.feature[0]! < 0) {
      nInterior += tree.nOutputs
      nLeaves += 2 * tree.nOutputs
      continue
    }
    for (let i = 0; i < tree.nNodes; i++) {
      if (tree.feature[i]! < 0) nLeaves += tree.nOutputs
      else nInterior += tree.nOutputs
    }
  }
  const featureIds = new Int32Array(nInterior)
  const modes = new Uint8Array(nInterior)
  const splits = new Float64Array(nInterior)
  const trueIds = new Int32Array(nInterior)
  const trueLeafs = new Int32Array(nInterior)
  const falseIds = new Int32Array(nInterior)
  const falseLeafs = new Int32Array(nInterior)
  const missingTrue = new Int32Array(nInterior)
  const membership: number[] = []
  const roots: number[] = []
  const leafTargets = new Int32Array(nLeaves)
  const leafWeights = new Float64Array(nLeaves)
  let at = 0 // next interior node
  let leafAt = 0 // next leaf
  const addLeaf = (target: number, weight: number): number => {
    leafTargets[leafAt] = target
    leafWeights[leafAt] = weight
    return leafAt++
  }

  for (const {tree, targets} of trees) {
    for (let out = 0; out < tree.nOutputs; out++) {
      if (tree.feature[0]! < 0) {
        // A tree without splits: one always-true node leading to two leaves of the same weight.
        roots.push(at)
        featureIds[at] = 0
        modes[at] = BRANCH_LEQ
        splits[at] = Number.POSITIVE_INFINITY
        trueIds[at] = addLeaf(targets[out]!, tree.value[out]!)
        trueLeafs[at] = 1
        falseIds[at] = addLeaf(targets[out]!, tree.value[out]!)
        falseLeafs[at] = 1
        missingTrue[at] = 1
        at++
        continue
      }
      const interior = new Int32Array(tree.nNodes).fill(-1)
      const leaf = new Int32Array(tree.nNodes).fill(-1)
      let nextInterior = at
      for (let i = 0; i < tree.nNodes; i++) {
        if (tree.feature[i]! >= 0) interior[i] = nextInterior++
        else leaf[i] = addLeaf(targets[out]!, tree.value[i * tree.nOutputs + out]!)
      }
      roots.push(interior[0]!)
      for (let i = 0; i < tree.nNodes; i++) {
        if (tree.feature[i]! < 0) continue
        const indicator = tree.isCategorical[i]
          ? indicators.get(setKey(tree.feature[i]!, setCodes(tree, i)))
          : undefined
        if (indicator !== undefined) {
          featureIds[at] = indicator
          modes[at] = BRANCH_LEQ
          splits[at] = 0.5
        } else if (tree.isCategorical[i]) {
          featureIds[at] = featureMap[tree.feature[i]!]!
          modes[at] = BRANCH_MEMBER
          splits[at] = Number.NaN
          for (let j = tree.catStart[i]!; j < tree.catStart[i + 1]!; j++) membership.push(tree.catValues[j]!)
          membership.push(Number.NaN)
        } else {
          featureIds[at] = featureMap[tree.feature[i]!]!
          modes[at] = BRANCH_LEQ
          splits[at] = tree.threshold[i]!
        }
        const l = tree.left[i]!
        const r = tree.right[i]!
        trueIds[at] = tree.feature[l]! >= 0 ? interior[l]! : leaf[l]!
        trueLeafs[at] = tree.feature[l]! >= 0 ? 0 : 1
        falseIds[at] = tree.feature[r]! >= 0 ? interior[r]! : leaf[r]!
        falseLeafs[at] = tree.feature[r]! >= 0 ? 0 : 1
        missingTrue[at] = tree.missingLeft[i]!
        at++
      }
    }
  }
  const tensor = (values: Uint8Array | Float64Array) => ({
    dataType: values instanceof Uint8Array ? DataType.UINT8 : DataType.DOUBLE,
    dims: [values.length],
    rawData: values instanceof Uint8Array ? values : new Uint8Array(values.buffer),
  })
  const attrs: Record<string, AttrValue> = {
    tree_roots: roots,
    nodes_featureids: featureIds,
    nodes_modes: {tensor: tensor(modes)},
    nodes_splits: {tensor: tensor(splits)},
    nodes_truenodeids: trueIds,
    nodes_trueleafs: trueLeafs,
    nodes_falsenodeids: falseIds,
    nodes_falseleafs: falseLeafs,
    nodes_missing_value_tracks_true: missingTrue,
    leaf_targetids: leafTargets,
    leaf_weights: {tensor: tensor(leafWeights)},
    n_targets: nTargets,
    aggregate_function: 1, // SUM
    post_transform: 0,
  }
  if (membership.length > 0) attrs.membership_values = {tensor: tensor(Float64Array.from(membership))}
  return g.op('TreeEnsemble', [input], output, attrs, 'ai.onnx.ml')
}
