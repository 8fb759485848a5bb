// `mlproj train`: read a table, infer the task, split, fit the pipeline, export it to ONNX, score both
// splits through ONNX Runtime (the same path every other command uses), and record it all as a run.
import {join} from 'node:path'
import type {DataFormat} from '../data/source.js'
import {DataError, UsageError} from '../errors.js'
import {type Algorithm, checkAlgoTask, defaultAlgo, getAlgorithm} from '../ml/algorithms.js'
import {type Frame, takeRows} from '../ml/frame.js'
import {classificationMetrics, flattenMetrics, regressionMetrics} from '../ml/metrics.js'
import {type Params, resolveParams} from '../ml/params.js'
import {type FittedPipeline, fitPipeline, predictPipeline} from '../ml/pipeline.js'
import {trainTestSplit} from '../ml/split.js'
import {encodeTarget, inferTask, labelledRows, type Target, type Task, takeTarget} from '../ml/target.js'
import {exportPipeline} from '../onnx/export.js'
import type {Signature} from '../onnx/signature.js'
import {type ModelOutput, Predictor} from '../runtime/predictor.js'
import {MLPROJ_VERSION} from '../version.js'
import {writeDirAtomic} from '../workspace/atomic.js'
import {checkAlias, checkModelName, registerVersion} from '../workspace/registry.js'
import {type DatasetRecord, failRun, finishRun, reapStaleRuns, startRun} from '../workspace/runs.js'
import {type LocateOptions, openWorkspace} from '../workspace/workspace.js'
import {chooseFeatures, datasetRecord, loadTable, withSource} from './inputs.js'
import {sha256} from './util.js'

export interface TrainOptions {
  readonly workspace: LocateOptions
  readonly data: string
  readonly target: string
  readonly algo?: string
  readonly task?: Task
  readonly features?: readonly string[]
  readonly ignore?: readonly string[]
  readonly testSize: number
  readonly seed: number
  readonly params: readonly string[]
  /** Free-form key=value labels recorded with the run. */
  readonly tags?: readonly string[]
  readonly experiment: string
  readonly runName?: string
  readonly save?: string
  readonly aliases?: readonly string[]
  readonly format?: DataFormat
  readonly stdin?: NodeJS.ReadableStream
  readonly onProgress?: (message: string) => void
}

export interface TrainResult {
  readonly runId: string
  readonly runName: string
  readonly experiment: string
  readonly task: Task
  readonly algo: string
  readonly params: Params
  readonly seed: number
  /** split ("test", "train") → metric → value. */
  readonly metrics: Record<string, Record<string, number>>
  readonly dataset: DatasetRecord
  readonly artifacts: {
    readonly dir: string
    readonly model: string
    readonly signature: string
    readonly metrics: string
  }
  readonly signature: Signature
  readonly model?: {readonly name: string; readonly version: number; readonly aliases: readonly string[]}
  readonly workspace: {readonly dir: string; readonly created: boolean}
  readonly warnings: readonly string[]
}

/** Probabilities and regression values of the ONNX model must match the TypeScript model to this. */
const PARITY_TOLERANCE = 1e-6

