// The algorithm registry: what `--algo` accepts, which tasks each handles, its preprocessing, its
// hyperparameters (names and defaults as scikit-learn / LightGBM users expect) and how it fits.
// Adding an algorithm means adding an entry here, a FittedModel variant and its ONNX exporter.
import {UsageError} from '../errors.js'
import type {Frame} from './frame.js'
import {fitRidge, predictRidge, type RidgeModel} from './linear.js'
import {fitLogistic, type LogisticModel, predictProbaLogistic} from './logistic.js'
import {bool, num, type ParamSpecs, type Params} from './params.js'
import {type PreprocessOptions, type Preprocessor, transform} from './preprocess.js'
import {type Target, type Task, takeTarget} from './target.js'
import {featureColumns} from './tree/binning.js'
import {type CartParams, fitCart, predictTrees, type TreeModel} from './tree/cart.js'
import {type ForestModel, type ForestParams, fitForest} from './tree/forest.js'
import {fitGbdt, type GbdtModel, type GbdtParams, predictGbdtRaw} from './tree/gbdt.js'
import type {TreeParallelism} from './tree/parallel.js'

export type FittedModel =
  | ({readonly kind: 'ridge'} & RidgeModel)
  | ({readonly kind: 'logistic'} & LogisticModel)
  | ({readonly kind: 'gbdt'} & GbdtModel)
  | ({readonly kind: 'tree'} & TreeModel)
  | ({readonly kind: 'forest'} & ForestModel)

export interface TrainingSet {
  readonly frame: Frame
  /** The training rows of `frame` (and of `target`, which is indexed like the frame). */
  readonly rows: Int32Array
  /** Fitted on `rows`. */
  readonly preprocessor: Preprocessor
  readonly target: Target
  /** Worker threads that tree learners may use. */
  readonly parallel?: TreeParallelism
}

/** The design matrix of the training rows (nRows × nCols, row-major) and their targets. */
function designMatrix({frame, rows, preprocessor, target}: TrainingSet) {
  const X = transform(preprocessor, frame, rows)
  return {X, nRows: rows.length, nCols: preprocessor.featureNames.length, target: takeTarget(target, rows)}
}

export interface Algorithm {
  readonly name: string
  readonly summary: string
  readonly tasks: readonly Task[]
  readonly preprocess: PreprocessOptions
  readonly params: ParamSpecs
  fit(data: TrainingSet, params: Params, seed: number): FittedModel
}

const linearPreprocess: PreprocessOptions = {impute: true, standardize: true, encoding: 'onehot'}

const linear: Algorithm = {
  name: 'linear',
  summary: 'ridge regression (L2-regularised least squares), like scikit-learn Ridge',
  tasks: ['regression'],
  preprocess: linearPreprocess,
  params: {
    alpha: {type: 'float', default: 1, min: 0, description: 'L2 penalty strength (scikit-learn Ridge alpha)'},
    fitIntercept: {type: 'bool', default: true, description: 'fit an intercept term'},
  },
  fit(data, params) {
    const {X, nRows, nCols, target} = designMatrix(data)
    if (target.task !== 'regression') throw new Error('linear fits regression targets only')
    const model = fitRidge(X, nRows, nCols, target.y, {
      alpha: num(params, 'alpha'),
      fitIntercept: bool(params, 'fitIntercept'),
    })
    return {kind: 'ridge', ...model}
  },
}

const logistic: Algorithm = {
  name: 'logistic',
  summary: 'L2-regularised logistic regression, binary or multinomial, like scikit-learn LogisticRegression',
  tasks: ['classification'],
  preprocess: linearPreprocess,
  params: {
    c: {
      type: 'float',
      default: 1,
      min: 0,
      minInclusive: false,
      description: 'inverse L2 penalty strength (scikit-learn C)',
    },
    maxIter: {type: 'int', default: 100, min: 1, description: 'maximum L-BFGS iterations'},
    tol: {
      type: 'float',
      default: 1e-4,
      min: 0,
      minInclusive: false,
      description: 'stop when the largest gradient entry is below this',
    },
    fitIntercept: {type: 'bool', default: true, description: 'fit an intercept term'},
  },
  fit(data, params) {
    const {X, nRows, nCols, target} = designMatrix(data)
    if (target.task !== 'classification') throw new Error('logistic fits classification targets only')
    const model = fitLogistic(X, nRows, nCols, target.y, target.classes.length, {
      c: num(params, 'c'),
      maxIter: num(params, 'maxIter'),
      tol: num(params, 'tol'),
      fitIntercept: bool(params, 'fitIntercept'),
    })
    return {kind: 'logistic', ...model}
  },
}

