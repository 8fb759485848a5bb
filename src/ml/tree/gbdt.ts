// Gradient-boosted decision trees on histograms (LightGBM / scikit-learn HistGradientBoosting): each
// iteration fits one leaf-wise tree per score column to the loss gradients, shrunk by the learning rate;
// optional row and feature subsampling, and early stopping on a held-out validation split.
import {Rng} from '../rng.js'
import {trainTestSplit} from '../split.js'
import {applyBinning, binData} from './binning.js'
import {binnedLeaf, type GrowParams, growTree} from './grower.js'
import {binaryLogloss, type Objective, softmax, squaredError} from './objectives.js'
import type {TreeParallelism} from './parallel.js'
import {addTreePredictions, type FlatTree, featureImportance, type Importance} from './tree.js'

export interface GbdtParams {
  readonly nEstimators: number
  readonly learningRate: number
  readonly numLeaves: number
  readonly maxDepth: number
  readonly minDataInLeaf: number
  readonly minSumHessianInLeaf: number
  readonly lambdaL2: number
  readonly minGainToSplit: number
  readonly maxBins: number
  /** Fraction of rows each iteration learns from (1 = all). */
  readonly baggingFraction: number
  /** Fraction of features each tree may split on (1 = all). */
  readonly featureFraction: number
  /** Stop when the validation loss has not improved for this many iterations (0 = never). */
  readonly earlyStoppingRounds: number
  readonly validationFraction: number
  readonly catSmooth: number
}

export interface GbdtModel {
  readonly objective: Objective['name']
  /** Score columns: 1 (regression, binary) or the number of classes (softmax). */
  readonly k: number
  readonly baseScore: Float64Array
  /** Trees in iteration order; tree t adds to score column treeClass[t]. Leaf values include the learning rate. */
  readonly trees: readonly FlatTree[]
  readonly treeClass: Int32Array
  readonly iterations: number
  readonly importance: Importance
}

export interface GbdtInput {
  /** One column per feature, indexed by frame row; NaN = missing; categories as level indices. */
  readonly columns: readonly Float64Array[]
  readonly categorical: readonly boolean[]
  /** The training rows of the columns. */
  readonly rows: Int32Array
  /** Target per frame row: the value (regression) or the class index (classification). */
  readonly y: ArrayLike<number>
  /** 0 for regression, else the number of classes. */
  readonly nClasses: number
  /** Worker threads for histograms, when the caller has them. */
  readonly parallel?: TreeParallelism
}

