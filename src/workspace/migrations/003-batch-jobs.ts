// Schema 3: batch prediction jobs, their inputs and outputs, and inputs already processed per model version (predict-batch).
// IF NOT EXISTS: see RESERVED in ../db.ts.
// A job is "running" while it scores into temporary files, "publishing" once its outputs are complete and its
// inputs recorded (a crash then finishes the renames), and "finished" or "failed" at the end.
export default `
  CREATE TABLE IF NOT EXISTS batch_jobs (
    id TEXT PRIMARY KEY,
    model_ref TEXT NOT NULL,
    model_name TEXT,
    model_version INTEGER,
    run_id TEXT,
    model_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'publishing', 'finished', 'failed')),
    input TEXT NOT NULL,
    output TEXT,
    format TEXT NOT NULL,
    options TEXT NOT NULL,
    staging TEXT NOT NULL DEFAULT '[]',
    rows_in INTEGER,
    rows_out INTEGER,
    rows_rejected INTEGER,
    inputs_skipped INTEGER,
    warnings TEXT NOT NULL DEFAULT '[]',
    pid INTEGER,
    pid_start TEXT,
    host TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    duration_ms INTEGER,
    error_code TEXT,
    error TEXT,
    mlproj_version TEXT
  );
  CREATE INDEX IF NOT EXISTS batch_jobs_started ON batch_jobs(started_at);
  CREATE INDEX IF NOT EXISTS batch_jobs_model ON batch_jobs(model_name, model_version);
  CREATE TABLE IF NOT EXISTS batch_job_inputs (
    job_id TEXT NOT NULL REFERENCES batch_jobs(id),
    position INTEGER NOT NULL,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows_in INTEGER,
    rows_rejected INTEGER,
    PRIMARY KEY (job_id, position)
  );
  CREATE TABLE IF NOT EXISTS batch_job_outputs (
    job_id TEXT NOT NULL REFERENCES batch_jobs(id),
    kind TEXT NOT NULL CHECK (kind IN ('predictions', 'rejects')),
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    rows INTEGER NOT NULL,
    bytes INTEGER,
    PRIMARY KEY (job_id, kind)
  );
  CREATE TABLE IF NOT EXISTS processed_inputs (
    model_key TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    job_id TEXT NOT NULL REFERENCES batch_jobs(id),
    processed_at TEXT NOT NULL,
    PRIMARY KEY (model_key, path, size, mtime, sha256)
  );
  CREATE TABLE IF NOT EXISTS batch_locks (
    key TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_start TEXT,
    host TEXT NOT NULL,
    acquired_at TEXT NOT NULL
  );
  `
