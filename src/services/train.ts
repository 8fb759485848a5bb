// `mlproj train`: read a table, infer the task, split, fit the pipeline, export it to ONNX, score both
// splits through ONNX Runtime (the same path every other command uses), and record it all as a run.
// `--algo auto` fits every candidate algorithm on the same split, each as its own run, and keeps the best.
import {join} from 'node:path'
import type {DataFormat} from '../data/source.js'
import {DataError, UsageError} from '../errors.js'
import {type Algorithm, checkAlgoTask, defaultAlgo, getAlgorithm, modelImportance} from '../ml/algorithms.js'
import {type Frame, takeRows} from '../ml/frame.js'
import {classificationMetrics, flattenMetrics, regressionMetrics} from '../ml/metrics.js'
import {type Params, resolveParams} from '../ml/params.js'
import {type FittedPipeline, fitPipeline, type Prediction, predictPipeline} from '../ml/pipeline.js'
import {Rng} from '../ml/rng.js'
import {trainTestSplit} from '../ml/split.js'
import {encodeTarget, inferTask, labelledRows, type Target, type Task, takeTarget} from '../ml/target.js'
import {type ExportedModel, exportPipeline} from '../onnx/export.js'
import type {Signature} from '../onnx/signature.js'
import {TreeThreads} from '../parallel/histograms.js'
import {configuredThreads} from '../parallel/spawn.js'
import {type ModelOutput, Predictor} from '../runtime/predictor.js'
import {MLPROJ_VERSION} from '../version.js'
import {writeDirAtomic} from '../workspace/atomic.js'
import {checkAlias, checkModelName, registerVersion} from '../workspace/registry.js'
import {
  type DatasetRecord,
  type FeatureImportance,
  failRun,
  finishRun,
  reapStaleRuns,
  startRun,
} from '../workspace/runs.js'
import {type LocateOptions, openWorkspace, type Workspace} from '../workspace/workspace.js'
import {chooseFeatures, datasetRecord, loadTable, withSource} from './inputs.js'
import {sha256} from './util.js'

export interface TrainOptions {
  readonly workspace: LocateOptions
  readonly data: string
  readonly target: string
  /** An algorithm name, `auto`, or undefined for the task's default. */
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

export interface CandidateSummary {
  readonly runId: string
  readonly algo: string
  /** The selection metric on the held-out split. */
  readonly metric: string
  readonly value: number | undefined
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
  /** Tree models: total gain and split count per input column, largest gain first. */
  readonly importance?: readonly FeatureImportance[]
  /** `--algo auto`: every candidate fitted, in order; the result above is the best of them. */
  readonly candidates?: readonly CandidateSummary[]
  readonly model?: {readonly name: string; readonly version: number; readonly aliases: readonly string[]}
  readonly workspace: {readonly dir: string; readonly created: boolean}
  readonly warnings: readonly string[]
}

export const AUTO = 'auto'

/** The algorithms `--algo auto` tries for each task, with default params. */
const AUTO_CANDIDATES: Record<Task, readonly string[]> = {
  classification: ['logistic', 'gbdt', 'forest'],
  regression: ['linear', 'gbdt', 'forest'],
}

/** Probabilities and regression values of the ONNX model must match the TypeScript model to this. */
const PARITY_TOLERANCE = 1e-6
/** Held-out rows checked against the in-memory model: enough to catch an export bug, bounded in cost. */
const PARITY_ROWS = 10_000
/**
 * Training-split metrics are computed on at most this many training rows (a seeded sample): they only show
 * over-fitting, and scoring every training row through ONNX Runtime cost more than the fit on 1M rows.
 */
export const TRAIN_METRIC_ROWS = 100_000

/** Everything the candidates share: the loaded data, the target and the split. */
interface Prepared {
  readonly task: Task
  readonly dataset: DatasetRecord
  readonly frame: Frame
  readonly target: Target
  readonly trainRows: Int32Array
  readonly testRows: Int32Array
}

interface Fitted {
  readonly runId: string
  readonly runName: string
  readonly algo: Algorithm
  readonly params: Params
  readonly metrics: Record<string, Record<string, number>>
  readonly signature: Signature
  readonly importance?: readonly FeatureImportance[]
  readonly artifactDir: string
  readonly modelSha256: string
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const progress = options.onProgress ?? (() => {})
  configuredThreads() // a bad MLPROJ_THREADS fails before the run starts
  const warnings: string[] = []
  const warn = (message: string) => {
    warnings.push(message)
    progress(`warning: ${message}`)
  }
  const requested = checkOptions(options)
  const tags = parseTags(options.tags ?? [])