const treePreprocess: PreprocessOptions = {impute: false, standardize: false, encoding: 'ordinal'}

/** Tree inputs: one column per feature (NaN = missing), categories as level indices, the target per frame row. */
function treeInput({frame, rows, preprocessor, target, parallel}: TrainingSet) {
  return {
    parallel,
    columns: featureColumns(preprocessor, frame),
    categorical: preprocessor.inputs.map(i => i.kind === 'categorical'),
    rows,
    y: target.y,
    nClasses: target.task === 'classification' ? target.classes.length : 0,
  }
}

const gbdt: Algorithm = {
  name: 'gbdt',
  summary: 'histogram gradient-boosted trees (leaf-wise), like LightGBM and scikit-learn HistGradientBoosting',
  tasks: ['classification', 'regression'],
  preprocess: treePreprocess,
  params: {
    nEstimators: {type: 'int', default: 100, min: 1, description: 'boosting iterations (trees per class)'},
    learningRate: {type: 'float', default: 0.1, min: 0, minInclusive: false, description: 'shrinkage of each tree'},
    numLeaves: {type: 'int', default: 31, min: 2, description: 'maximum leaves per tree'},
    maxDepth: {type: 'int', default: -1, min: -1, description: 'maximum depth of a leaf (-1: no bound)'},
    minDataInLeaf: {type: 'int', default: 20, min: 1, description: 'minimum rows in a leaf'},
    minSumHessianInLeaf: {type: 'float', default: 1e-3, min: 0, description: 'minimum sum of hessians in a leaf'},
    lambdaL2: {type: 'float', default: 0, min: 0, description: 'L2 regularisation of leaf values'},
    minGainToSplit: {type: 'float', default: 0, min: 0, description: 'minimum gain to make a split'},
    maxBins: {
      type: 'int',
      default: 255,
      min: 2,
      max: 255,
      description: 'bins per feature (a further bin holds missing values)',
    },
    baggingFraction: {
      type: 'float',
      default: 1,
      min: 0,
      minInclusive: false,
      max: 1,
      description: 'fraction of rows per iteration',
    },
    featureFraction: {
      type: 'float',
      default: 1,
      min: 0,
      minInclusive: false,
      max: 1,
      description: 'fraction of features per tree',
    },
    earlyStoppingRounds: {
      type: 'int',
      default: 0,
      min: 0,
      description: 'stop after this many rounds without validation improvement (0: off)',
    },
    validationFraction: {
      type: 'float',
      default: 0.1,
      min: 0,
      minInclusive: false,
      max: 0.5,
      description: 'share of training rows held out for early stopping',
    },
    catSmooth: {type: 'float', default: 10, min: 0, description: 'smoothing when ordering categories for a split'},
  },
  fit(data, params, seed) {
    const model = fitGbdt(treeInput(data), params as unknown as GbdtParams, seed)
    return {kind: 'gbdt', ...model}
  },
}

/** CART parameters shared by `tree` and `forest` (scikit-learn's names in camelCase). */
const cartParams: ParamSpecs = {
  criterion: {
    type: 'enum',
    default: 'auto',
    values: ['auto', 'gini', 'entropy', 'squared_error'],
    description:
      'split quality: gini or entropy (classification), squared_error (regression); auto picks gini / squared_error',
  },
  maxDepth: {type: 'int', default: -1, min: -1, description: 'maximum depth of a leaf (-1: no bound)'},
  minSamplesLeaf: {type: 'int', default: 1, min: 1, description: 'minimum rows in a leaf'},
  minSamplesSplit: {type: 'int', default: 2, min: 2, description: 'minimum rows in a node to split it'},
  maxLeafNodes: {
    type: 'int',
    default: 0,
    min: 0,
    description: 'maximum leaves, grown best-first (0: no bound, depth-first)',
  },
  maxBins: {
    type: 'int',
    default: 255,
    min: 2,
    max: 255,
    description: 'bins per feature (a further bin holds missing values)',
  },
}

const tree: Algorithm = {
  name: 'tree',
  summary: 'a CART decision tree, like scikit-learn DecisionTreeClassifier / DecisionTreeRegressor',
  tasks: ['classification', 'regression'],
  preprocess: treePreprocess,
  params: cartParams,
  fit(data, params, seed) {
    const model = fitCart(treeInput(data), params as unknown as CartParams, seed)
    return {kind: 'tree', ...model}
  },
}

