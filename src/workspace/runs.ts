// Experiments and runs: a run starts as "running", and finishes (params, metrics, artifacts in one
// transaction) or fails with its error. Runs whose process died are found and marked failed.
import {randomBytes} from 'node:crypto'
import {type MlprojError, ModelError, UsageError} from '../errors.js'
import type {Workspace} from './workspace.js'

export type RunStatus = 'running' | 'finished' | 'failed'

export interface DatasetRecord {
  readonly path: string
  readonly files: readonly string[]
  readonly format: string
  readonly rows: number
  readonly bytes: number
  readonly sha256: string
  readonly schema: ReadonlyArray<{name: string; type: string; kind: string}>
  readonly target?: string
  readonly task?: string
  readonly features?: readonly string[]
  /** Rows left out because their target was missing. */
  readonly rowsWithoutTarget?: number
}

/** How much a tree model relies on an input column: total split gain and number of splits. */
export interface FeatureImportance {
  readonly feature: string
  readonly gain: number
  readonly splits: number
}

export interface RunRecord {
  readonly id: string
  readonly name: string
  readonly experiment: string
  readonly status: RunStatus
  readonly algo: string | null
  readonly task: string | null
  readonly startedAt: string
  readonly endedAt: string | null
  readonly durationMs: number | null
  readonly error: {code: string | null; message: string} | null
  readonly params: Record<string, unknown>
  /** split → metric → value; splits are "test" and "train". */
  readonly metrics: Record<string, Record<string, number>>
  readonly tags: Record<string, string>
  readonly dataset: DatasetRecord | null
  readonly artifactDir: string | null
  readonly mlprojVersion: string | null
  /** Tree models: importance per input column, largest gain first. */
  readonly importance?: readonly FeatureImportance[]
}

/** Run and job ids: 12 hexadecimal digits; commands take a unique prefix of 4 or more. */
export const ID_PATTERN = /^[0-9a-f]{4,32}$/

export function newId(): string {
  return randomBytes(6).toString('hex')
}

export function now(): string {
  return new Date().toISOString()
}

export function experimentId(ws: Workspace, name: string): number {
  const row = ws.db.prepare('SELECT id FROM experiments WHERE name = ?').get(name) as {id: number} | undefined
  if (row) return row.id
  return Number(
    ws.db.prepare('INSERT INTO experiments (name, created_at) VALUES (?, ?)').run(name, now()).lastInsertRowid,
  )
}

export interface StartRun {
  readonly experiment: string
  readonly name?: string
  readonly algo?: string
  readonly task?: string
  readonly mlprojVersion: string
}

/** Starts a run; without a name it is called `run-<n>` until finishRun gives it `<algo>-<n>`. */
export function startRun(ws: Workspace, options: StartRun): {id: string; name: string; seq: number} {
  const id = newId()
  return ws.db
    .transaction(() => {
      const exp = experimentId(ws, options.experiment)
      const count = ws.db.prepare('SELECT count(*) AS n FROM runs WHERE experiment_id = ?').get(exp) as {n: number}
      const seq = count.n + 1
      const name = options.name ?? `${options.algo ?? 'run'}-${seq}`
      ws.db
        .prepare(
          `INSERT INTO runs (id, experiment_id, name, status, algo, task, started_at, pid, mlproj_version)
           VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)`,
        )
        .run(id, exp, name, options.algo ?? null, options.task ?? null, now(), process.pid, options.mlprojVersion)
      return {id, name, seq}
    })
    .immediate()
}

export interface FinishRun {
  readonly algo: string
  readonly task: string
  readonly params: Record<string, unknown>
  readonly metrics: Record<string, Record<string, number>>
  readonly tags?: Record<string, string>
  readonly dataset: DatasetRecord
  readonly artifactDir: string
  readonly importance?: readonly FeatureImportance[]
  /** A new name for the run (the default name, once the algorithm is known). */
  readonly name?: string
}

