// A fitted pipeline: preprocessing + model + what the target looks like. This immutable value is what
// training produces, what the ONNX exporter consumes, and what parity tests compare ONNX Runtime against.
import {type Algorithm, type FittedModel, predictModel} from './algorithms.js'
import type {Frame} from './frame.js'
import type {Params} from './params.js'
import {fitPreprocessor, type Preprocessor} from './preprocess.js'
import type {LabelType, Target, Task} from './target.js'
import type {TreeParallelism} from './tree/parallel.js'

export interface TargetInfo {
  readonly name: string
  readonly task: Task
  readonly classes?: readonly string[]
  readonly labelType?: LabelType
}

export interface FittedPipeline {
  readonly algo: string
  readonly params: Params
  readonly target: TargetInfo
  readonly preprocessor: Preprocessor
  readonly model: FittedModel
}

export interface Prediction {
  readonly nRows: number
  /** Classification: predicted class index per row (first maximum, as ONNX ArgMax). */
  readonly labels?: Int32Array
  /** Classification: nRows × K probabilities, row-major. */
  readonly probabilities?: Float64Array
  /** Regression: predicted values. */
  readonly values?: Float64Array
}

/**
 * Fits preprocessing and model on `rows` of `features` (all rows when omitted); `target` is indexed like the
 * frame and has no missing value at those rows. Rows are selected by index, never copied out of the frame.
 */
export function fitPipeline(
  features: Frame,
  target: Target,
  algo: Algorithm,
  params: Params,
  seed: number,
  rows: Int32Array = Int32Array.from({length: features.nRows}, (_, i) => i),
  parallel?: TreeParallelism,
): FittedPipeline {
  const preprocessor = fitPreprocessor(features, algo.preprocess, rows)
  const model = algo.fit({frame: features, rows, preprocessor, target, parallel}, params, seed)
  const info: TargetInfo =
    target.task === 'classification'
      ? {name: target.name, task: target.task, classes: target.classes, labelType: target.labelType}
      : {name: target.name, task: target.task}
  return {algo: algo.name, params, target: info, preprocessor, model}
}

export function predictPipeline(pipeline: FittedPipeline, features: Frame): Prediction {
  const raw = predictModel(pipeline.model, pipeline.preprocessor, features)
  if (raw.probabilities) {
    const k = pipeline.target.classes!.length
    return {nRows: features.nRows, probabilities: raw.probabilities, labels: argmaxRows(raw.probabilities, k)}
  }
  return {nRows: features.nRows, values: raw.values}
}

/** Index of the first maximum of each row of an nRows × k matrix. */
export function argmaxRows(matrix: ArrayLike<number>, k: number): Int32Array {
  const n = matrix.length / k
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    let best = 0
    let bestValue = matrix[i * k]!
    for (let j = 1; j < k; j++) {
      const v = matrix[i * k + j]!
      if (v > bestValue) {
        bestValue = v
        best = j
      }
    }
    out[i] = best
  }
  return out
}