const forest: Algorithm = {
  name: 'forest',
  summary: 'a random forest of CART trees on bootstrap samples, like scikit-learn RandomForestClassifier / Regressor',
  tasks: ['classification', 'regression'],
  preprocess: treePreprocess,
  params: {
    nEstimators: {type: 'int', default: 100, min: 1, description: 'number of trees'},
    ...cartParams,
    maxFeatures: {
      type: 'string',
      default: 'auto',
      description:
        'features each split looks at: sqrt, log2, all, or a fraction in (0, 1]; auto = sqrt (classification), all (regression)',
    },
    bootstrap: {type: 'bool', default: true, description: 'grow each tree on a bootstrap sample of the rows'},
  },
  fit(data, params, seed) {
    const model = fitForest(treeInput(data), params as unknown as ForestParams, seed, data.parallel)
    return {kind: 'forest', ...model}
  },
}

export const ALGORITHMS: Readonly<Record<string, Algorithm>> = {linear, logistic, gbdt, tree, forest}

export const ALGO_NAMES = Object.keys(ALGORITHMS)

/** The algorithm used when `--algo` is omitted. */
export function defaultAlgo(task: Task): string {
  return task === 'classification' ? 'logistic' : 'linear'
}

export function getAlgorithm(name: string): Algorithm {
  const algo = ALGORITHMS[name]
  if (!algo) {
    throw new UsageError('E_USAGE_ALGO', `unknown --algo "${name}"`, {
      hint: `choose one of: ${ALGO_NAMES.join(', ')}`,
      details: {algo: name, valid: ALGO_NAMES},
    })
  }
  return algo
}

export function checkAlgoTask(algo: Algorithm, task: Task): void {
  if (!algo.tasks.includes(task)) {
    const fits = ALGO_NAMES.filter(n => ALGORITHMS[n]!.tasks.includes(task))
    throw new UsageError('E_USAGE_ALGO', `--algo ${algo.name} does not do ${task}`, {
      hint: `for ${task} use --algo ${fits.join(' or ')}, or set --task`,
    })
  }
}

/** Importance per input column (tree models), largest total gain first; undefined for linear models. */
export function modelImportance(
  model: FittedModel,
  preprocessor: Preprocessor,
): Array<{feature: string; gain: number; splits: number}> | undefined {
  if (!('importance' in model)) return undefined
  const {gain, splits} = model.importance
  return preprocessor.inputs
    .map((input, f) => ({feature: input.name, gain: gain[f]!, splits: splits[f]!}))
    .sort((a, b) => b.gain - a.gain || a.feature.localeCompare(b.feature))
}

/** Raw model output on a frame: class probabilities (nRows × K, row-major) or regression values. */
export function predictModel(
  model: FittedModel,
  preprocessor: Preprocessor,
  frame: Frame,
): {probabilities?: Float64Array; values?: Float64Array} {
  const nCols = preprocessor.featureNames.length
  switch (model.kind) {
    case 'ridge':
      return {values: predictRidge(model, transform(preprocessor, frame), frame.nRows, nCols)}
    case 'logistic':
      return {probabilities: predictProbaLogistic(model, transform(preprocessor, frame), frame.nRows)}
    case 'gbdt':
      return scoresToOutput(
        model.objective,
        predictGbdtRaw(model, featureColumns(preprocessor, frame), frame.nRows),
        model.k,
      )
    case 'tree':
    case 'forest':
      return predictTrees(model, featureColumns(preprocessor, frame), frame.nRows)
  }
}

/** Raw boosting scores to probabilities (sigmoid, softmax) or values, as the ONNX graph does it. */
function scoresToOutput(
  objective: GbdtModel['objective'],
  raw: Float64Array,
  k: number,
): {probabilities?: Float64Array; values?: Float64Array} {
  if (objective === 'squared_error') return {values: raw}
  if (objective === 'binary_logloss') {
    const probabilities = new Float64Array(raw.length * 2)
    for (let i = 0; i < raw.length; i++) {
      const p = 1 / (1 + Math.exp(-raw[i]!))
      probabilities[2 * i] = 1 - p
      probabilities[2 * i + 1] = p
    }
    return {probabilities}
  }
  const n = raw.length / k
  const probabilities = new Float64Array(raw.length)
  for (let i = 0; i < n; i++) {
    let max = Number.NEGATIVE_INFINITY
    for (let j = 0; j < k; j++) max = Math.max(max, raw[i * k + j]!)
    let sum = 0
    for (let j = 0; j < k; j++) sum += probabilities[i * k + j] = Math.exp(raw[i * k + j]! - max)
    for (let j = 0; j < k; j++) probabilities[i * k + j] = probabilities[i * k + j]! / sum
  }
  return {probabilities}
}
