// Exports a fitted pipeline as one ONNX graph: preprocessing, model and label decoding, in double precision
// so ONNX Runtime reproduces the TypeScript model to ~1e-12. Classifiers emit `label` and `probabilities`
// tensors (no ZipMap: onnxruntime-node cannot return its sequence-of-maps output).
import type {FittedModel} from '../ml/algorithms.js'
import type {FittedPipeline} from '../ml/pipeline.js'
import type {CategoricalInput, NumericInput, Preprocessor} from '../ml/preprocess.js'
import {GraphBuilder} from './graph.js'
import {pipelineSignature, SIGNATURE_METADATA_KEY, type Signature} from './signature.js'
import {treeEnsemble} from './trees.js'

export interface ExportedModel {
  readonly bytes: Uint8Array
  readonly signature: Signature
}

export function exportPipeline(pipeline: FittedPipeline, producerVersion: string): ExportedModel {
  const signature = pipelineSignature(pipeline)
  const g = new GraphBuilder()
  const onnxNames = new Map(signature.inputs.map(i => [i.name, i.onnxName]))
  for (const input of signature.inputs) g.input(input.onnxName, input.elemType, ['N', 1])
  const features = preprocessGraph(g, pipeline.preprocessor, onnxNames)
  modelGraph(g, pipeline, features)
  const bytes = g.encode({
    graphName: `mlproj_${pipeline.algo}`,
    docString: `${pipeline.algo} ${pipeline.target.task} model predicting "${pipeline.target.name}", trained by mlproj`,
    metadata: {[SIGNATURE_METADATA_KEY]: JSON.stringify(signature)},
    producerVersion,
  })
  return {bytes, signature}
}

/** Builds the design matrix [N, P] (double) in the preprocessor's feature order; returns its name. */
function preprocessGraph(g: GraphBuilder, pre: Preprocessor, onnxNames: Map<string, string>): string {
  const blocks: string[] = []
  for (const input of pre.inputs) {
    const x = onnxNames.get(input.name)!
    blocks.push(input.kind === 'numeric' ? numericBlock(g, pre, input, x) : categoricalBlock(g, pre, input, x))
  }
  return blocks.length === 1 ? blocks[0]! : g.op('Concat', blocks, 'features', {axis: 1})
}

function numericBlock(g: GraphBuilder, pre: Preprocessor, input: NumericInput, x: string): string {
  let out = x
  if (pre.impute) {
    const isNan = g.op('IsNaN', [out], `${x}_isnan`)
    out = g.op('Where', [isNan, g.doubles(`${x}_median`, [input.median], [1]), out], `${x}_imputed`)
  }
  if (pre.standardize) {
    const centred = g.op('Sub', [out, g.doubles(`${x}_mean`, [input.mean], [1])], `${x}_centred`)
    out = g.op('Div', [centred, g.doubles(`${x}_scale`, [input.scale], [1])], `${x}_scaled`)
  }
  return out
}

/**
 * One-hot: compare the string column [N,1] with the level list [L] → [N,L]. A missing value arrives as ''
 * and matches the "missing" level when training saw one; unseen categories match nothing (all zeros).
 * Ordinal: the level index, NaN for missing or unseen, for trees.
 */
function categoricalBlock(g: GraphBuilder, pre: Preprocessor, input: CategoricalInput, x: string): string {
  if (pre.encoding === 'ordinal') {
    const codes = g.op(
      'LabelEncoder',
      [x],
      `${x}_codes`,
      {
        keys_strings: [...input.levels],
        values_floats: {floats: input.levels.map((_, i) => i)},
        default_float: {float: Number.NaN},
      },
      'ai.onnx.ml',
    )
    return g.op('Cast', [codes], `${x}_ordinal`, {to: 11})
  }
  const levels = input.missingLevel ? [...input.levels, ''] : [...input.levels]
  const equal = g.op('Equal', [x, g.strings(`${x}_levels`, levels)], `${x}_onehot_bool`)
  return g.op('Cast', [equal], `${x}_onehot`, {to: 11})
}