export async function train(options: TrainOptions): Promise<TrainResult> {
  const progress = options.onProgress ?? (() => {})
  const warnings: string[] = []
  const warn = (message: string) => {
    warnings.push(message)
    progress(`warning: ${message}`)
  }
  if (!(options.testSize >= 0 && options.testSize < 1)) {
    throw new UsageError('E_USAGE_TEST_SIZE', `--test-size ${options.testSize} is out of range`, {
      hint: 'give a fraction in [0, 1), e.g. --test-size 0.2; 0 trains on every row',
    })
  }
  if (options.save) checkModelName(options.save)
  for (const alias of options.aliases ?? []) checkAlias(alias)
  if (options.aliases?.length && !options.save) {
    throw new UsageError('E_USAGE_ALIAS', '--alias needs --save NAME', {hint: 'e.g. --save churn --alias candidate'})
  }
  const tags = parseTags(options.tags ?? [])
  const requested = options.algo ? getAlgorithm(options.algo) : undefined
  if (requested) {
    if (options.task) checkAlgoTask(requested, options.task)
    resolveParams(requested.name, requested.params, options.params)
  }

  const ws = await openWorkspace({...options.workspace, create: true})
  if (ws.created) progress(`created a workspace in ${ws.dir}`)
  reapStaleRuns(ws)
  const run = startRun(ws, {
    experiment: options.experiment,
    name: options.runName,
    algo: requested?.name,
    task: options.task,
    mlprojVersion: MLPROJ_VERSION,
  })
  progress(`run ${run.id} started in experiment "${options.experiment}"`)
  let dataset: DatasetRecord | undefined
  let algoName = requested?.name
  let task = options.task
  try {
    return await withSource(options.data, options, async source => {
      progress(`reading ${source.spec}`)
      const targetColumn = source.columns.find(c => c.name === options.target)
      if (!targetColumn) {
        throw new DataError('E_DATA_MISSING_COLUMN', `target column "${options.target}" is not in ${source.spec}`, {
          hint: `columns are: ${source.columns.map(c => c.name).join(', ')}`,
          details: {file: source.spec, column: options.target, columns: source.columns.map(c => c.name)},
        })
      }
      if (targetColumn.kind === 'unsupported') {
        throw new DataError('E_DATA_TARGET_TYPE', `target "${options.target}" has type ${targetColumn.type}`, {
          hint: 'the target must hold numbers (regression), or text, booleans or two numbers (classification)',
        })
      }
      const features = chooseFeatures(source, options.target, options, warn)
      const input = await loadTable(source, [...features, {name: options.target, kind: targetColumn.kind}])
      const targetData = input.frame.columns.at(-1)!
      const featureFrame: Frame = {nRows: input.frame.nRows, columns: input.frame.columns.slice(0, -1)}
      task = options.task ?? inferTask(targetData)
      progress(
        `task: ${task}${options.task ? '' : ` (inferred: target "${options.target}" ${targetData.kind === 'categorical' ? 'holds text' : task === 'classification' ? 'has two distinct values' : 'is numeric'})`}`,
      )
      const algo: Algorithm = requested ?? getAlgorithm(defaultAlgo(task))
      checkAlgoTask(algo, task)
      algoName = algo.name
      const params = resolveParams(algo.name, algo.params, options.params)

      const encoded = encodeTarget(targetData, task, source.spec)
      const labelled = labelledRows(encoded)
      dataset = datasetRecord(input, {
        target: options.target,
        task,
        features: features.map(f => f.name),
        rowsWithoutTarget: input.frame.nRows - labelled.length,
      })
      checkTarget(encoded, labelled, input.frame.nRows, source.spec)
      if (labelled.length < input.frame.nRows) {
        warn(
          `${input.frame.nRows - labelled.length} of ${input.frame.nRows} rows have no value for target "${options.target}": left out`,
        )
      }
      // Rows are chosen by index into the loaded frame: nothing is copied but the chunks scored below.
      const strata = encoded.task === 'classification' ? gather(encoded.y, labelled) : undefined
      const split = trainTestSplit(labelled.length, options.testSize, options.seed, strata)
      const trainRows = gather(labelled, split.train)
      const testRows = gather(labelled, split.test)
      progress(
        `training ${algo.name} on ${trainRows.length} rows × ${features.length} columns (${testRows.length} held out)`,
      )
      const pipeline = fitPipeline(featureFrame, encoded, algo, params, options.seed, trainRows)

      const exported = exportPipeline(pipeline, MLPROJ_VERSION)
      const predictor = await Predictor.load(exported.bytes, exported.signature, 'the exported model')
      const metrics: Record<string, Record<string, number>> = {
        train: splitMetrics(await predictor.predictRows(featureFrame, trainRows), takeTarget(encoded, trainRows)),
      }
      if (testRows.length > 0) {
        const onnxOutput = await predictor.predictRows(featureFrame, testRows)
        checkParity(pipeline, featureFrame, testRows, onnxOutput)
        metrics.test = splitMetrics(onnxOutput, takeTarget(encoded, testRows))
      }

      const artifactDir = join('artifacts', run.id)
      await writeDirAtomic(join(ws.dir, artifactDir), {
        'model.onnx': exported.bytes,
        'signature.json': `${JSON.stringify(exported.signature, null, 2)}\n`,
        'metrics.json': `${JSON.stringify(metrics, null, 2)}\n`,
      })
      const runName = options.runName ?? `${algo.name}-${run.seq}`
      finishRun(ws, run.id, {
        name: runName,
        algo: algo.name,
        task,
        params: {...params, seed: options.seed, testSize: options.testSize},
        metrics,
        tags,
        dataset,
        artifactDir,
      })
      progress(`run ${run.id} finished; model in ${join(ws.dir, artifactDir, 'model.onnx')}`)

      let model: TrainResult['model']
      if (options.save) {
        const version = registerVersion(ws, {
          name: options.save,
          runId: run.id,
          source: 'run',
          artifactDir,
          sha256: sha256(exported.bytes),
          signature: exported.signature,
          algo: algo.name,
          aliases: options.aliases ?? [],
        })
        model = {name: version.name, version: version.version, aliases: version.aliases}
        progress(`saved as ${version.name}:${version.version}${version.aliases.map(a => ` @${a}`).join('')}`)
      }
      return {
        runId: run.id,
        runName,
        experiment: options.experiment,
        task,
        algo: algo.name,
        params,
        seed: options.seed,
        metrics,
        dataset,
        artifacts: {
          dir: join(ws.dir, artifactDir),
          model: join(ws.dir, artifactDir, 'model.onnx'),
          signature: join(ws.dir, artifactDir, 'signature.json'),
          metrics: join(ws.dir, artifactDir, 'metrics.json'),
        },
        signature: exported.signature,
        model,
        workspace: {dir: ws.dir, created: ws.created},
        warnings,
      }
    })
  } catch (error) {
    failRun(ws, run.id, error, {dataset, algo: algoName, task})
    throw error
  } finally {
    ws.db.close()
  }
}