export function finishRun(ws: Workspace, id: string, result: FinishRun): void {
  ws.db
    .transaction(() => {
      const params = ws.db.prepare('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)')
      for (const [k, v] of Object.entries(result.params)) params.run(id, k, JSON.stringify(v))
      const metrics = ws.db.prepare('INSERT INTO metrics (run_id, split, key, value) VALUES (?, ?, ?, ?)')
      for (const [split, values] of Object.entries(result.metrics)) {
        for (const [k, v] of Object.entries(values)) if (Number.isFinite(v)) metrics.run(id, split, k, v)
      }
      const tags = ws.db.prepare('INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)')
      for (const [k, v] of Object.entries(result.tags ?? {})) tags.run(id, k, v)
      const importance = ws.db.prepare(
        'INSERT INTO feature_importance (run_id, feature, gain, splits) VALUES (?, ?, ?, ?)',
      )
      for (const f of result.importance ?? []) importance.run(id, f.feature, f.gain, f.splits)
      ws.db
        .prepare(
          `UPDATE runs SET status = 'finished', name = coalesce(?, name), algo = ?, task = ?, dataset = ?, artifact_dir = ?,
             ended_at = ?, duration_ms = CAST((julianday(?) - julianday(started_at)) * 86400000 AS INTEGER) WHERE id = ?`,
        )
        .run(
          result.name ?? null,
          result.algo,
          result.task,
          JSON.stringify(result.dataset),
          result.artifactDir,
          now(),
          now(),
          id,
        )
    })
    .immediate()
}