  const ws = await openWorkspace({...options.workspace, create: true})
  if (ws.created) progress(`created a workspace in ${ws.dir}`)
  try {
    reapStaleRuns(ws)
    // The first run starts before the data is read, so that a data error is recorded as a failed run.
    const first = startRun(ws, {
      experiment: options.experiment,
      name: options.runName,
      algo: requested?.name,
      task: options.task,
      mlprojVersion: MLPROJ_VERSION,
    })
    progress(`run ${first.id} started in experiment "${options.experiment}"`)
    let prepared: Prepared | undefined
    try {
      return await withSource(options.data, options, async source => {
        prepared = await prepare(source, options, progress, warn)
        const {task} = prepared
        const algos =
          options.algo === AUTO
            ? AUTO_CANDIDATES[task].map(getAlgorithm)
            : [requested ?? getAlgorithm(defaultAlgo(task))]
        for (const algo of algos) checkAlgoTask(algo, task)
        const fitted: Fitted[] = []
        for (const [i, algo] of algos.entries()) {
          const run =
            i === 0
              ? first
              : startRun(ws, {experiment: options.experiment, algo: algo.name, task, mlprojVersion: MLPROJ_VERSION})
          const params = resolveParams(algo.name, algo.params, options.params)
          try {
            fitted.push(await fitAndRecord(ws, run, algo, params, prepared, options, tags, progress))
          } catch (error) {
            failRun(ws, run.id, error, {dataset: prepared.dataset, algo: algo.name, task})
            throw error
          }
        }
        const selection = selectionMetric(prepared)
        const best = options.algo === AUTO ? pickBest(fitted, selection, prepared, warn) : fitted[0]!
        if (options.algo === AUTO) progress(`best by ${selection.metric}: ${best.algo.name} (run ${best.runId})`)
        let model: TrainResult['model']
        if (options.save) {
          const version = registerVersion(ws, {
            name: options.save,
            runId: best.runId,
            source: 'run',
            artifactDir: best.artifactDir,
            sha256: best.modelSha256,
            signature: best.signature,
            algo: best.algo.name,
            aliases: options.aliases ?? [],
          })
          model = {name: version.name, version: version.version, aliases: version.aliases}
          progress(`saved as ${version.name}:${version.version}${version.aliases.map(a => ` @${a}`).join('')}`)
        }
        const dir = join(ws.dir, best.artifactDir)
        return {
          runId: best.runId,
          runName: best.runName,
          experiment: options.experiment,
          task,
          algo: best.algo.name,
          params: best.params,
          seed: options.seed,
          metrics: best.metrics,
          dataset: prepared.dataset,
          artifacts: {
            dir,
            model: join(dir, 'model.onnx'),
            signature: join(dir, 'signature.json'),
            metrics: join(dir, 'metrics.json'),
          },
          signature: best.signature,
          importance: best.importance,
          candidates:
            options.algo === AUTO
              ? fitted.map(f => ({
                  runId: f.runId,
                  algo: f.algo.name,
                  metric: selection.metric,
                  value: (f.metrics.test ?? f.metrics.train)?.[selection.metric],
                }))
              : undefined,
          model,
          workspace: {dir: ws.dir, created: ws.created},
          warnings,
        }
      })
    } catch (error) {
      failRun(ws, first.id, error, {
        dataset: prepared?.dataset,
        algo: requested?.name,
        task: prepared?.task ?? options.task,
      })
      throw error
    }
  } finally {
    ws.db.close()
  }
}

/** Command-line checks that need no data: a mistake here is a usage error and records no run. */
function checkOptions(options: TrainOptions): Algorithm | undefined {
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
  if (options.algo === AUTO) {
    if (options.params.length > 0) {
      throw new UsageError('E_USAGE_PARAM', '--param cannot be combined with --algo auto', {
        hint: 'auto compares every candidate with its default params; pick an --algo to tune it',
      })
    }
    if (options.runName) {
      throw new UsageError('E_USAGE_RUN_NAME', '--run-name cannot be combined with --algo auto', {
        hint: 'each candidate is its own run, named <algo>-<n>',
      })
    }
    return undefined
  }
  const requested = options.algo ? getAlgorithm(options.algo) : undefined
  if (requested) {
    if (options.task) checkAlgoTask(requested, options.task)
    resolveParams(requested.name, requested.params, options.params)
  }
  return requested
}

/** Reads the data, infers the task, checks the target and splits the labelled rows. */
async function prepare(
  source: Parameters<Parameters<typeof withSource>[2]>[0],
  options: TrainOptions,
  progress: (message: string) => void,
  warn: (message: string) => void,
): Promise<Prepared> {
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
  const frame: Frame = {nRows: input.frame.nRows, columns: input.frame.columns.slice(0, -1)}
  const task = options.task ?? inferTask(targetData)
  const why =
    targetData.kind === 'categorical'
      ? 'holds text'
      : task === 'classification'
        ? 'has two distinct values'
        : 'is numeric'
  progress(`task: ${task}${options.task ? '' : ` (inferred: target "${options.target}" ${why})`}`)
  const target = encodeTarget(targetData, task, source.spec)
  const labelled = labelledRows(target)
  const dataset = datasetRecord(input, {
    target: options.target,
    task,
    features: features.map(f => f.name),
    rowsWithoutTarget: input.frame.nRows - labelled.length,
  })
  checkTarget(target, labelled, input.frame.nRows, source.spec)
  if (labelled.length < input.frame.nRows) {
    warn(
      `${input.frame.nRows - labelled.length} of ${input.frame.nRows} rows have no value for target "${options.target}": left out`,
    )
  }
  // Rows are chosen by index into the loaded frame: nothing is copied but the chunks scored later.
  const strata = target.task === 'classification' ? gather(target.y, labelled) : undefined
  const split = trainTestSplit(labelled.length, options.testSize, options.seed, strata)
  return {
    task,
    dataset,
    frame,
    target,
    trainRows: gather(labelled, split.train),
    testRows: gather(labelled, split.test),
  }
}

/** Fits one algorithm, exports and scores it through ONNX Runtime, writes its artifacts and finishes its run. */
async function fitAndRecord(
  ws: Workspace,
  run: {id: string; seq: number},
  algo: Algorithm,
  params: Params,
  data: Prepared,
  options: TrainOptions,
  tags: Record<string, string>,
  progress: (message: string) => void,
): Promise<Fitted> {
  const {frame, target, trainRows, testRows} = data
  progress(
    `training ${algo.name} on ${trainRows.length} rows × ${frame.columns.length} columns (${testRows.length} held out)`,
  )
  const {exported, importance, expected} = fitAndExport(algo, params, data, options.seed)
  const predictor = await Predictor.load(exported.bytes, exported.signature, 'the exported model')
  const scored = sampleRows(trainRows, TRAIN_METRIC_ROWS, options.seed)
  const metrics: Record<string, Record<string, number>> = {
    train: splitMetrics(await predictor.predictRows(frame, scored), takeTarget(target, scored)),
  }
  if (testRows.length > 0) {
    const output = await predictor.predictRows(frame, testRows)
    checkParity(expected!, output)
    metrics.test = splitMetrics(output, takeTarget(target, testRows))
  }
  const artifactDir = join('artifacts', run.id)
  await writeDirAtomic(join(ws.dir, artifactDir), {
    'model.onnx': exported.bytes,
    'signature.json': `${JSON.stringify(exported.signature, null, 2)}\n`,
    'metrics.json': `${JSON.stringify(metrics, null, 2)}\n`,
    ...(importance ? {'importance.json': `${JSON.stringify(importance, null, 2)}\n`} : {}),
  })
  const runName = options.algo === AUTO || !options.runName ? `${algo.name}-${run.seq}` : options.runName
  finishRun(ws, run.id, {
    name: runName,
    algo: algo.name,
    task: data.task,
    params: {...params, seed: options.seed, testSize: options.testSize},
    metrics,
    tags,
    importance,
    dataset: data.dataset,
    artifactDir,
  })
  progress(`run ${run.id} (${runName}) finished; model in ${join(ws.dir, artifactDir, 'model.onnx')}`)
  return {
    runId: run.id,
    runName,
    algo,
    params,
    metrics,
    signature: exported.signature,
    importance,
    artifactDir,
    modelSha256: sha256(exported.bytes),
  }
}

/** The task's main metric: AUC for binary, accuracy for multiclass, RMSE for regression. */
function selectionMetric(data: Prepared): {metric: string; higherIsBetter: boolean} {
  if (data.target.task === 'regression') return {metric: 'rmse', higherIsBetter: false}
  return data.target.classes.length === 2
    ? {metric: 'auc', higherIsBetter: true}
    : {metric: 'accuracy', higherIsBetter: true}
}

function pickBest(
  fitted: readonly Fitted[],
  selection: {metric: string; higherIsBetter: boolean},
  data: Prepared,
  warn: (message: string) => void,
): Fitted {
  if (data.testRows.length === 0) warn('--test-size 0: auto compares the candidates on their training rows')
  let best = fitted[0]!
  let bestValue = Number.NaN
  for (const f of fitted) {
    const value = (f.metrics.test ?? f.metrics.train)?.[selection.metric] ?? Number.NaN
    const better = selection.higherIsBetter ? value > bestValue : value < bestValue
    if (Number.isNaN(bestValue) || better) {
      best = f
      bestValue = value
    }
  }
  return best
}

/** At most `limit` of `rows`, chosen with a seeded shuffle and kept in row order. */
function sampleRows(rows: Int32Array, limit: number, seed: number): Int32Array {
  if (rows.length <= limit) return rows
  const order = Int32Array.from(rows)
  new Rng(seed).shuffle(order)
  return order.subarray(0, limit).sort()
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

/**
 * Fits the pipeline and keeps what the run needs of it: the ONNX export, the feature importance and the in-memory
 * predictions on the first PARITY_ROWS test rows (undefined without test rows), which checkParity compares with
 * ONNX Runtime's. The fitted trees themselves are not kept: a forest's can be larger than the data.
 */
function fitAndExport(
  algo: Algorithm,
  params: Params,
  data: Prepared,
  seed: number,
): {exported: ExportedModel; importance: ReturnType<typeof modelImportance>; expected?: Prediction} {
  const {frame, target, trainRows, testRows} = data
  const threads = new TreeThreads()
  let pipeline: FittedPipeline
  try {
    pipeline = fitPipeline(frame, target, algo, params, seed, trainRows, threads)
  } finally {
    threads.close()
  }
  return {
    exported: exportPipeline(pipeline, MLPROJ_VERSION),
    importance: modelImportance(pipeline.model, pipeline.preprocessor),
    expected:
      testRows.length > 0 ? predictPipeline(pipeline, takeRows(frame, testRows.subarray(0, PARITY_ROWS))) : undefined,
  }
}

/** The exported graph must reproduce the in-memory model; a mismatch is a bug in mlproj, not in the data. */
function checkParity(ts: Prediction, onnx: ModelOutput): void {
  const expected = ts.probabilities ?? ts.values!
  const actual = onnx.probabilities ?? onnx.values!
  let worst = 0
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i]! - actual[i]!))
  const labelsDiffer = ts.labels?.some((l, i) => l !== onnx.classIndex![i])
  if (worst > PARITY_TOLERANCE || labelsDiffer) {
    throw new Error(`the exported ONNX model disagrees with the trained model (max difference ${worst})`)
  }
}
