// Schema 1: experiments, runs (params, metrics, tags), the model registry and evaluations.
export default `
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
  `
