// The workspace metadata database: SQLite in WAL mode (cron, serve and CI may use one workspace at once),
// with a schema version in `PRAGMA user_version` and forward-only migrations applied in one transaction.
import Database from 'better-sqlite3'
import {EnvironmentError} from '../errors.js'
import metadata from './migrations/001-metadata.js'
import featureImportance from './migrations/002-feature-importance.js'
import batchJobs from './migrations/003-batch-jobs.js'
import predictionLog from './migrations/004-prediction-log.js'
import tables from './migrations/005-tables.js'

export type Db = Database.Database

/**
 * Each entry moves the schema from version i to i + 1. Never edit a shipped migration: add one (a file in
 * migrations/, listed here in order).
 */
export const MIGRATIONS: readonly string[] = [metadata, featureImportance, batchJobs, predictionLog, tables]

export const SCHEMA_VERSION = MIGRATIONS.length

/**
 * Schemas 3–5 were reserved (empty) in pre-release builds, so a workspace made then is at version 5 without
 * their tables. These migrations are idempotent (IF NOT EXISTS); migrate() applies them again when one of the
 * tables named here is missing.
 */
const RESERVED: ReadonlyArray<{version: number; table: string}> = [
  {version: 3, table: 'batch_jobs'},
  {version: 4, table: 'predictions_log'},
  {version: 5, table: 'saved_tables'},
]

export function openDb(path: string, options: {readonly?: boolean} = {}): Db {
  let db: Db
  try {
    db = new Database(path, {readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false})
    db.pragma('busy_timeout = 10000')
    if (!options.readonly) {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
    }
    db.pragma('foreign_keys = ON')
  } catch (error) {
    throw environmentError(error, path)
  }
  if (!options.readonly) migrate(db, path)
  return db
}

export function migrate(db: Db, path: string): void {
  const current = db.pragma('user_version', {simple: true}) as number
  if (current > SCHEMA_VERSION) {
    throw new EnvironmentError(
      'E_ENV_SCHEMA_NEWER',
      `${path} has schema version ${current}, newer than this mlproj understands (${SCHEMA_VERSION})`,
      {hint: 'upgrade mlproj to the version that wrote this workspace'},
    )
  }
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck()
  const repairs = RESERVED.filter(r => r.version <= current && !has.get(r.table))
  if (current === SCHEMA_VERSION && repairs.length === 0) return
  try {
    db.transaction(() => {
      for (const r of repairs) db.exec(MIGRATIONS[r.version - 1]!)
      for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!)
      db.pragma(`user_version = ${SCHEMA_VERSION}`)
    }).immediate()
  } catch (error) {
    throw environmentError(error, path)
  }
}

/** SQLite refusals (read-only file or folder, locked, disk full) are the environment's, not bugs. */
export function environmentError(error: unknown, path: string): Error {
  const code = (error as {code?: string}).code ?? ''
  const message = (error as Error).message ?? String(error)
  if (/READONLY|CANTOPEN|PERM|AUTH/.test(code) || /readonly|unable to open/i.test(message)) {
    return new EnvironmentError(
      'E_ENV_WORKSPACE_UNWRITABLE',
      `cannot write the workspace database ${path}: ${message}`,
      {
        hint: 'check the permissions of the .mlproj folder and its files, or pass --workspace to use another workspace',
        cause: error,
      },
    )
  }
  if (/BUSY|LOCKED/.test(code)) {
    return new EnvironmentError('E_ENV_WORKSPACE_BUSY', `the workspace database ${path} is locked by another process`, {
      hint: 'wait for the other mlproj command to finish, then try again',
      cause: error,
    })
  }
  if (/FULL|IOERR/.test(code)) {
    return new EnvironmentError('E_ENV_DISK', `cannot write ${path}: ${message}`, {
      hint: 'free disk space',
      cause: error,
    })
  }
  return error instanceof Error ? error : new Error(message)
}