function gather(values: Int32Array, index: Int32Array): Int32Array {
  const out = new Int32Array(index.length)
  for (let i = 0; i < index.length; i++) out[i] = values[index[i]!]!
  return out
}

function parseTags(assignments: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=')
    if (eq <= 0) {
      throw new UsageError('E_USAGE_TAG', `--tag "${assignment}" is not of the form key=value`, {
        hint: 'e.g. --tag owner=ana --tag ticket=ML-42',
      })
    }
    tags[assignment.slice(0, eq).trim()] = assignment.slice(eq + 1).trim()
  }
  return tags
}

function checkTarget(target: Target, labelled: Int32Array, nRows: number, where: string): void {
  if (labelled.length === 0) {
    throw new DataError(
      'E_DATA_TARGET_MISSING',
      `target "${target.name}" is missing in all ${nRows} rows of ${where}`,
      {
        hint: 'check the target column name and that the file has values in it',
      },
    )
  }
  if (target.task === 'classification') {
    const seen = new Set<number>()
    for (const i of labelled) seen.add(target.y[i]!)
    if (seen.size < 2) {
      const only = target.classes[[...seen][0]!]
      throw new DataError('E_DATA_SINGLE_CLASS', `target "${target.name}" has a single class ("${only}") in ${where}`, {
        hint: 'classification needs at least two classes; check the data, or use --task regression for a numeric target',
      })
    }
  }
}

function splitMetrics(output: ModelOutput, target: Target): Record<string, number> {
  if (target.task === 'regression') return flattenMetrics(regressionMetrics(target.y, output.values!))
  return flattenMetrics(classificationMetrics(target.y, output.classIndex!, target.classes, output.probabilities))
}

/** Held-out rows checked against the in-memory model: enough to catch an export bug, bounded in cost. */
const PARITY_ROWS = 10_000

/** The exported graph must reproduce the in-memory model; a mismatch is a bug in mlproj, not in the data. */
function checkParity(pipeline: FittedPipeline, frame: Frame, rows: Int32Array, onnx: ModelOutput): void {
  const checked = rows.subarray(0, PARITY_ROWS)
  const ts = predictPipeline(pipeline, takeRows(frame, checked))
  const expected = ts.probabilities ?? ts.values!
  const actual = onnx.probabilities ?? onnx.values!
  let worst = 0
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i]! - actual[i]!))
  const labelsDiffer = ts.labels?.some((l, i) => l !== onnx.classIndex![i])
  if (worst > PARITY_TOLERANCE || labelsDiffer) {
    throw new Error(`the exported ONNX model disagrees with the trained model (max difference ${worst})`)
  }
}
