// Tables saved by `query --save-as`: a Parquet file under .mlproj/tables/ plus a row in `saved_tables`. The file is
// written beside its final name and renamed into place inside the transaction that records it.
import {randomBytes} from 'node:crypto'
import {closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {UsageError} from '../errors.js'
import {fsyncDirSync} from './atomic.js'
import {now} from './runs.js'
import type {Workspace} from './workspace.js'

/** Saved table names are plain SQL names, so that they can be written unquoted in queries. */
export const TABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** The workspace's own tables in `query`; a saved table cannot take these names. */
export const WORKSPACE_TABLE_NAMES = ['runs', 'models', 'model_versions', 'evaluations', 'jobs', 'predictions_log']

export interface TableColumn {
  readonly name: string
  /** DuckDB's type name. */
  readonly type: string
}

export interface SavedTable {
  readonly name: string
  /** The Parquet file, absolute. */
  readonly path: string
  readonly rows: number
  readonly bytes: number
  readonly columns: readonly TableColumn[]
  /** The statement whose result this is. */
  readonly sql: string
  /** The models the statement used, as NAME:VERSION (or run:RUN_ID) at the time it ran. */
  readonly models: readonly string[]
  readonly createdAt: string
  readonly updatedAt: string
}

export function checkTableName(name: string): void {
  if (!TABLE_NAME_PATTERN.test(name)) {
    throw new UsageError('E_USAGE_TABLE_NAME', `"${name}" is not a valid table name`, {
      hint: 'use letters, digits and "_", starting with a letter or "_" (e.g. scored_customers)',
    })
  }
  if (WORKSPACE_TABLE_NAMES.includes(name.toLowerCase())) {
    throw new UsageError('E_USAGE_TABLE_NAME', `"${name}" is the name of a workspace table`, {
      hint: `choose another name; ${WORKSPACE_TABLE_NAMES.join(', ')} are taken by the workspace`,
    })
  }
}

interface Row {
  name: string
  file: string
  rows: number
  bytes: number
  columns: string
  sql: string
  models: string
  created_at: string
  updated_at: string
}

function hasTable(ws: Workspace): boolean {
  return ws.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'saved_tables'`).get() !== undefined
}

function toTable(ws: Workspace, row: Row): SavedTable {
  return {
    name: row.name,
    path: join(ws.dir, row.file),
    rows: row.rows,
    bytes: row.bytes,
    columns: JSON.parse(row.columns) as TableColumn[],
    sql: row.sql,
    models: JSON.parse(row.models) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

export function listSavedTables(ws: Workspace): SavedTable[] {
  if (!hasTable(ws)) return []
  const rows = ws.db.prepare('SELECT * FROM saved_tables ORDER BY name').all() as Row[]
  return rows.map(r => toTable(ws, r))
}

/** A saved table by name, ignoring case as SQL does. */
export function getSavedTable(ws: Workspace, name: string): SavedTable | undefined {
  if (!hasTable(ws)) return undefined
  const row = ws.db.prepare('SELECT * FROM saved_tables WHERE name = ?').get(name) as Row | undefined
  return row && toTable(ws, row)
}

/** Refuses a name that is invalid, or taken while `replace` is off, before any work is done. */
export function checkCanSave(ws: Workspace, name: string, replace: boolean): void {
  checkTableName(name)
  const existing = getSavedTable(ws, name)
  if (existing && !replace) {
    throw new UsageError('E_USAGE_TABLE_EXISTS', `the workspace already has a table named "${existing.name}"`, {
      hint: `pass --replace to overwrite it, or choose another name (mlproj tables list shows them)`,
    })
  }
}

export interface SaveTable {
  readonly name: string
  readonly replace: boolean
  readonly sql: string
  readonly models: readonly string[]
  /** Writes the Parquet file at `path` and describes it. */
  readonly write: (path: string) => Promise<{rows: number; columns: TableColumn[]}>
}

export async function saveTable(ws: Workspace, options: SaveTable): Promise<SavedTable & {replaced: boolean}> {
  checkCanSave(ws, options.name, options.replace)
  const dir = join(ws.dir, 'tables')
  mkdirSync(dir, {recursive: true})
  const file = `tables/${options.name}.parquet`
  const temp = join(dir, `.${options.name}.parquet.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    const {rows, columns} = await options.write(temp)
    const fd = openSync(temp, 'r+')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    const bytes = statSync(temp).size
    const at = now()
    const previous = ws.db
      .transaction(() => {
        const old = ws.db.prepare('SELECT * FROM saved_tables WHERE name = ?').get(options.name) as Row | undefined
        if (old && !options.replace) checkCanSave(ws, options.name, false)
        ws.db
          .prepare(
            `INSERT INTO saved_tables (name, file, rows, bytes, columns, sql, models, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET name = excluded.name, file = excluded.file, rows = excluded.rows,
               bytes = excluded.bytes, columns = excluded.columns, sql = excluded.sql, models = excluded.models,
               updated_at = excluded.updated_at`,
          )
          .run(
            options.name,
            file,
            rows,
            bytes,
            JSON.stringify(columns),
            options.sql,
            JSON.stringify(options.models),
            at,
            at,
          )
        // Renamed before the commit: a crash in between leaves the old row with a complete new file, never a row
        // pointing at a half-written one.
        renameSync(temp, join(ws.dir, file))
        return old
      })
      .immediate()
    fsyncDirSync(dir)
    if (previous && previous.file !== file) rmSync(join(ws.dir, previous.file), {force: true})
    return {...getSavedTable(ws, options.name)!, replaced: previous !== undefined}
  } finally {
    rmSync(temp, {force: true})
  }
}
