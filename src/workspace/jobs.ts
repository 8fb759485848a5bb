// Batch prediction jobs: started as "running" with the temporary files they write; "publishing" once those are
// complete and the job, its inputs and outputs are recorded in one transaction; "finished" after the renames.
// A job whose process died is reaped: a running one is rolled back (temporary files removed, its inputs stay
// unprocessed), a publishing one is rolled forward (its complete files renamed into place).
import {existsSync, renameSync, rmSync} from 'node:fs'
import {dirname} from 'node:path'
import {UsageError} from '../errors.js'
import {fsyncDirSync} from './atomic.js'
import {currentProcess, processAlive} from './lock.js'
import {newId, now, rowByIdPrefix} from './runs.js'
import type {Workspace} from './workspace.js'

export type JobStatus = 'running' | 'publishing' | 'finished' | 'failed'

export interface JobInput {
  readonly path: string
  readonly format: string
  readonly size: number
  /** Modification time in nanoseconds since the epoch, as text ('' for stdin). */
  readonly mtime: string
  readonly sha256: string
  readonly rows: number | null
  readonly rejected: number | null
}

export interface JobOutput {
  readonly kind: 'predictions' | 'rejects'
  /** The file written, or "-" for stdout. */
  readonly path: string
  readonly format: string
  readonly rows: number
  readonly bytes: number | null
}

export interface JobWarning {
  readonly kind: 'unseen_category' | 'out_of_range' | 'replaced_column'
  readonly column: string
  readonly count: number
  readonly message: string
  /** A few of the values concerned. */
  readonly examples?: ReadonlyArray<string | number>
}

/** A temporary file and the name it gets when the job publishes (null: removed then, e.g. a copy sent to stdout). */
export interface StagedFile {
  readonly temp: string
  readonly final: string | null
}

export interface JobOptions {
  readonly incremental: boolean
  readonly onError: 'fail' | 'skip'
  readonly keep: readonly string[] | null
}

export interface JobRecord {
  readonly id: string
  readonly status: JobStatus
  readonly model: {
    readonly ref: string
    readonly name: string | null
    readonly version: number | null
    readonly runId: string | null
  }
  /** The model identity --incremental keys on: NAME:VERSION or run:RUN_ID. */
  readonly modelKey: string
  /** --input as given. */
  readonly input: string
  /** The predictions file (or "-" for stdout); null before it is known or when nothing was written. */
  readonly output: string | null
  readonly format: string
  readonly options: JobOptions
  readonly inputs: readonly JobInput[]
  readonly outputs: readonly JobOutput[]
  /** Inputs left out because this model version processed them before (--incremental). */
  readonly inputsSkipped: number | null
  readonly rows: {readonly in: number | null; readonly out: number | null; readonly rejected: number | null}
  readonly warnings: readonly JobWarning[]
  readonly pid: number | null
  readonly startedAt: string
  readonly endedAt: string | null
  readonly durationMs: number | null
  readonly error: {readonly code: string | null; readonly message: string} | null
  readonly mlprojVersion: string | null
}

export interface StartJob {
  readonly modelRef: string
  readonly modelName: string | null
  readonly modelVersion: number | null
  readonly runId: string | null
  readonly modelKey: string
  readonly input: string
  readonly output: string | null
  readonly format: string
  readonly options: JobOptions
  readonly staging: readonly StagedFile[]
  readonly mlprojVersion: string
}

export function newJobId(): string {
  return newId()
}

