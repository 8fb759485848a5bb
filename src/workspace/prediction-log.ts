// The predictions_log table (schema 4): what `serve --log-predictions` records, one row per predicted row
// (the request's id, model version, latency, the row's inputs and outputs as JSON objects), and reading it back.
import type {Db} from './db.js'

export interface PredictionLogRow {
  readonly requestId: string
  /** Position of the row in its request, from 0. */
  readonly rowIndex: number
  /** When the request arrived, ISO 8601 UTC. */
  readonly createdAt: string
  /** The name the model is served under (the route's <name>). */
  readonly servedName: string
  /** The reference given to serve (NAME, NAME:VERSION, NAME@ALIAS, run:ID). */
  readonly modelRef: string
  readonly modelName: string | null
  readonly modelVersion: number | null
  readonly runId: string | null
  readonly protocol: 'mlflow' | 'v2'
  /** From the request's arrival to its predictions, in milliseconds. */
  readonly latencyMs: number
  /** JSON object: input column → value (null = missing). */
  readonly inputs: string
  /** JSON object: predicted_<target>, probability... */
  readonly outputs: string
}

const INSERT = `INSERT INTO predictions_log (request_id, row_index, created_at, served_name, model_ref, model_name,
  model_version, run_id, protocol, latency_ms, inputs, outputs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

/** Appends rows in one transaction (all or none). */
export function insertPredictionLog(db: Db, rows: readonly PredictionLogRow[]): void {
  const insert = db.prepare(INSERT)
  db.transaction(() => {
    for (const r of rows) {
      insert.run(
        r.requestId,
        r.rowIndex,
        r.createdAt,
        r.servedName,
        r.modelRef,
        r.modelName,
        r.modelVersion,
        r.runId,
        r.protocol,
        r.latencyMs,
        r.inputs,
        r.outputs,
      )
    }
  }).immediate()
}

export interface ReadPredictionLogOptions {
  readonly servedName?: string
  readonly requestId?: string
  /** Most recent first; default 1000. */
  readonly limit?: number
}

/** Logged rows, most recent first. */
export function readPredictionLog(db: Db, options: ReadPredictionLogOptions = {}): PredictionLogRow[] {
  const where: string[] = []
  const params: unknown[] = []
  if (options.servedName !== undefined) {
    where.push('served_name = ?')
    params.push(options.servedName)
  }
  if (options.requestId !== undefined) {
    where.push('request_id = ?')
    params.push(options.requestId)
  }
  const rows = db
    .prepare(
      `SELECT request_id, row_index, created_at, served_name, model_ref, model_name, model_version, run_id, protocol,
         latency_ms, inputs, outputs FROM predictions_log ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT ?`,
    )
    .all(...params, options.limit ?? 1000) as Array<Record<string, unknown>>
  return rows.map(r => ({
    requestId: r.request_id as string,
    rowIndex: r.row_index as number,
    createdAt: r.created_at as string,
    servedName: r.served_name as string,
    modelRef: r.model_ref as string,
    modelName: r.model_name as string | null,
    modelVersion: r.model_version as number | null,
    runId: r.run_id as string | null,
    protocol: r.protocol as 'mlflow' | 'v2',
    latencyMs: r.latency_ms as number,
    inputs: r.inputs as string,
    outputs: r.outputs as string,
  }))
}
