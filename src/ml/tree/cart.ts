// CART decision trees (scikit-learn's DecisionTree*) on the histogram machinery: classes become one-hot
// gradient channels g = −w·onehot(y), h = w (one channel −w·y for two classes), so the second-order gain with
// λ = 0 is the Gini decrease and −G/H the class proportions; regression is g = −w·y. Also predicts averages of trees.
import {UsageError} from '../../errors.js'
import {type BinnedData, binData} from './binning.js'
import {type GrowParams, growTree} from './grower.js'
import type {TreeParallelism} from './parallel.js'
import type {Criterion} from './split.js'
import {addTreePredictions, type FlatTree, featureImportance, type Importance} from './tree.js'

export interface CartParams {
  /** 'auto': gini for classification, squared_error for regression. */
  readonly criterion: Criterion | 'auto'
  /** Maximum depth of a leaf, root = 0 (-1: no bound). */
  readonly maxDepth: number
  readonly minSamplesLeaf: number
  readonly minSamplesSplit: number
  /** At most this many leaves, grown best-first (scikit-learn's max_leaf_nodes); 0: no bound, depth-first. */
  readonly maxLeafNodes: number
  readonly maxBins: number
}

/** One tree or a forest: the prediction is the average of the trees' leaf values. */
export interface TreeModel {
  /** 0 for regression, else the number of classes. */
  readonly nClasses: number
  /** Values per leaf: 1 (regression; two classes: the proportion of class 1) or the nClasses proportions. */
  readonly k: number
  readonly criterion: Criterion
  readonly trees: readonly FlatTree[]
  /** Gain = decrease of node weight × impurity (Gini, entropy in bits, or squared error). */
  readonly importance: Importance
}

export interface TreeInput {
  /** One column per feature, indexed by frame row; NaN = missing; categories as level indices. */
  readonly columns: readonly Float64Array[]
  readonly categorical: readonly boolean[]
  /** The training rows of the columns. */
  readonly rows: Int32Array
  /** Target per frame row: the value (regression) or the class index (classification). */
  readonly y: ArrayLike<number>
  /** 0 for regression, else the number of classes. */
  readonly nClasses: number
}

/** What one tree learns from: binned rows and the target per binned row. */
export interface TreeData {
  readonly data: BinnedData
  /** Target per row of `data`: the value, or the class index. */
  readonly y: Float64Array
  readonly nClasses: number
}

/** Per-tree growth settings (a forest adds feature sampling). */
export interface TreeGrowth {
  readonly criterion: Criterion
  readonly maxDepth: number
  readonly minSamplesLeaf: number
  readonly minSamplesSplit: number
  readonly maxLeafNodes: number
  /** Features a split looks at (scikit-learn's max_features, as a count): non-constant ones, drawn per node. */
  readonly maxFeatures: number
}

/** Leaf values per class count: 1 for regression and two classes, else one per class. */
export function leafOutputs(nClasses: number): number {
  return nClasses > 2 ? nClasses : 1
}

/** The criterion for the task, or a UsageError when the user asked for one that does not fit it. */
export function resolveCriterion(criterion: Criterion | 'auto', nClasses: number): Criterion {
  if (criterion === 'auto') return nClasses > 0 ? 'gini' : 'squared_error'
  if ((criterion === 'squared_error') === nClasses > 0) {
    const task = nClasses > 0 ? 'classification' : 'regression'
    throw new UsageError('E_USAGE_PARAM', `--param criterion=${criterion} does not fit ${task}`, {
      hint: nClasses > 0 ? 'use criterion=gini or criterion=entropy' : 'use criterion=squared_error (or auto)',
    })
  }
  return criterion
}

export function checkCartParams(params: CartParams): void {
  if (params.maxLeafNodes === 1) {
    throw new UsageError('E_USAGE_PARAM', '--param maxLeafNodes=1 allows no split', {
      hint: 'use maxLeafNodes >= 2, or 0 for no bound',
    })
  }
}

