// Random forests (Breiman 2001; scikit-learn's RandomForest*): CART trees grown fully on bootstrap samples,
// each split looking at maxFeatures features drawn per node; predictions average the trees. Every tree is a
// pure function of the shared binned data, the parameters and its own seed, so trees can grow on any thread.
import {UsageError} from '../../errors.js'
import {Rng} from '../rng.js'
import {
  type CartParams,
  checkCartParams,
  growCartTree,
  resolveCriterion,
  type TreeData,
  type TreeGrowth,
  type TreeInput,
  type TreeModel,
  treeData,
} from './cart.js'
import type {TreeParallelism} from './parallel.js'
import type {FlatTree} from './tree.js'
import {featureImportance} from './tree.js'

export interface ForestParams extends CartParams {
  readonly nEstimators: number
  /** Each tree learns from n rows drawn with replacement (false: every row once). */
  readonly bootstrap: boolean
  /** 'sqrt', 'log2', 'all', 'auto' (sqrt for classification, all for regression) or a fraction in (0, 1]. */
  readonly maxFeatures: string
}

export type ForestModel = TreeModel

export interface ForestTreeParams extends TreeGrowth {
  readonly bootstrap: boolean
}

/** scikit-learn's max_features as a count of the nFeatures: at least 1. */
export function resolveMaxFeatures(value: string, nFeatures: number, classification: boolean): number {
  const word = value.trim().toLowerCase()
  const count = (x: number) => Math.min(nFeatures, Math.max(1, Math.floor(x)))
  if (word === 'sqrt' || (word === 'auto' && classification)) return count(Math.sqrt(nFeatures))
  if (word === 'log2') return count(Math.log2(nFeatures))
  if (word === 'all' || word === 'auto') return nFeatures
  const fraction = Number(word)
  if (word === '' || !Number.isFinite(fraction) || fraction <= 0 || fraction > 1) {
    throw new UsageError('E_USAGE_PARAM', `--param maxFeatures=${value} is not valid for forest`, {
      hint: 'use sqrt, log2, all, auto, or a fraction in (0, 1] of the features, e.g. maxFeatures=0.5',
    })
  }
  return count(fraction * nFeatures)
}

/** The seed of each tree: the run seed's generator drawn in tree order, whichever thread grows the tree. */
export function treeSeeds(seed: number, nTrees: number): Uint32Array {
  const rng = new Rng(seed)
  return Uint32Array.from({length: nTrees}, () => rng.nextUint32())
}

/**
 * One tree of a forest: a bootstrap sample of the rows (those drawn at least once, weighted by how often),
 * then CART with features drawn per node. Pure: same data, parameters and seed give the same tree.
 */
export function growForestTree(d: TreeData, params: ForestTreeParams, seed: number): FlatTree {
  const rng = new Rng(seed)
  const n = d.data.nRows
  let rows: Int32Array
  let weights: Float64Array | null = null
  if (params.bootstrap) {
    weights = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const r = rng.nextInt(n)
      weights[r] = weights[r]! + 1
    }
    let m = 0
    for (let r = 0; r < n; r++) if (weights[r]! > 0) m++
    rows = new Int32Array(m)
    m = 0
    for (let r = 0; r < n; r++) if (weights[r]! > 0) rows[m++] = r
  } else rows = Int32Array.from({length: n}, (_, i) => i)
  const p = d.data.nFeatures
  // Every node visits the features in a fresh random order, drawn as it goes; with all of them, order is moot.
  if (params.maxFeatures >= p) return growCartTree(d, rows, weights, params)
  const order = Int32Array.from({length: p}, (_, i) => i)
  return growCartTree(
    d,
    rows,
    weights,
    params,
    () => order,
    n => rng.nextInt(n),
  )
}

export function fitForest(
  input: TreeInput,
  params: ForestParams,
  seed: number,
  parallel?: TreeParallelism,
): ForestModel {
  checkCartParams(params)
  const criterion = resolveCriterion(params.criterion, input.nClasses)
  const maxFeatures = resolveMaxFeatures(params.maxFeatures, input.columns.length, input.nClasses > 0)
  const d = treeData(input, params.maxBins, seed, parallel)
  const growth: ForestTreeParams = {...params, criterion, maxFeatures}
  const seeds = treeSeeds(seed, params.nEstimators)
  const trees = parallel?.forest?.(d, growth, seeds) ?? Array.from(seeds, s => growForestTree(d, growth, s))
  return {
    nClasses: input.nClasses,
    k: trees[0]!.nOutputs,
    criterion,
    trees,
    importance: featureImportance(trees, d.data.nFeatures),
  }
}
