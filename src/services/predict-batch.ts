// `mlproj predict-batch`: score files with a saved model, safe to run from cron. One DuckDB COPY streams the inputs
// through the model (runtime/batch-udf.ts) into a temporary file beside the destination; then the job, its inputs
// and outputs are recorded in one transaction and the file is renamed into place (workspace/jobs.ts settles a job
// that dies in between). A lock per model and destination keeps two runs from writing the same place at once.
import {mkdir, readFile, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, dirname, join, relative, resolve} from 'node:path'
import {duckdb, ident, literal} from '../data/duckdb.js'
import {type DataFormat, type DataSource, formatFromPath, readError, requireColumns} from '../data/source.js'
import {
  anyBad,
  type BatchInputFile,
  type BatchInputs,
  badRowError,
  badRows,
  estimateRows,
  openBatchSource,
  registerTally,
  resolveBatchInputs,
  scanPlan,
} from '../data/stream.js'
import {copySql, copyToStream, fsyncFile, OUTPUT_EXTENSIONS, RejectsWriter, tempPathFor} from '../data/write.js'
import {ModelError, UsageError} from '../errors.js'
import type {Frame} from '../ml/frame.js'
import type {Signature} from '../onnx/signature.js'
import {batchThreads, PrefetchedScores} from '../parallel/batch-scores.js'
import {configuredThreads} from '../parallel/spawn.js'
import {inputStruct, registerBatchFunction, rowHash} from '../runtime/batch-udf.js'
import {predictionColumns} from '../runtime/outputs.js'
import {derivesLabel, hasTreeEnsemble} from '../runtime/predictor.js'
import {SyncPredictor} from '../runtime/udf.js'
import {MLPROJ_VERSION} from '../version.js'
import {
  failJob,
  finishJob,
  getJob,
  type JobInput,
  type JobOutput,
  type JobRecord,
  type JobWarning,
  newJobId,
  publishJob,
  publishStaged,
  reapStaleJobs,
  recordInputs,
  type StagedFile,
  startJob,
  wasProcessed,
} from '../workspace/jobs.js'
import {acquireLock, type Lock} from '../workspace/lock.js'
import {type ResolvedModel, resolveModel} from '../workspace/registry.js'
import {type LocateOptions, openWorkspace, type Workspace} from '../workspace/workspace.js'

export type OnError = 'fail' | 'skip'

/**
 * Rows from which a tree ensemble is scored ahead by worker threads. Starting them and reading the input twice cost
 * about 0.3–0.5 s; measured on 2 CPUs with a 100-tree gbdt, scoring ahead took 1.13× the time on 250,000 rows,
 * 1.06× on 500,000, 0.91× on 1,000,000 and 0.80× on 2,000,000 (median of 5 pairs each).
 */
const AHEAD_MIN_ROWS = 1_000_000

/** DuckDB's memory during a job (see score): with Node and ONNX Runtime a job peaks near 0.6 GB, whatever the input. */
const BATCH_MEMORY_LIMIT = '500MB'

export interface PredictBatchOptions {
  readonly workspace: LocateOptions
  /** NAME, NAME:VERSION, NAME@ALIAS or run:RUN_ID; an alias is resolved once, at the start. */
  readonly model: string
  /** A file, folder, glob, or "-" for stdin. */
  readonly input: string
  /** A file, a folder, "-" for stdout; undefined: .mlproj/predictions/<model>/<YYYY-MM-DD>/<job-id>.<ext>. */
  readonly output?: string
  /** Output format; default from the output file's extension, else CSV. */
  readonly format?: DataFormat
  readonly inputFormat?: DataFormat
  /** Input columns to carry into the output (default: all). */
  readonly keep?: readonly string[]
  /** Only inputs this model version has not processed (same path, size, modification time and sha256). */
  readonly incremental: boolean
  readonly onError: OnError
  /** Seconds to wait for another job holding the same model and destination. */
  readonly waitSeconds: number
  readonly stdin?: NodeJS.ReadableStream
  readonly stdout?: NodeJS.WritableStream
  readonly onProgress?: (message: string) => void
  /** Rows read so far, about every 250 ms while scoring (for a live status line). */
  readonly onStatus?: (status: BatchStatus) => void
}