export function startJob(ws: Workspace, id: string, job: StartJob): void {
  const me = currentProcess()
  ws.db
    .prepare(
      `INSERT INTO batch_jobs (id, model_ref, model_name, model_version, run_id, model_key, status, input, output, format,
         options, staging, pid, pid_start, host, started_at, mlproj_version)
       VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      id,
      job.modelRef,
      job.modelName,
      job.modelVersion,
      job.runId,
      job.modelKey,
      job.input,
      job.output,
      job.format,
      JSON.stringify(job.options),
      JSON.stringify(job.staging),
      me.pid,
      me.pidStart,
      me.host,
      now(),
      job.mlprojVersion,
    )
}

export interface JobResult {
  readonly inputs: readonly JobInput[]
  readonly outputs: readonly JobOutput[]
  readonly inputsSkipped: number
  readonly rows: {readonly in: number; readonly out: number; readonly rejected: number}
  readonly warnings: readonly JobWarning[]
  /** The predictions file, "-" for stdout, or null when nothing was written. */
  readonly output: string | null
}

/**
 * Records the job's result, its inputs and outputs, and marks its inputs processed for this model version, in
 * one transaction. With `status` "publishing" the staged files still have to be renamed (then finishJob); a
 * crash in between is rolled forward by reapStaleJobs.
 */
export function publishJob(ws: Workspace, id: string, result: JobResult, status: 'publishing' | 'finished'): void {
  const at = now()
  ws.db
    .transaction(() => {
      const job = ws.db.prepare('SELECT model_key, status FROM batch_jobs WHERE id = ?').get(id) as
        | {model_key: string; status: string}
        | undefined
      if (job?.status !== 'running') throw new Error(`job ${id} is ${job?.status ?? 'missing'}, not running`)
      ws.db
        .prepare(
          `UPDATE batch_jobs SET status = ?, output = ?, rows_in = ?, rows_out = ?, rows_rejected = ?, inputs_skipped = ?,
             warnings = ?, ended_at = ?, duration_ms = CAST((julianday(?) - julianday(started_at)) * 86400000 AS INTEGER)
           WHERE id = ?`,
        )
        .run(
          status,
          result.output,
          result.rows.in,
          result.rows.out,
          result.rows.rejected,
          result.inputsSkipped,
          JSON.stringify(result.warnings),
          at,
          at,
          id,
        )
      insertInputs(ws, id, result.inputs)
      const output = ws.db.prepare(
        'INSERT INTO batch_job_outputs (job_id, kind, path, format, rows, bytes) VALUES (?, ?, ?, ?, ?, ?)',
      )
      for (const o of result.outputs) output.run(id, o.kind, o.path, o.format, o.rows, o.bytes)
      const processed = ws.db.prepare(
        `INSERT OR IGNORE INTO processed_inputs (model_key, path, size, mtime, sha256, job_id, processed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      for (const i of result.inputs) processed.run(job.model_key, i.path, i.size, i.mtime, i.sha256, id, at)
    })
    .immediate()
}

