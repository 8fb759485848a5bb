// `mlproj evaluate`: score a registered model (or a run's model) on labelled data through ONNX Runtime,
// compute the task's metrics, check quality gates and record the evaluation in the workspace.
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {DataFormat} from '../data/source.js'
import {DataError, ModelError} from '../errors.js'
import {type Column, cellText, findColumn} from '../ml/frame.js'
import {
  type ClassificationMetrics,
  checkGates,
  classificationMetrics,
  flattenMetrics,
  type GateResult,
  parseGate,
  type RegressionMetrics,
  regressionMetrics,
} from '../ml/metrics.js'
import {Predictor} from '../runtime/predictor.js'
import {recordEvaluation} from '../workspace/evaluations.js'
import {resolveModel} from '../workspace/registry.js'
import {type DatasetRecord, type FeatureImportance, getRun} from '../workspace/runs.js'
import {type LocateOptions, withWorkspace} from '../workspace/workspace.js'
import {datasetRecord, loadTable, withSource} from './inputs.js'

export interface EvaluateOptions {
  readonly workspace: LocateOptions
  readonly model: string
  readonly data: string
  /** Target column in the data (default: the target the model was trained on). */
  readonly target?: string
  /** Quality gates such as "auc<0.85": the evaluation fails when one holds. */
  readonly gates: readonly string[]
  readonly format?: DataFormat
  readonly stdin?: NodeJS.ReadableStream
  readonly onProgress?: (message: string) => void
}

export interface EvaluateResult {
  readonly evaluationId: string
  readonly model: {
    readonly ref: string
    readonly name: string | null
    readonly version: number | null
    readonly runId: string | null
  }
  readonly task: string
  readonly target: string
  readonly dataset: DatasetRecord
  /** Flat metric name → value, the names gates use. */
  readonly metrics: Record<string, number>
  /** Per-class figures and the confusion matrix (classification), or the regression figures. */
  readonly details: ClassificationMetrics | RegressionMetrics
  readonly gates: readonly GateResult[]
  readonly passed: boolean
  /** Tree models trained here: importance per input column, from the training run. */
  readonly importance?: readonly FeatureImportance[]
  readonly warnings: readonly string[]
}

export async function evaluate(options: EvaluateOptions): Promise<EvaluateResult> {
  const progress = options.onProgress ?? (() => {})
  const warnings: string[] = []
  const gates = options.gates.map(parseGate)
  return withWorkspace(options.workspace, async ws => {
    const model = resolveModel(ws, options.model)
    const {signature} = model
    const bytes = await readFile(join(ws.dir, model.artifactDir, 'model.onnx'))
    const predictor = await Predictor.load(bytes, signature, options.model)
    const targetName = options.target ?? signature.target
    return await withSource(options.data, options, async source => {
      progress(`scoring ${model.name ? `${model.name}:${model.version}` : options.model} on ${source.spec}`)
      const have = new Set(source.columns.map(c => c.name))
      if (!have.has(targetName)) {
        throw new DataError('E_DATA_MISSING_COLUMN', `target column "${targetName}" is not in ${source.spec}`, {
          hint: `pass --target with one of: ${source.columns.map(c => c.name).join(', ')}`,
          details: {file: source.spec, column: targetName},
        })
      }
      const missing = signature.inputs.filter(i => !have.has(i.name)).map(i => i.name)
      if (missing.length > 0) {
        throw new ModelError(
          'E_MODEL_SIGNATURE',
          `${source.spec} lacks ${missing.length === 1 ? 'column' : 'columns'} ${missing.map(m => `"${m}"`).join(', ')} that model ${options.model} needs`,
          {
            hint: `the model reads: ${signature.inputs.map(i => i.name).join(', ')}`,
            details: {file: source.spec, missing},
          },
        )
      }
      const targetKind = source.columns.find(c => c.name === targetName)!.kind
      const input = await loadTable(source, [
        ...predictor.columns.filter(c => c.name !== targetName),
        {
          name: targetName,
          kind: signature.task === 'regression' ? 'numeric' : targetKind === 'numeric' ? 'numeric' : 'categorical',
        },
      ])
      // In chunks: the model's input tensors stay small whatever the table's size.
      const all = Int32Array.from({length: input.frame.nRows}, (_, i) => i)
      const output = await predictor.predictRows(input.frame, all)
      const truth = findColumn(input.frame, targetName)!
      const details =
        signature.task === 'regression'
          ? scoreRegression(truth, output.values!)
          : scoreClassification(truth, output.labels!, signature.classes ?? [], output.probabilities, warnings)
      const metrics = flattenMetrics(details)
      const gateResults = checkGates(gates, metrics)
      const passed = gateResults.every(g => !g.failed)
      const dataset = datasetRecord(input, {target: targetName, task: signature.task})
      const record = recordEvaluation(ws, {
        modelRef: options.model,
        modelName: model.name,
        modelVersion: model.version,
        runId: model.runId,
        dataset: {...dataset},
        metrics,
        gates: gateResults,
        passed,
      })
      for (const w of warnings) progress(`warning: ${w}`)
      const importance = model.runId ? getRun(ws, model.runId).importance : undefined
      return {
        evaluationId: record.id,
        model: {ref: options.model, name: model.name, version: model.version, runId: model.runId},
        task: signature.task,
        target: targetName,
        dataset,
        metrics,
        details,
        gates: gateResults,
        passed,
        ...(importance ? {importance} : {}),
        warnings,
      }
    })
  })
}

