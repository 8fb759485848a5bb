// The workspace metadata database: SQLite in WAL mode (cron, serve and CI may use one workspace at once),
// with a schema version in `PRAGMA user_version` and forward-only migrations applied in one transaction.
import Database from 'better-sqlite3'
import {EnvironmentError} from '../errors.js'

export type Db = Database.Database

/** Each entry moves the schema from version i to i + 1. Never edit a shipped migration: add one. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE experiments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
  );
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    algo TEXT,
    task TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    duration_ms INTEGER,
    error_code TEXT,
    error TEXT,
    dataset TEXT,
    artifact_dir TEXT,
    pid INTEGER,
    mlproj_version TEXT
  );
  CREATE INDEX runs_experiment ON runs(experiment_id, started_at);
  CREATE TABLE params (
    run_id TEXT NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  );
  CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs(id),
    split TEXT NOT NULL,
    key TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (run_id, split, key)
  );
  CREATE TABLE tags (
    run_id TEXT NOT NULL REFERENCES runs(id),
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
  );
  CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE model_versions (
    model_id INTEGER NOT NULL REFERENCES models(id),
    version INTEGER NOT NULL,
    run_id TEXT REFERENCES runs(id),
    source TEXT NOT NULL,
    artifact_dir TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    signature TEXT NOT NULL,
    task TEXT NOT NULL,
    algo TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (model_id, version)
  );
  CREATE TABLE aliases (
    model_id INTEGER NOT NULL REFERENCES models(id),
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (model_id, alias),
    FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version)
  );
  CREATE TABLE evaluations (
    id TEXT PRIMARY KEY,
    model_ref TEXT NOT NULL,
    model_name TEXT,
    model_version INTEGER,
    run_id TEXT,
    dataset TEXT NOT NULL,
    metrics TEXT NOT NULL,
    gates TEXT NOT NULL,
    passed INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX evaluations_model ON evaluations(model_name, model_version);
  `,
  `
  CREATE TABLE feature_importance (
    run_id TEXT NOT NULL REFERENCES runs(id),
    feature TEXT NOT NULL,
    gain REAL NOT NULL,
    splits INTEGER NOT NULL,
    PRIMARY KEY (run_id, feature)
  );
  `,
]

export const SCHEMA_VERSION = MIGRATIONS.length

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
  if (current === SCHEMA_VERSION) return
  try {
    db.transaction(() => {
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