function modelGraph(g: GraphBuilder, pipeline: FittedPipeline, features: string): void {
  const model: FittedModel = pipeline.model
  const nCols = pipeline.preprocessor.featureNames.length
  switch (model.kind) {
    case 'ridge': {
      const w = g.doubles('coef', model.coef, [nCols, 1])
      const product = g.op('MatMul', [features, w], 'product')
      g.op('Add', [product, g.doubles('intercept', [model.intercept], [1])], 'variable')
      g.output('variable', 'double', ['N', 1])
      return
    }
    case 'logistic': {
      const k = model.nClasses
      const rows = model.intercept.length
      const wt = new Float64Array(nCols * rows)
      for (let r = 0; r < rows; r++) for (let j = 0; j < nCols; j++) wt[j * rows + r] = model.coef[r * nCols + j]!
      const product = g.op('MatMul', [features, g.doubles('coef', wt, [nCols, rows])], 'product')
      const logits = g.op('Add', [product, g.doubles('intercept', model.intercept, [rows])], 'logits')
      classifierOutputs(g, pipeline, logits, k === 2)
      return
    }
    case 'gbdt': {
      const raw = treeEnsemble(
        g,
        features,
        model.trees.map((tree, t) => ({tree, targets: [model.treeClass[t]!]})),
        model.k,
        'SUM',
        'raw_scores',
      )
      const scores = g.op('Add', [raw, g.doubles('base_score', model.baseScore, [model.k])], 'scores')
      if (model.objective === 'squared_error') {
        g.op('Identity', [scores], 'variable')
        g.output('variable', 'double', ['N', 1])
        return
      }
      classifierOutputs(g, pipeline, scores, model.objective === 'binary_logloss')
      return
    }
    case 'tree':
    case 'forest':
      averagedTreesGraph(g, pipeline, model, features)
      return
  }
}

/**
 * A tree or forest: the mean of the trees' leaf values (class proportions, or values). SUM then a division
 * rather than aggregate AVERAGE: ONNX Runtime averages over tree roots, and a tree with K class proportions
 * is written once per class, so AVERAGE would divide by K × nTrees.
 */
function averagedTreesGraph(
  g: GraphBuilder,
  pipeline: FittedPipeline,
  model: Extract<FittedModel, {kind: 'tree' | 'forest'}>,
  features: string,
): void {
  const targets = Array.from({length: model.k}, (_, j) => j)
  const sum = treeEnsemble(
    g,
    features,
    model.trees.map(tree => ({tree, targets})),
    model.k,
    'SUM',
    'tree_sum',
  )
  const nTrees = model.trees.length
  const mean = nTrees > 1 ? g.op('Div', [sum, g.doubles('n_trees', [nTrees], [1])], 'tree_mean') : sum
  if (model.nClasses === 0) {
    g.op('Identity', [mean], 'variable')
    g.output('variable', 'double', ['N', 1])
    return
  }
  let probabilities: string
  if (model.k === 1) {
    // Two classes: the trees hold the proportion of class 1.
    const q = g.op('Sub', [g.doubles('one', [1], [1]), mean], 'p_negative')
    probabilities = g.op('Concat', [q, mean], 'probabilities', {axis: 1})
  } else probabilities = g.op('Identity', [mean], 'probabilities')
  labelGraph(g, pipeline, probabilities)
  g.output('probabilities', 'double', ['N', pipeline.target.classes!.length])
}

/** Scores → `probabilities` (sigmoid of one score for binary, softmax otherwise) and `label`. */
function classifierOutputs(g: GraphBuilder, pipeline: FittedPipeline, scores: string, binary: boolean): void {
  let probabilities: string
  if (binary) {
    const p = g.op('Sigmoid', [scores], 'p_positive')
    const q = g.op('Sub', [g.doubles('one', [1], [1]), p], 'p_negative')
    probabilities = g.op('Concat', [q, p], 'probabilities', {axis: 1})
  } else probabilities = g.op('Softmax', [scores], 'probabilities', {axis: 1})
  labelGraph(g, pipeline, probabilities)
  g.output('probabilities', 'double', ['N', pipeline.target.classes!.length])
}

/** label = classes[argmax(probabilities)]: int64 labels for integer classes, strings otherwise. */
function labelGraph(g: GraphBuilder, pipeline: FittedPipeline, probabilities: string): void {
  const classes = pipeline.target.classes!
  const index = g.op('ArgMax', [probabilities], 'class_index', {axis: 1, keepdims: 0})
  if (pipeline.target.labelType === 'integer') {
    g.op('Gather', [g.int64s('classes', classes.map(Number)), index], 'label')
    g.output('label', 'int64', ['N'])
  } else {
    g.op('Gather', [g.strings('classes', classes), index], 'label')
    g.output('label', 'string', ['N'])
  }
}