/**
 * Grows one CART tree on `rows` of `d.data`, each counted `weights[row]` times (null: once). Rows must be
 * distinct: min samples count rows, as scikit-learn counts distinct bootstrap samples. `sampleFeatures` and
 * `draw` let each node visit features in random order (random forests); `rows` is reordered in place.
 */
export function growCartTree(
  d: TreeData,
  rows: Int32Array,
  weights: Float64Array | null,
  growth: TreeGrowth,
  sampleFeatures?: () => Int32Array | null,
  draw?: (n: number) => number,
): FlatTree {
  const k = leafOutputs(d.nClasses)
  const n = d.data.nRows
  const grad = new Float64Array(n * k)
  const hess = new Float64Array(n)
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    const w = weights ? weights[r]! : 1
    hess[r] = w
    if (k === 1) grad[r] = -w * d.y[r]!
    else grad[r * k + d.y[r]!] = -w
  }
  const params: GrowParams = {
    k,
    lambdaL2: 0,
    minDataInLeaf: growth.minSamplesLeaf,
    minSumHessian: 0,
    minGainToSplit: 0,
    catSmooth: 0,
    criterion: growth.criterion,
    numLeaves: growth.maxLeafNodes > 0 ? growth.maxLeafNodes : Number.POSITIVE_INFINITY,
    maxDepth: growth.maxDepth,
    order: growth.maxLeafNodes > 0 ? 'best-first' : 'depth-first',
    minDataToSplit: growth.minSamplesSplit,
    search: 'rows',
    maxFeatures: growth.maxFeatures,
  }
  const {tree} = growTree({data: d.data, grad, hess, rows, sampleFeatures, draw}, params)
  // −G/H is −0 where no row of a class reached: a probability of +0 reads better in every output.
  for (let i = 0; i < tree.value.length; i++) tree.value[i] = tree.value[i]! + 0
  // One channel for two classes gives half the Gini decrease (Σ over both classes); report the decrease itself.
  if (k === 1 && growth.criterion === 'gini') for (let i = 0; i < tree.nNodes; i++) tree.gain[i] = 2 * tree.gain[i]!
  return tree
}

/** Bins the training rows and takes their targets; shared by every tree of a forest. */
export function treeData(input: TreeInput, maxBins: number, seed: number, parallel?: TreeParallelism): TreeData {
  const data = binData(input.columns, input.categorical, input.rows, maxBins, seed, parallel)
  return {data, y: Float64Array.from(input.rows, r => input.y[r]!), nClasses: input.nClasses}
}

/** A single CART tree on every training row: deterministic (the seed only samples rows for bin edges). */
export function fitCart(input: TreeInput, params: CartParams, seed: number): TreeModel {
  checkCartParams(params)
  const criterion = resolveCriterion(params.criterion, input.nClasses)
  const d = treeData(input, params.maxBins, seed)
  const rows = Int32Array.from({length: d.data.nRows}, (_, i) => i)
  const tree = growCartTree(d, rows, null, {...params, criterion, maxFeatures: d.data.nFeatures})
  return {
    nClasses: input.nClasses,
    k: leafOutputs(input.nClasses),
    criterion,
    trees: [tree],
    importance: featureImportance([tree], d.data.nFeatures),
  }
}

/**
 * Class probabilities (nRows × nClasses, row-major) or values: the sum of the trees' leaf values in tree order,
 * divided by the number of trees, as the exported graph computes it.
 */
export function predictTrees(
  model: TreeModel,
  columns: readonly Float64Array[],
  nRows: number,
): {probabilities?: Float64Array; values?: Float64Array} {
  const k = model.k
  const sum = new Float64Array(nRows * k)
  for (const tree of model.trees) addTreePredictions(tree, columns, nRows, sum, k, 0, 1)
  const nTrees = model.trees.length
  for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! / nTrees
  if (model.nClasses === 0) return {values: sum}
  if (k > 1) return {probabilities: sum}
  const probabilities = new Float64Array(nRows * 2)
  for (let i = 0; i < nRows; i++) {
    probabilities[2 * i] = 1 - sum[i]!
    probabilities[2 * i + 1] = sum[i]!
  }
  return {probabilities}
}