function scoreRegression(truth: Column, predicted: Float64Array): RegressionMetrics {
  if (truth.kind !== 'numeric')
    throw new DataError('E_DATA_TARGET_TYPE', `target "${truth.name}" must be numeric for a regression model`)
  const rows: number[] = []
  for (let i = 0; i < truth.values.length; i++) if (!Number.isNaN(truth.values[i]!)) rows.push(i)
  if (rows.length === 0) {
    throw new DataError('E_DATA_TARGET_MISSING', `target "${truth.name}" is missing in every row`, {
      hint: 'evaluate needs labelled rows',
    })
  }
  return regressionMetrics(
    rows.map(i => truth.values[i]!),
    rows.map(i => predicted[i]!),
  )
}

/**
 * Compares predicted labels with the true ones as text (so 1 and "1" agree). True labels the model never
 * saw in training are kept as extra classes: always wrong, and AUC / log loss are then left out.
 */
function scoreClassification(
  truth: Column,
  predicted: readonly string[],
  modelClasses: readonly string[],
  probabilities: Float64Array | undefined,
  warnings: string[],
): ClassificationMetrics {
  const classes = [...modelClasses]
  const index = new Map(classes.map((c, i) => [c, i]))
  const classOf = (label: string) => {
    let i = index.get(label)
    if (i === undefined) {
      i = classes.length
      classes.push(label)
      index.set(label, i)
    }
    return i
  }
  const yTrue: number[] = []
  const yPred: number[] = []
  const rows: number[] = []
  for (let i = 0; i < predicted.length; i++) {
    const label = cellText(truth, i)
    if (label === null) continue
    rows.push(i)
    yTrue.push(classOf(label))
    yPred.push(classOf(predicted[i]!))
  }
  if (rows.length === 0) {
    throw new DataError('E_DATA_TARGET_MISSING', `target "${truth.name}" is missing in every row`, {
      hint: 'evaluate needs labelled rows',
    })
  }
  const unseen = classes.slice(modelClasses.length)
  let probs: Float64Array | undefined
  if (unseen.length > 0) {
    warnings.push(`labels the model never saw in training: ${unseen.join(', ')}; AUC and log loss are left out`)
  } else if (probabilities && modelClasses.length > 0) {
    const k = modelClasses.length
    probs = new Float64Array(rows.length * k)
    for (const [j, r] of rows.entries()) probs.set(probabilities.subarray(r * k, r * k + k), j * k)
  }
  return classificationMetrics(Int32Array.from(yTrue), Int32Array.from(yPred), classes, probs)
}
