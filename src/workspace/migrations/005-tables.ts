// Schema 5: tables saved by query --save-as. The data is .mlproj/tables/<file>; a row here is what makes it a table.
// Names are unique ignoring case, as SQL names are. IF NOT EXISTS: see RESERVED in ../db.ts.
export default `
  CREATE TABLE IF NOT EXISTS saved_tables (
    name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    file TEXT NOT NULL,
    rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    columns TEXT NOT NULL,
    sql TEXT NOT NULL,
    models TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  `
