// Schema 4: requests logged by the prediction server (serve --log-predictions), one row per predicted row, so
// that inputs and predictions can be analysed later (drift, distributions) with plain SQL and JSON functions.
// IF NOT EXISTS: see RESERVED in ../db.ts.
export default `
  CREATE TABLE IF NOT EXISTS predictions_log (
    id INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL,
    row_index INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    served_name TEXT NOT NULL,
    model_ref TEXT NOT NULL,
    model_name TEXT,
    model_version INTEGER,
    run_id TEXT,
    protocol TEXT NOT NULL,
    latency_ms REAL NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS predictions_log_model ON predictions_log(served_name, created_at);
  CREATE INDEX IF NOT EXISTS predictions_log_request ON predictions_log(request_id);
  `