export interface BatchStatus {
  readonly rows: number
  /** Estimated from the files' size (exact for Parquet). */
  readonly estimatedRows: number
  readonly elapsedMs: number
}

/** Where a job writes. */
interface OutputPlan {
  readonly format: DataFormat
  /** The predictions file, or null for stdout. */
  readonly final: string | null
  readonly temp: string
  readonly rejects: {readonly final: string; readonly temp: string}
  /** What the lock key and messages call the destination. */
  readonly target: string
  readonly staging: readonly StagedFile[]
}

export async function predictBatch(options: PredictBatchOptions): Promise<JobRecord> {
  const progress = options.onProgress ?? (() => {})
  checkKeep(options.keep)
  configuredThreads() // a bad MLPROJ_THREADS fails before the job starts
  const ws = await openWorkspace(options.workspace)
  let inputs: BatchInputs | undefined
  try {
    const reaped = reapStaleJobs(ws)
    for (const id of reaped.rolledBack) progress(`job ${id} had died while scoring: marked failed, its inputs stay new`)
    for (const id of reaped.rolledForward) progress(`job ${id} had died while publishing: its outputs are now in place`)
    const model = resolveModel(ws, options.model)
    const label = modelLabel(model)
    const jobId = newJobId()
    const started = new Date()
    const plan = await planOutput(ws, options, model, jobId, started)
    startJob(ws, jobId, {
      modelRef: options.model,
      modelName: model.name,
      modelVersion: model.version,
      runId: model.runId,
      modelKey: label,
      input: options.input,
      output: plan.final ?? (options.output === '-' ? '-' : null),
      format: plan.format,
      options: {incremental: options.incremental, onError: options.onError, keep: options.keep ?? null},
      staging: plan.staging,
      mlprojVersion: MLPROJ_VERSION,
    })
    const job = new Job(ws, jobId, model, label, plan, options, started)
    let lock: Lock | undefined
    try {
      // The job is recorded before it waits for the lock, so a refused run shows in `mlproj jobs list` too.
      const owner = model.name ?? `run:${model.runId}`
      lock = await acquireLock(ws, `predict-batch ${owner} -> ${plan.target}`, jobId, {
        waitSeconds: options.waitSeconds,
        what: `model ${owner} writing to ${plan.target}`,
        onWait: holder =>
          progress(
            `waiting up to ${options.waitSeconds} s for job ${holder.jobId} (pid ${holder.pid}), which writes there`,
          ),
      })
      inputs = await resolveBatchInputs(options.input, {
        format: options.inputFormat,
        stdin: options.stdin,
        allowNone: options.incremental,
      })
      return await job.run(inputs)
    } catch (error) {
      // Once published, the staged files belong to the job record: the next command renames them (reapStaleJobs).
      if (!job.published) for (const file of plan.staging) await rm(file.temp, {force: true})
      failJob(ws, jobId, error, job.inputs)
      throw error
    } finally {
      lock?.release()
    }
  } finally {
    await inputs?.release()
    ws.db.close()
  }
}

function modelLabel(model: ResolvedModel): string {
  return model.name ? `${model.name}:${model.version}` : `run:${model.runId}`
}