export function fitGbdt(input: GbdtInput, params: GbdtParams, seed: number): GbdtModel {
  const objective = input.nClasses === 0 ? squaredError : input.nClasses === 2 ? binaryLogloss : softmax(input.nClasses)
  const k = objective.k
  const rng = new Rng(seed)
  let fitRows = input.rows
  let validRows: Int32Array | undefined
  if (params.earlyStoppingRounds > 0) {
    const strata = input.nClasses > 0 ? Int32Array.from(input.rows, r => input.y[r]!) : undefined
    const split = trainTestSplit(input.rows.length, params.validationFraction, seed, strata)
    fitRows = Int32Array.from(split.train, i => input.rows[i]!)
    validRows = Int32Array.from(split.test, i => input.rows[i]!)
  }
  const data = binData(input.columns, input.categorical, fitRows, params.maxBins, seed, input.parallel)
  const n = data.nRows
  const y = Float64Array.from(fitRows, r => input.y[r]!)
  const all = Int32Array.from({length: n}, (_, i) => i)
  const baseScore = objective.initScore(y, all)
  const score = new Float64Array(n * k)
  fillRows(score, baseScore)
  const grad = Array.from({length: k}, () => new Float64Array(n))
  const hess = Array.from({length: k}, () => new Float64Array(n))

  const valid = validRows
    ? {
        bins: applyBinning(data.features, input.columns, validRows),
        n: validRows.length,
        y: Float64Array.from(validRows, r => input.y[r]!),
        score: new Float64Array(validRows.length * k),
        all: Int32Array.from({length: validRows.length}, (_, i) => i),
      }
    : undefined
  if (valid) fillRows(valid.score, baseScore)

  const grow: GrowParams = {
    k: 1,
    numLeaves: params.numLeaves,
    maxDepth: params.maxDepth,
    minDataInLeaf: params.minDataInLeaf,
    minSumHessian: params.minSumHessianInLeaf,
    lambdaL2: params.lambdaL2,
    minGainToSplit: params.minGainToSplit,
    catSmooth: params.catSmooth,
    order: 'best-first',
  }
  const trees: FlatTree[] = []
  const treeClass: number[] = []
  let bestLoss = Number.POSITIVE_INFINITY
  let bestIteration = 0
  const inSample = new Uint8Array(n)
  // Each tree reorders its rows in place; the buffers are reused from tree to tree, in shared memory so that
  // worker threads can partition them (HistogramFn.partition).
  const rowBuffer = new Int32Array(new SharedArrayBuffer(4 * n))
  const scratch = new Int32Array(new SharedArrayBuffer(4 * n))
  for (let iteration = 0; iteration < params.nEstimators; iteration++) {
    objective.gradients(score, y, all, grad, hess)
    const sample = params.baggingFraction < 1 ? bag(n, params.baggingFraction, rng) : all
    const features = params.featureFraction < 1 ? sampleFeatures(data.nFeatures, params.featureFraction, rng) : null
    if (sample !== all) {
      inSample.fill(0)
      for (const r of sample) inSample[r] = 1
    }
    for (let j = 0; j < k; j++) {
      const rows = rowBuffer.subarray(0, sample.length)
      rows.set(sample)
      const grown = growTree(
        {
          data,
          grad: grad[j]!,
          hess: hess[j]!,
          rows,
          scratch,
          sampleFeatures: features ? () => features : undefined,
          histogram: input.parallel?.histogram(data.bins, n, data.nFeatures, grad[j]!, hess[j]!, 1),
        },
        grow,
      )
      const tree = grown.tree
      for (let i = 0; i < tree.value.length; i++) tree.value[i] = tree.value[i]! * params.learningRate
      // Rows the tree learnt from sit in its leaves' ranges; the others are routed by their bins.
      for (let node = 0; node < tree.nNodes; node++) {
        if (tree.feature[node]! >= 0) continue
        const v = tree.value[node]!
        for (let i = grown.start[node]!; i < grown.end[node]!; i++)
          score[rows[i]! * k + j] = score[rows[i]! * k + j]! + v
      }
      if (sample !== all) {
        for (let r = 0; r < n; r++) {
          if (inSample[r]) continue
          score[r * k + j] = score[r * k + j]! + tree.value[binnedLeaf(grown, data.bins, data.nFeatures, r)]!
        }
      }
      if (valid) {
        for (let r = 0; r < valid.n; r++) {
          valid.score[r * k + j] =
            valid.score[r * k + j]! + tree.value[binnedLeaf(grown, valid.bins, data.nFeatures, r)]!
        }
      }
      trees.push(tree)
      treeClass.push(j)
    }
    if (valid) {
      const loss = objective.loss(valid.score, valid.y, valid.all)
      if (loss < bestLoss - 1e-12) {
        bestLoss = loss
        bestIteration = iteration + 1
      } else if (iteration + 1 - bestIteration >= params.earlyStoppingRounds) break
    } else bestIteration = iteration + 1
  }
  const kept = trees.slice(0, bestIteration * k)
  return {
    objective: objective.name,
    k,
    baseScore,
    trees: kept,
    treeClass: Int32Array.from(treeClass.slice(0, kept.length)),
    iterations: bestIteration,
    importance: featureImportance(kept, data.nFeatures),
  }
}

/** Raw scores (nRows × k, row-major) for column-major feature values. */
export function predictGbdtRaw(model: GbdtModel, columns: readonly Float64Array[], nRows: number): Float64Array {
  const out = new Float64Array(nRows * model.k)
  for (let i = 0; i < nRows; i++) out.set(model.baseScore, i * model.k)
  model.trees.forEach((tree, t) => {
    addTreePredictions(tree, columns, nRows, out, model.k, model.treeClass[t]!, 1)
  })
  return out
}

/** Sorted sample of round(fraction × n) distinct rows. */
function bag(n: number, fraction: number, rng: Rng): Int32Array {
  const m = Math.max(1, Math.round(fraction * n))
  const all = Int32Array.from({length: n}, (_, i) => i)
  for (let i = 0; i < m; i++) {
    const j = i + rng.nextInt(n - i)
    const t = all[i]!
    all[i] = all[j]!
    all[j] = t
  }
  return all.subarray(0, m).sort()
}

function sampleFeatures(nFeatures: number, fraction: number, rng: Rng): Int32Array {
  return bag(nFeatures, fraction, rng)
}

/** Sets every row of `scores` (nRows × K, row-major) to `row`; a `set` call per row costs more than the copy. */
function fillRows(scores: Float64Array, row: Float64Array): void {
  const k = row.length
  for (let i = 0; i < scores.length; i += k) for (let j = 0; j < k; j++) scores[i + j] = row[j]!
}
