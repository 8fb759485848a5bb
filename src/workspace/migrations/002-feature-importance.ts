// Schema 2: feature importance of tree models, per run and input column.
export default `
  CREATE TABLE feature_importance (
    run_id TEXT NOT NULL REFERENCES runs(id),
    feature TEXT NOT NULL,
    gain REAL NOT NULL,
    splits INTEGER NOT NULL,
    PRIMARY KEY (run_id, feature)
  );
  `