function checkKeep(keep: readonly string[] | undefined): void {
  if (keep?.some(k => k === '')) {
    throw new UsageError('E_USAGE_KEEP', '--keep has an empty column name', {
      hint: 'give column names separated by commas, e.g. --keep id,region',
    })
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false
}

/** Picks the destination and its temporary names; creates the folders it needs. */
async function planOutput(
  ws: Workspace,
  options: PredictBatchOptions,
  model: ResolvedModel,
  jobId: string,
  started: Date,
): Promise<OutputPlan> {
  const name = model.name ?? `run-${model.runId}`
  const date = started.toISOString().slice(0, 10)
  const defaultDir = join(ws.dir, 'predictions', name, date)
  const rejectsIn = (dir: string, stem: string) => {
    const final = join(dir, `${stem}.rejects.csv`)
    return {final, temp: tempPathFor(final, jobId)}
  }
  const output = options.output
  if (output === '-') {
    const format = options.format ?? 'csv'
    const temp = join(ws.dir, 'predictions', `.${jobId}.${OUTPUT_EXTENSIONS[format]}.tmp-${jobId}`)
    const rejects = rejectsIn(defaultDir, jobId)
    await mkdir(dirname(temp), {recursive: true})
    return {
      format,
      final: null,
      temp,
      rejects,
      target: 'stdout',
      staging: [{temp, final: null}, rejects],
    }
  }
  let dir: string
  let file: string
  let target: string
  let format: DataFormat
  if (output === undefined || output.endsWith('/') || (await isDirectory(output))) {
    format = options.format ?? 'csv'
    dir = output === undefined ? defaultDir : resolve(output)
    const stamp = started.toISOString().slice(0, 19).replaceAll(':', '').replace('T', '-')
    file =
      output === undefined
        ? `${jobId}.${OUTPUT_EXTENSIONS[format]}`
        : `${name}-${stamp}-${jobId}.${OUTPUT_EXTENSIONS[format]}`
    target = output === undefined ? `${relative(ws.root, join(ws.dir, 'predictions', name))}/` : `${dir}/`
  } else {
    const path = resolve(output)
    const fromName = formatFromPath(path)
    if (options.format && fromName && options.format !== fromName) {
      throw new UsageError('E_USAGE_FORMAT', `--format ${options.format} does not match --output ${output}`, {
        hint: `name the file .${OUTPUT_EXTENSIONS[options.format]}, or leave --format out to write ${fromName}`,
      })
    }
    format = options.format ?? fromName ?? 'csv'
    dir = dirname(path)
    file = basename(path)
    target = path
  }
  await mkdir(dir, {recursive: true})
  const final = join(dir, file)
  const temp = tempPathFor(final, jobId)
  const stem = file.replace(/(\.(gz|zst))?$/i, '').replace(/\.[^.]*$/, '')
  const rejects = rejectsIn(dir, stem === '' ? file : stem)
  if (output === undefined) await mkdir(dirname(rejects.final), {recursive: true})
  return {format, final, temp, rejects, target, staging: [{temp, final}, rejects]}
}

/** The state of one job while it runs. */
class Job {
  /** The inputs being processed, for the job record (also of a failed job). */
  inputs: JobInput[] | undefined
  /** Whether the job record holds the result (its files may still have to be renamed). */
  published = false
  private readonly progress: (message: string) => void
  private readonly warnings: JobWarning[] = []

  constructor(
    private readonly ws: Workspace,
    private readonly id: string,
    private readonly model: ResolvedModel,
    private readonly label: string,
    private readonly plan: OutputPlan,
    private readonly options: PredictBatchOptions,
    private readonly started: Date,
  ) {
    this.progress = options.onProgress ?? (() => {})
  }

  async run(inputs: BatchInputs): Promise<JobRecord> {
    const {options, plan} = this
    const inputLabel = (f: BatchInputFile) => f.label
    const finalPath = plan.final
    if (finalPath && inputs.files.some(f => f.path === finalPath)) {
      throw new UsageError('E_USAGE_OUTPUT', `--output ${options.output} is one of the input files`, {
        hint: 'write the predictions to another file or folder',
      })
    }
    let files = inputs.files
    let skipped = 0
    if (options.incremental) {
      files = files.filter(f => !wasProcessed(this.ws, this.label, jobInputOf(f, inputs.format)))
      skipped = inputs.files.length - files.length
    }
    this.inputs = files.map(f => jobInputOf(f, inputs.format))
    recordInputs(this.ws, this.id, this.inputs)
    const summary = files.map(inputLabel).join(', ')
    this.progress(
      `job ${this.id}: ${this.label}${options.model === this.label ? '' : ` (${options.model})`} on ${files.length} ${files.length === 1 ? 'input' : 'inputs'}${files.length > 0 && files.length <= 3 ? ` (${summary})` : ''}${skipped > 0 ? `, ${skipped} already processed` : ''}`,
    )
    if (files.length === 0) {
      this.progress(
        `0 new inputs${skipped > 0 ? `: all ${skipped} were processed before by ${this.label}` : inputs.none ? `: ${inputs.none}` : ''}; nothing written`,
      )
      for (const file of plan.staging) await rm(file.temp, {force: true})
      publishJob(
        this.ws,
        this.id,
        {
          inputs: [],
          outputs: [],
          inputsSkipped: skipped,
          rows: {in: 0, out: 0, rejected: 0},
          warnings: [],
          output: null,
        },
        'finished',
      )
      return getJob(this.ws, this.id)
    }
    // Rows per input: the tally counts the files DuckDB read (the non-blank ones), in order.
    const readFiles = files.filter(f => !f.blank)
    const bytes = await readFile(join(this.ws.dir, this.model.artifactDir, 'model.onnx'))
    // The workers start now, so that they load while the input's schema is read. A file the estimate cannot read
    // (not really Parquet, say) starts none: opening the source then says what is wrong with it.
    const early = await estimateRows({format: inputs.format, files: readFiles.map(f => f.path)}).catch(() => undefined)
    const ahead = early === undefined ? undefined : this.spawnAhead(bytes, early)
    let counts: Counts
    try {
      const source = await openBatchSource(inputs, files)
      counts = source
        ? await this.score(source, inputs, bytes, early ?? (await estimateRows(source)), ahead)
        : await this.writeEmpty()
    } finally {
      await ahead?.close()
    }
    this.inputs = files.map(f => {
      const k = readFiles.indexOf(f)
      return {
        ...jobInputOf(f, inputs.format),
        rows: k < 0 ? 0 : counts.rows[k]!,
        rejected: k < 0 ? 0 : counts.rejected[k]!,
      }
    })
    return this.publish(skipped, counts)
  }

  /** Scores every row of `source` into the temporary output; writes the rejects file in skip mode. */
  private async score(
    source: DataSource,
    inputs: BatchInputs,
    bytes: Uint8Array,
    estimatedRows: number,
    ahead: PrefetchedScores | undefined,
  ): Promise<Counts> {
    const {options, plan} = this
    const {signature} = this.model
    const have = new Set(source.columns.map(c => c.name))
    const missing = signature.inputs.filter(i => !have.has(i.name)).map(i => i.name)
    if (missing.length > 0) {
      throw new ModelError(
        'E_MODEL_SIGNATURE',
        `${source.spec} lacks ${missing.length === 1 ? 'column' : 'columns'} ${missing.map(m => `"${m}"`).join(', ')} that model ${this.label} needs`,
        {
          hint: `the model reads: ${signature.inputs.map(i => i.name).join(', ')}; the input has: ${source.columns.map(c => c.name).join(', ')}`,
          details: {file: source.spec, missing},
        },
      )
    }
    if (options.keep)
      requireColumns(source, options.keep, options.keep.length === 1 ? '--keep column' : '--keep columns')
    const keep = this.outputColumns(options.keep ?? source.columns.map(c => c.name), signature)
    const con = await duckdb()
    const predictor = await SyncPredictor.load(bytes, signature, this.label)
    const drift = new DriftCounter(signature)
    const scan = scanPlan(source, {keep, inputs: signature.inputs, typedOutput: plan.format !== 'csv'})
    const fn = await registerBatchFunction(con, {
      name: `mlproj_batch_${this.id}`,
      predictor,
      scorer: ahead,
      rowHashes: ahead !== undefined,
      model: this.label,
      onChunk: frame => drift.observe(frame),
    })
    // To keep input order, DuckDB holds finished batches until the ones before them are written; under its default
    // limit (80% of RAM) that buffer grows with the input. Bounded, DuckDB holds back its readers instead (or spills
    // to a temporary folder), so memory follows the chunk size, not the input.
    await con.run(`SET memory_limit = '${BATCH_MEMORY_LIMIT}'`)
    await con.run(`SET temp_directory = ${literal(join(tmpdir(), `mlproj-duckdb-${process.pid}`))}`)
    const status = this.statusReporter(estimatedRows)
    const tally = await registerTally(
      con,
      `mlproj_tally_${this.id}`,
      source.files.length,
      options.onError === 'fail',
      status,
    )
    const select = [...scan.output.map(o => `${o.sql} AS ${ident(o.name)}`), `unnest(${fn.call(scan.modelArgs)})`]
    const scored =
      `SELECT ${select.join(', ')} FROM (SELECT *, ${scan.fileIndex} AS __mlproj_index FROM ${scan.relation}) ` +
      `WHERE ${tally.name}(CAST(__mlproj_index AS INTEGER), ${anyBad(scan.checks)})`
    const query = `SELECT ${[...scan.output.map(o => ident(o.name)), ...fn.select(ident)].join(', ')} FROM (${scored})`
    try {
      if (ahead) {
        ahead.begin({
          sql: `SELECT ${inputStruct(signature, scan.modelArgs)}, ${rowHash(signature, scan.modelArgs)} FROM ${scan.relation} WHERE NOT (${anyBad(scan.checks)})`,
          fallback: predictor,
          onFallback: reason => this.progress(`scoring the rest on the calling thread: ${reason}`),
        })
        // Predictions made ahead are taken in the reader's row order: the writer's query runs on one thread.
        await con.run('SET threads = 1')
      }
      await con.run(copySql(query, plan.temp, plan.format, plan.final ?? plan.temp))
    } catch (error) {
      await rm(plan.temp, {force: true})
      if (fn.error) throw fn.error
      if (tally.stopped) {
        for (const file of source.files) {
          for await (const bad of badRows(scan, source, file, 1)) throw badRowError(bad, labelOf(inputs, file))
        }
      }
      throw await readError(error, source)
    } finally {
      // The workers are stopped by run(), which started them.
      if (ahead) await con.run('RESET threads')
    }
    const counts = {rows: tally.rows, rejected: tally.rejected, out: fn.rows}
    const rejected = sum(tally.rejected)
    if (fn.rows !== sum(tally.rows) - rejected) {
      throw new Error(`scored ${fn.rows} rows of ${sum(tally.rows)} read with ${rejected} rejected`)
    }
    let rejectsBytes: number | undefined
    if (rejected > 0) {
      const writer = new RejectsWriter(
        plan.rejects.temp,
        source.columns.map(c => c.name),
      )
      for (const [k, file] of source.files.entries()) {
        if (tally.rejected[k]! === 0) continue
        for await (const bad of badRows(scan, source, file)) await writer.write(bad, labelOf(inputs, file))
      }
      rejectsBytes = await writer.close()
      if (writer.rows !== rejected) throw new Error(`found ${writer.rows} rejected rows, the scan counted ${rejected}`)
      this.progress(
        `rejected ${rejected} ${rejected === 1 ? 'row' : 'rows'} that cannot be scored: see ${this.shown(plan.rejects.final)}`,
      )
    }
    crashPoint('scored')
    this.warnings.push(...drift.warnings())
    return {...counts, outBytes: await fsyncFile(plan.temp), rejectsBytes}
  }

  /**
   * Worker threads that score the job's rows ahead of the writer (parallel/batch-scores.ts), for a tree ensemble on
   * at least AHEAD_MIN_ROWS rows; undefined where the calling thread scores each chunk itself.
   */
  private spawnAhead(bytes: Uint8Array, estimatedRows: number): PrefetchedScores | undefined {
    const {signature} = this.model
    const threads = batchThreads()
    const eligible = signature.task === 'regression' || derivesLabel(signature)
    if (threads === 0 || !eligible || !hasTreeEnsemble(bytes) || estimatedRows < AHEAD_MIN_ROWS) return undefined
    this.progress(`scoring ahead on ${threads} ${threads === 1 ? 'thread' : 'threads'}`)
    return PrefetchedScores.spawn({bytes, signature, model: this.label, threads})
  }

  /** The kept input columns, minus any that a prediction column replaces (re-scoring an earlier output, say). */
  private outputColumns(keep: readonly string[], signature: Signature): string[] {
    const predicted = new Set(predictionColumns(signature).map(c => c.name.toLowerCase()))
    return keep.filter(name => {
      if (!predicted.has(name.toLowerCase())) return true
      this.warnings.push({
        kind: 'replaced_column',
        column: name,
        count: 0,
        message: `input column "${name}" is replaced by the model's prediction column of that name`,
      })
      return false
    })
  }

  /** Every input file is blank: an output with only the header (the kept or model columns, then the predictions). */
  private async writeEmpty(): Promise<Counts> {
    const {plan, model} = this
    const columns = predictionColumns(model.signature)
    const kept = this.outputColumns(this.options.keep ?? model.signature.inputs.map(i => i.name), model.signature)
    const select = [
      ...kept.map(name => `CAST(NULL AS VARCHAR) AS ${ident(name)}`),
      ...columns.map(
        c =>
          `CAST(NULL AS ${c.kind === 'label' ? (c.labelType === 'integer' ? 'BIGINT' : 'VARCHAR') : 'DOUBLE'}) AS ${ident(c.name)}`,
      ),
    ]
    const con = await duckdb()
    await con.run(copySql(`SELECT ${select.join(', ')} WHERE false`, plan.temp, plan.format, plan.final ?? plan.temp))
    return {rows: [], rejected: [], out: 0, outBytes: await fsyncFile(plan.temp)}
  }

  /** Records the job (inputs now count as processed) and moves its files into place, or sends them to stdout. */
  private async publish(skipped: number, counts: Counts): Promise<JobRecord> {
    const {plan} = this
    const rowsIn = sum(counts.rows)
    const rejected = sum(counts.rejected)
    if (plan.final === null) await copyToStream(plan.temp, this.options.stdout ?? process.stdout)
    const outputs: JobOutput[] = [
      {kind: 'predictions', path: plan.final ?? '-', format: plan.format, rows: counts.out, bytes: counts.outBytes},
    ]
    if (counts.rejectsBytes !== undefined) {
      outputs.push({
        kind: 'rejects',
        path: plan.rejects.final,
        format: 'csv',
        rows: rejected,
        bytes: counts.rejectsBytes,
      })
    }
    publishJob(
      this.ws,
      this.id,
      {
        inputs: this.inputs ?? [],
        outputs,
        inputsSkipped: skipped,
        rows: {in: rowsIn, out: counts.out, rejected},
        warnings: this.warnings,
        output: plan.final ?? '-',
      },
      'publishing',
    )
    this.published = true
    crashPoint('published')
    publishStaged(plan.staging)
    crashPoint('renamed')
    finishJob(this.ws, this.id)
    for (const w of this.warnings) this.progress(`warning: ${w.message}`)
    return getJob(this.ws, this.id)
  }

  /** Calls onStatus at most every 250 ms with the rows read so far. */
  private statusReporter(estimatedRows: number): (rows: number) => void {
    const onStatus = this.options.onStatus
    const start = this.started.getTime()
    let rows = 0
    let last = 0
    let crashed = false
    return n => {
      rows += n
      if (!crashed && rows >= Math.min(estimatedRows / 2, 100_000)) {
        crashed = true
        crashPoint('scoring')
      }
      const now = Date.now()
      if (!onStatus || now - last < 250) return
      last = now
      onStatus({rows, estimatedRows: Math.max(estimatedRows, rows), elapsedMs: now - start})
    }
  }

  /** A path as messages show it: relative to the current folder when inside it. */
  private shown(path: string): string {
    const rel = relative(process.cwd(), path)
    return rel.startsWith('..') ? path : rel
  }
}

interface Counts {
  /** Rows read and rejected per file DuckDB read (the non-blank input files, in order). */
  readonly rows: readonly number[]
  readonly rejected: readonly number[]
  /** Rows written. */
  readonly out: number
  readonly outBytes: number
  readonly rejectsBytes?: number
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

function jobInputOf(file: BatchInputFile, format: DataFormat): JobInput {
  return {
    path: file.label,
    format,
    size: file.size,
    mtime: file.mtime,
    sha256: file.sha256,
    rows: null,
    rejected: null,
  }
}

function labelOf(inputs: BatchInputs, file: string): string {
  return inputs.files.find(f => f.path === file)?.label ?? file
}

/**
 * Test hook: MLPROJ_TEST_CRASH_AT=<point> kills this process with SIGKILL when the job reaches that point
 * (scoring, scored, published, renamed), so the crash-safety tests can stop it exactly there.
 */
function crashPoint(point: string): void {
  if (process.env.MLPROJ_TEST_CRASH_AT !== point) return
  process.stderr.write(`mlproj: crash point ${point}\n`)
  process.kill(process.pid, 'SIGKILL')
}

/** How many scored rows hold categories never seen in training, or numbers far outside the training range. */
export class DriftCounter {
  private readonly unseen = new Map<string, {count: number; examples: Set<string>}>()
  private readonly outside = new Map<string, {count: number; min: number; max: number}>()
  private readonly known: ReadonlyMap<string, ReadonlySet<string>>
  /** Per numeric column: the range beyond which a value counts as far outside (one training range width past it). */
  private readonly limits: ReadonlyMap<string, readonly [number, number, number, number]>

  constructor(private readonly signature: Signature) {
    this.known = new Map(
      signature.inputs.filter(i => i.categories).map(i => [i.name, new Set(i.categories)] as [string, Set<string>]),
    )
    this.limits = new Map(
      signature.inputs
        .filter(i => i.range)
        .map(i => {
          const [lo, hi] = i.range!
          const width = hi - lo > 0 ? hi - lo : Math.max(Math.abs(lo), 1)
          return [i.name, [lo - width, hi + width, lo, hi]] as [string, [number, number, number, number]]
        }),
    )
  }

  observe(frame: Frame): void {
    for (const column of frame.columns) {
      if (column.kind === 'categorical') {
        const known = this.known.get(column.name)
        if (!known) continue
        const fresh = column.levels.map(l => !known.has(l))
        if (!fresh.some(Boolean)) continue
        const entry = this.unseen.get(column.name) ?? {count: 0, examples: new Set<string>()}
        for (const code of column.codes) {
          if (code < 0 || !fresh[code]) continue
          entry.count++
          if (entry.examples.size < 5) entry.examples.add(column.levels[code]!)
        }
        this.unseen.set(column.name, entry)
        continue
      }
      const limit = this.limits.get(column.name)
      if (!limit) continue
      const [lo, hi] = limit
      let entry = this.outside.get(column.name)
      for (const v of column.values) {
        if (!(v < lo || v > hi)) continue
        entry ??= {count: 0, min: v, max: v}
        entry.count++
        entry.min = Math.min(entry.min, v)
        entry.max = Math.max(entry.max, v)
      }
      if (entry) this.outside.set(column.name, entry)
    }
  }

  warnings(): JobWarning[] {
    const out: JobWarning[] = []
    for (const input of this.signature.inputs) {
      const unseen = this.unseen.get(input.name)
      if (unseen && unseen.count > 0) {
        const examples = [...unseen.examples]
        out.push({
          kind: 'unseen_category',
          column: input.name,
          count: unseen.count,
          examples,
          message: `column "${input.name}": ${unseen.count} ${unseen.count === 1 ? 'row holds a category' : 'rows hold categories'} never seen in training (${examples.map(e => JSON.stringify(e)).join(', ')}${unseen.examples.size >= 5 ? ', …' : ''})`,
        })
      }
      const outside = this.outside.get(input.name)
      if (outside) {
        const [, , lo, hi] = this.limits.get(input.name)!
        out.push({
          kind: 'out_of_range',
          column: input.name,
          count: outside.count,
          examples: [outside.min, outside.max],
          message: `column "${input.name}": ${outside.count} ${outside.count === 1 ? 'value lies' : 'values lie'} far outside the training range [${lo}, ${hi}] (from ${outside.min} to ${outside.max})`,
        })
      }
    }
    return out
  }
}