function insertInputs(ws: Workspace, id: string, inputs: readonly JobInput[]): void {
  ws.db.prepare('DELETE FROM batch_job_inputs WHERE job_id = ?').run(id)
  const insert = ws.db.prepare(
    `INSERT INTO batch_job_inputs (job_id, position, path, format, size, mtime, sha256, rows_in, rows_rejected)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  inputs.forEach((i, k) => {
    insert.run(id, k, i.path, i.format, i.size, i.mtime, i.sha256, i.rows, i.rejected)
  })
}

/** Records the inputs a running job reads (rows still unknown), so that a job that fails shows them too. */
export function recordInputs(ws: Workspace, id: string, inputs: readonly JobInput[]): void {
  ws.db.transaction(() => insertInputs(ws, id, inputs)).immediate()
}

export function finishJob(ws: Workspace, id: string): void {
  ws.db.prepare(`UPDATE batch_jobs SET status = 'finished' WHERE id = ? AND status = 'publishing'`).run(id)
}

/** Marks a running job failed with its error; `inputs` records what it was reading, if known. */
export function failJob(ws: Workspace, id: string, error: unknown, inputs?: readonly JobInput[]): void {
  const code = (error as {code?: unknown}).code
  const at = now()
  ws.db
    .transaction(() => {
      const changed = ws.db
        .prepare(
          `UPDATE batch_jobs SET status = 'failed', error_code = ?, error = ?, ended_at = ?,
             duration_ms = CAST((julianday(?) - julianday(started_at)) * 86400000 AS INTEGER)
           WHERE id = ? AND status = 'running'`,
        )
        .run(
          typeof code === 'string' ? code : null,
          error instanceof Error ? error.message : String(error),
          at,
          at,
          id,
        ).changes
      if (changed > 0 && inputs) insertInputs(ws, id, inputs)
    })
    .immediate()
}

/** Whether this model version already processed exactly this file (same path, size, modification time and bytes). */
export function wasProcessed(ws: Workspace, modelKey: string, input: Omit<JobInput, 'rows' | 'rejected'>): boolean {
  return (
    ws.db
      .prepare(
        'SELECT 1 FROM processed_inputs WHERE model_key = ? AND path = ? AND size = ? AND mtime = ? AND sha256 = ?',
      )
      .get(modelKey, input.path, input.size, input.mtime, input.sha256) !== undefined
  )
}

/** Renames staged files into place; a file already renamed (by an earlier attempt) is left as it is. */
export function publishStaged(staging: readonly StagedFile[]): void {
  for (const file of staging) {
    if (!existsSync(file.temp)) continue
    if (file.final === null) {
      rmSync(file.temp, {force: true})
      continue
    }
    renameSync(file.temp, file.final)
    fsyncDirSync(dirname(file.final))
  }
}

export interface ReapResult {
  /** Jobs that died while scoring: marked failed, temporary files removed, inputs still unprocessed. */
  readonly rolledBack: readonly string[]
  /** Jobs that died after recording their result: their complete files renamed into place. */
  readonly rolledForward: readonly string[]
}

/** Finds jobs whose process is gone and settles them (see the file header). */
export function reapStaleJobs(ws: Workspace): ReapResult {
  const rows = ws.db
    .prepare(
      `SELECT id, status, staging, pid, pid_start, host FROM batch_jobs WHERE status IN ('running', 'publishing')`,
    )
    .all() as Array<{
    id: string
    status: JobStatus
    staging: string
    pid: number | null
    pid_start: string | null
    host: string | null
  }>
  const rolledBack: string[] = []
  const rolledForward: string[] = []
  for (const row of rows) {
    if (row.pid === process.pid || processAlive({pid: row.pid, pidStart: row.pid_start, host: row.host})) continue
    const staging = JSON.parse(row.staging) as StagedFile[]
    if (row.status === 'publishing') {
      publishStaged(staging)
      finishJob(ws, row.id)
      rolledForward.push(row.id)
      continue
    }
    failJob(
      ws,
      row.id,
      Object.assign(new Error(`the process (pid ${row.pid}) ended before the job finished`), {
        code: 'E_JOB_INTERRUPTED',
      }),
    )
    for (const file of staging) rmSync(file.temp, {force: true})
    rolledBack.push(row.id)
  }
  return {rolledBack, rolledForward}
}

interface JobRow {
  id: string
  model_ref: string
  model_name: string | null
  model_version: number | null
  run_id: string | null
  model_key: string
  status: JobStatus
  input: string
  output: string | null
  format: string
  options: string
  rows_in: number | null
  rows_out: number | null
  rows_rejected: number | null
  inputs_skipped: number | null
  warnings: string
  pid: number | null
  started_at: string
  ended_at: string | null
  duration_ms: number | null
  error_code: string | null
  error: string | null
  mlproj_version: string | null
}

function toRecord(ws: Workspace, row: JobRow): JobRecord {
  const inputs = (
    ws.db.prepare('SELECT * FROM batch_job_inputs WHERE job_id = ? ORDER BY position').all(row.id) as Array<{
      path: string
      format: string
      size: number
      mtime: string
      sha256: string
      rows_in: number | null
      rows_rejected: number | null
    }>
  ).map(i => ({
    path: i.path,
    format: i.format,
    size: i.size,
    mtime: i.mtime,
    sha256: i.sha256,
    rows: i.rows_in,
    rejected: i.rows_rejected,
  }))
  const outputs = ws.db
    .prepare(
      `SELECT kind, path, format, rows, bytes FROM batch_job_outputs WHERE job_id = ? ORDER BY kind = 'rejects', kind`,
    )
    .all(row.id) as JobOutput[]
  return {
    id: row.id,
    status: row.status,
    model: {ref: row.model_ref, name: row.model_name, version: row.model_version, runId: row.run_id},
    modelKey: row.model_key,
    input: row.input,
    output: row.output,
    format: row.format,
    options: JSON.parse(row.options) as JobOptions,
    inputs,
    outputs,
    inputsSkipped: row.inputs_skipped,
    rows: {in: row.rows_in, out: row.rows_out, rejected: row.rows_rejected},
    warnings: JSON.parse(row.warnings) as JobWarning[],
    pid: row.pid,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    error: row.error === null ? null : {code: row.error_code, message: row.error},
    mlprojVersion: row.mlproj_version,
  }
}

/** A job by id or unique id prefix (at least 4 characters). */
export function getJob(ws: Workspace, idOrPrefix: string): JobRecord {
  const row = rowByIdPrefix<JobRow>(ws, idOrPrefix, idOrPrefix, {
    noun: 'job',
    code: 'E_USAGE_JOB_ID',
    select: 'SELECT * FROM batch_jobs WHERE id',
    notFound: () =>
      new UsageError('E_USAGE_JOB_NOT_FOUND', `no batch job with id ${idOrPrefix} in ${ws.dir}`, {
        hint: 'list jobs with: mlproj jobs list',
      }),
  })
  return toRecord(ws, row)
}

export interface ListJobs {
  /** Only jobs of this model name (any version). */
  readonly model?: string
  readonly status?: JobStatus
  readonly limit?: number
}

/** Jobs, newest first. */
export function listJobs(ws: Workspace, options: ListJobs = {}): JobRecord[] {
  const where: string[] = []
  const args: unknown[] = []
  if (options.model) {
    where.push('(model_name = ? OR model_key = ?)')
    args.push(options.model, options.model)
  }
  if (options.status) {
    where.push('status = ?')
    args.push(options.status)
  }
  const rows = ws.db
    .prepare(
      `SELECT * FROM batch_jobs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY started_at DESC, rowid DESC LIMIT ?`,
    )
    .all(...args, options.limit ?? -1) as JobRow[]
  return rows.map(r => toRecord(ws, r))
}