export function failRun(
  ws: Workspace,
  id: string,
  error: unknown,
  extra: {dataset?: DatasetRecord; algo?: string; task?: string} = {},
): void {
  const code = (error as {code?: unknown}).code
  const at = now()
  ws.db
    .prepare(
      `UPDATE runs SET status = 'failed', error_code = ?, error = ?, ended_at = ?, dataset = coalesce(?, dataset),
         algo = coalesce(?, algo), task = coalesce(?, task),
         duration_ms = CAST((julianday(?) - julianday(started_at)) * 86400000 AS INTEGER)
       WHERE id = ? AND status = 'running'`,
    )
    .run(
      typeof code === 'string' ? code : null,
      error instanceof Error ? error.message : String(error),
      at,
      extra.dataset ? JSON.stringify(extra.dataset) : null,
      extra.algo ?? null,
      extra.task ?? null,
      at,
      id,
    )
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Marks "running" runs whose process is gone (killed, crashed, machine rebooted) as failed. */
export function reapStaleRuns(ws: Workspace): number {
  const rows = ws.db.prepare(`SELECT id, pid FROM runs WHERE status = 'running'`).all() as Array<{
    id: string
    pid: number | null
  }>
  let reaped = 0
  for (const row of rows) {
    if (row.pid !== null && row.pid !== process.pid && !alive(row.pid)) {
      failRun(
        ws,
        row.id,
        Object.assign(new Error(`the process (pid ${row.pid}) ended before the run finished`), {
          code: 'E_RUN_INTERRUPTED',
        }),
      )
      reaped++
    }
  }
  return reaped
}

interface RunRow {
  id: string
  name: string
  experiment: string
  status: RunStatus
  algo: string | null
  task: string | null
  started_at: string
  ended_at: string | null
  duration_ms: number | null
  error_code: string | null
  error: string | null
  dataset: string | null
  artifact_dir: string | null
  mlproj_version: string | null
}

const RUN_SELECT = `SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.id = r.experiment_id`

function toRecord(ws: Workspace, row: RunRow): RunRecord {
  const params = Object.fromEntries(
    (
      ws.db.prepare('SELECT key, value FROM params WHERE run_id = ? ORDER BY key').all(row.id) as Array<{
        key: string
        value: string
      }>
    ).map(p => [p.key, JSON.parse(p.value) as unknown]),
  )
  const metrics: Record<string, Record<string, number>> = {}
  for (const m of ws.db
    .prepare('SELECT split, key, value FROM metrics WHERE run_id = ? ORDER BY split, key')
    .all(row.id) as Array<{
    split: string
    key: string
    value: number
  }>) {
    metrics[m.split] ??= {}
    metrics[m.split]![m.key] = m.value
  }
  const tags = Object.fromEntries(
    (
      ws.db.prepare('SELECT key, value FROM tags WHERE run_id = ? ORDER BY key').all(row.id) as Array<{
        key: string
        value: string
      }>
    ).map(t => [t.key, t.value]),
  )
  const importance = ws.db
    .prepare('SELECT feature, gain, splits FROM feature_importance WHERE run_id = ? ORDER BY gain DESC, feature')
    .all(row.id) as FeatureImportance[]
  return {
    id: row.id,
    name: row.name,
    experiment: row.experiment,
    status: row.status,
    algo: row.algo,
    task: row.task,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    error: row.error === null ? null : {code: row.error_code, message: row.error},
    params,
    metrics,
    tags,
    dataset: row.dataset ? (JSON.parse(row.dataset) as DatasetRecord) : null,
    artifactDir: row.artifact_dir,
    mlprojVersion: row.mlproj_version,
    ...(importance.length > 0 ? {importance} : {}),
  }
}

/** A run by id or unique id prefix (at least 4 characters), like git. */
export function getRun(ws: Workspace, idOrPrefix: string): RunRecord {
  const row = rowByIdPrefix<RunRow>(ws, idOrPrefix.replace(/^run:/, ''), idOrPrefix, {
    noun: 'run',
    code: 'E_USAGE_RUN_ID',
    select: `${RUN_SELECT} WHERE r.id`,
    notFound: () =>
      new ModelError('E_MODEL_RUN_NOT_FOUND', `no run with id ${idOrPrefix} in ${ws.dir}`, {
        hint: 'list runs with: mlproj runs list',
      }),
  })
  return toRecord(ws, row)
}

/** How rowByIdPrefix finds and names one kind of record. */
export interface IdLookup {
  /** What the id names, in messages ("run", "job"); `mlproj <noun>s list` lists them. */
  readonly noun: string
  /** Error code of an id that is not one, or of a prefix that several ids share. */
  readonly code: string
  /** SQL up to the id column: `LIKE ? || '%'` follows. */
  readonly select: string
  readonly notFound: () => MlprojError
}

/** The row whose id is `key` or starts with it (4+ hexadecimal characters, case-insensitive). */
export function rowByIdPrefix<R>(ws: Workspace, key: string, idOrPrefix: string, lookup: IdLookup): R {
  const {noun, code} = lookup
  const prefix = key.toLowerCase()
  if (!ID_PATTERN.test(prefix)) {
    throw new UsageError(code, `"${idOrPrefix}" is not a ${noun} id`, {
      hint: `${noun} ids are hexadecimal, e.g. 3f9a1c2b7d4e; a unique prefix of 4+ characters works; see mlproj ${noun}s list`,
    })
  }
  const rows = ws.db.prepare(`${lookup.select} LIKE ? || '%' LIMIT 2`).all(prefix) as R[]
  if (rows.length === 0) throw lookup.notFound()
  if (rows.length > 1) {
    throw new UsageError(code, `${noun} id prefix ${idOrPrefix} is ambiguous`, {hint: 'give more characters of the id'})
  }
  return rows[0]!
}

export interface ListRuns {
  readonly experiment?: string
  /** A metric name (test split) to sort by, best first. */
  readonly sort?: {metric: string; direction: 'higher' | 'lower'}
  readonly limit?: number
  readonly status?: RunStatus
}

export function listRuns(ws: Workspace, options: ListRuns = {}): RunRecord[] {
  const where: string[] = []
  const args: unknown[] = []
  if (options.experiment) {
    where.push('e.name = ?')
    args.push(options.experiment)
  }
  if (options.status) {
    where.push('r.status = ?')
    args.push(options.status)
  }
  let order = 'r.started_at DESC, r.rowid DESC'
  let join = ''
  if (options.sort) {
    join = `LEFT JOIN metrics m ON m.run_id = r.id AND m.split = 'test' AND m.key = ?`
    args.unshift(options.sort.metric)
    order = `m.value IS NULL, m.value ${options.sort.direction === 'higher' ? 'DESC' : 'ASC'}, r.started_at DESC`
  }
  const sql = `SELECT r.*, e.name AS experiment FROM runs r JOIN experiments e ON e.id = r.experiment_id ${join}
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`
  const rows = ws.db.prepare(sql).all(...args, options.limit ?? -1) as RunRow[]
  return rows.map(r => toRecord(ws, r))
}

export function experimentExists(ws: Workspace, name: string): boolean {
  return ws.db.prepare('SELECT 1 FROM experiments WHERE name = ?').get(name) !== undefined
}

export function experimentNames(ws: Workspace): string[] {
  return (ws.db.prepare('SELECT name FROM experiments ORDER BY name').all() as Array<{name: string}>).map(r => r.name)
}
