// The workspace as SQL tables: runs (with metrics and params as struct columns), models, model_versions, evaluations,
// and the tables other commands keep (jobs of predict-batch, predictions_log of serve) once they exist. Each is read
// from SQLite with better-sqlite3 and handed to DuckDB as one JSON document (from_json), only when a statement names it:
// DuckDB's sqlite extension would need a download, and a JSON round trip of a few thousand rows takes milliseconds.
import type {DuckDBConnection} from '@duckdb/node-api'
import {ident, literal} from '../data/duckdb.js'
import {VERSION_SELECT, type VersionRow} from '../workspace/registry.js'
import type {Workspace} from '../workspace/workspace.js'

/** A column of a workspace table: its name and from_json's type for it. */
type Structure = Record<string, unknown>

interface TableData {
  readonly structure: Structure
  /** The rows, a JSON array of objects. */
  readonly json: string
}

interface WorkspaceTable {
  readonly name: string
  readonly description: string
  /** Whether this workspace keeps the table (jobs and predictions_log come with later schema versions). */
  exists(ws: Workspace): boolean
  /** Undefined when the workspace does not keep this table (yet). */
  read(ws: Workspace): TableData | undefined
}

const always = () => true
const JOBS = ['jobs', 'batch_jobs', 'predict_jobs', 'prediction_jobs']
const LOG = ['predictions_log', 'prediction_log', 'prediction_logs', 'predictions']

export const WORKSPACE_TABLES: readonly WorkspaceTable[] = [
  {
    name: 'runs',
    description: 'training runs; metrics.<name> (test split), train_metrics.<name> and params.<name> are columns',
    exists: always,
    read: readRuns,
  },
  {name: 'models', description: 'registered models: latest version, aliases', exists: always, read: readModels},
  {
    name: 'model_versions',
    description: 'every version of every model: run, aliases, target, classes, input columns',
    exists: always,
    read: readVersions,
  },
  {
    name: 'evaluations',
    description: 'evaluate results: model version, dataset, metrics.<name>, gates',
    exists: always,
    read: readEvaluations,
  },
  {
    name: 'jobs',
    description: 'predict-batch jobs',
    exists: ws => sourceTable(ws, JOBS) !== undefined,
    read: ws => mirror(ws, JOBS),
  },
  {
    name: 'predictions_log',
    description: 'predictions logged by serve',
    exists: ws => sourceTable(ws, LOG) !== undefined,
    read: ws => mirror(ws, LOG),
  },
]

export function workspaceTable(name: string): WorkspaceTable | undefined {
  return WORKSPACE_TABLES.find(t => t.name === name.toLowerCase())
}

/**
 * (Re)creates the named workspace tables as temporary DuckDB tables, from the metadata as it is now. Returns the
 * names the workspace does not keep.
 */
export async function loadWorkspaceTables(
  con: DuckDBConnection,
  ws: Workspace,
  names: readonly string[],
): Promise<string[]> {
  const absent: string[] = []
  for (const name of names) {
    const table = workspaceTable(name)!
    const data = table.read(ws)
    if (!data) {
      absent.push(table.name)
      continue
    }
    await con.run(
      `CREATE OR REPLACE TEMP TABLE ${ident(table.name)} AS SELECT r.* FROM ` +
        `(SELECT unnest(from_json($1::VARCHAR, ${literal(JSON.stringify([data.structure]))})) AS r)`,
      [data.json],
    )
  }
  return absent
}

/**
 * runs, built as one JSON document by SQLite itself (its JSON functions, the primary-key indexes of metrics and
 * params): reading 10,000 runs' 280,000 metric and param rows into JS objects one by one took seconds.
 */
function readRuns(ws: Workspace): TableData {
  const splits = new Map<string, Set<string>>([
    ['test', new Set()],
    ['train', new Set()],
  ])
  for (const m of ws.db.prepare('SELECT DISTINCT split, key FROM metrics ORDER BY split, key').all() as Array<{
    split: string
    key: string
  }>) {
    if (!splits.has(m.split)) splits.set(m.split, new Set())
    splits.get(m.split)!.add(m.key)
  }
  const column = (split: string) => (split === 'test' ? 'metrics' : `${split}_metrics`)
  const paramTypes: Record<string, string> = {}
  for (const p of ws.db
    .prepare('SELECT key, group_concat(DISTINCT json_type(value)) AS types FROM params GROUP BY key ORDER BY key')
    .all() as Array<{key: string; types: string}>) {
    const types = new Set(p.types.split(','))
    types.delete('null')
    paramTypes[p.key] = [...types].every(t => t === 'integer' || t === 'real')
      ? 'DOUBLE'
      : [...types].every(t => t === 'true' || t === 'false')
        ? 'BOOLEAN'
        : 'VARCHAR'
  }
  const structure: Structure = {
    id: 'VARCHAR',
    name: 'VARCHAR',
    experiment: 'VARCHAR',
    status: 'VARCHAR',
    algo: 'VARCHAR',
    task: 'VARCHAR',
    target: 'VARCHAR',
    started_at: 'TIMESTAMP',
    ended_at: 'TIMESTAMP',
    duration_ms: 'BIGINT',
    ...Object.fromEntries([...splits].map(([split, keys]) => [column(split), numberStruct(keys)])),
    params: Object.keys(paramTypes).length > 0 ? paramTypes : 'MAP(VARCHAR, VARCHAR)',
    tags: 'MAP(VARCHAR, VARCHAR)',
    dataset: 'VARCHAR',
    dataset_rows: 'BIGINT',
    dataset_sha256: 'VARCHAR',
    error: 'VARCHAR',
    artifact_dir: 'VARCHAR',
    mlproj_version: 'VARCHAR',
  }
  const metricFields = [...splits.keys()].map(
    split =>
      `${literal(column(split))}, (SELECT json_group_object(key, value) FROM metrics m WHERE m.run_id = r.id AND m.split = ${literal(split)})`,
  )
  const {json} = ws.db
    .prepare(
      `SELECT json_group_array(json_object(
         'id', r.id, 'name', r.name, 'experiment', e.name, 'status', r.status, 'algo', r.algo, 'task', r.task,
         'target', json_extract(r.dataset, '$.target'), 'started_at', r.started_at, 'ended_at', r.ended_at,
         'duration_ms', r.duration_ms, ${metricFields.join(', ')},
         'params', (SELECT json_group_object(key, json(value)) FROM params p WHERE p.run_id = r.id),
         'tags', (SELECT json_group_object(key, value) FROM tags t WHERE t.run_id = r.id),
         'dataset', json_extract(r.dataset, '$.path'), 'dataset_rows', json_extract(r.dataset, '$.rows'),
         'dataset_sha256', json_extract(r.dataset, '$.sha256'), 'error', r.error, 'artifact_dir', r.artifact_dir,
         'mlproj_version', r.mlproj_version)) AS json
       FROM (SELECT * FROM runs ORDER BY started_at, rowid) r JOIN experiments e ON e.id = r.experiment_id`,
    )
    .get() as {json: string}
  return {structure, json}
}

/** A struct of DOUBLE fields, or an (empty) map when there is no field: DuckDB has no empty struct. */
function numberStruct(keys: ReadonlySet<string>): unknown {
  return keys.size > 0 ? Object.fromEntries([...keys].sort().map(k => [k, 'DOUBLE'])) : 'MAP(VARCHAR, DOUBLE)'
}

function readModels(ws: Workspace): TableData {
  const models = ws.db
    .prepare(
      `SELECT m.id, m.name, m.created_at, m.updated_at, count(v.version) AS versions, max(v.version) AS latest_version,
         (SELECT task FROM model_versions WHERE model_id = m.id ORDER BY version DESC LIMIT 1) AS task,
         (SELECT algo FROM model_versions WHERE model_id = m.id ORDER BY version DESC LIMIT 1) AS algo
       FROM models m JOIN model_versions v ON v.model_id = m.id GROUP BY m.id ORDER BY m.name`,
    )
    .all() as Array<Record<string, unknown> & {id: number}>
  const aliases = aliasRows(ws)
  return {
    structure: {
      name: 'VARCHAR',
      latest_version: 'BIGINT',
      versions: 'BIGINT',
      aliases: 'MAP(VARCHAR, BIGINT)',
      task: 'VARCHAR',
      algo: 'VARCHAR',
      created_at: 'TIMESTAMP',
      updated_at: 'TIMESTAMP',
    },
    json: JSON.stringify(
      models.map(m => ({
        name: m.name,
        latest_version: m.latest_version,
        versions: m.versions,
        aliases: Object.fromEntries(aliases.filter(a => a.model_id === m.id).map(a => [a.alias, a.version])),
        task: m.task,
        algo: m.algo,
        created_at: m.created_at,
        updated_at: m.updated_at,
      })),
    ),
  }
}

function aliasRows(ws: Workspace): Array<{model_id: number; alias: string; version: number}> {
  return ws.db.prepare('SELECT model_id, alias, version FROM aliases ORDER BY alias').all() as Array<{
    model_id: number
    alias: string
    version: number
  }>
}

function readVersions(ws: Workspace): TableData {
  const versions = ws.db.prepare(`${VERSION_SELECT} ORDER BY m.name, v.version`).all() as VersionRow[]
  const aliases = aliasRows(ws)
  return {
    structure: {
      name: 'VARCHAR',
      version: 'BIGINT',
      ref: 'VARCHAR',
      aliases: ['VARCHAR'],
      run_id: 'VARCHAR',
      source: 'VARCHAR',
      task: 'VARCHAR',
      algo: 'VARCHAR',
      target: 'VARCHAR',
      classes: ['VARCHAR'],
      inputs: ['VARCHAR'],
      sha256: 'VARCHAR',
      artifact_dir: 'VARCHAR',
      created_at: 'TIMESTAMP',
    },
    json: JSON.stringify(
      versions.map(v => {
        const signature = JSON.parse(v.signature) as {
          target?: string
          classes?: string[]
          inputs?: Array<{name: string}>
        }
        return {
          name: v.name,
          version: v.version,
          ref: `${v.name}:${v.version}`,
          aliases: aliases.filter(a => a.model_id === v.model_id && a.version === v.version).map(a => a.alias),
          run_id: v.run_id,
          source: v.source,
          task: v.task,
          algo: v.algo,
          target: signature.target ?? null,
          classes: signature.classes ?? null,
          inputs: (signature.inputs ?? []).map(i => i.name),
          sha256: v.model_sha256,
          artifact_dir: v.artifact_dir,
          created_at: v.created_at,
        }
      }),
    ),
  }
}

function readEvaluations(ws: Workspace): TableData {
  const evaluations = ws.db.prepare('SELECT * FROM evaluations ORDER BY created_at, rowid').all() as Array<{
    id: string
    model_ref: string
    model_name: string | null
    model_version: number | null
    run_id: string | null
    dataset: string
    metrics: string
    gates: string
    passed: number
    created_at: string
  }>
  const keys = new Set<string>()
  const parsed = evaluations.map(e => {
    const metrics = JSON.parse(e.metrics) as Record<string, number>
    for (const k of Object.keys(metrics)) keys.add(k)
    return {e, metrics, dataset: JSON.parse(e.dataset) as {path?: string; rows?: number; sha256?: string}}
  })
  return {
    structure: {
      id: 'VARCHAR',
      model_ref: 'VARCHAR',
      model_name: 'VARCHAR',
      model_version: 'BIGINT',
      run_id: 'VARCHAR',
      dataset: 'VARCHAR',
      dataset_rows: 'BIGINT',
      dataset_sha256: 'VARCHAR',
      metrics: numberStruct(keys),
      passed: 'BOOLEAN',
      gates: 'VARCHAR',
      created_at: 'TIMESTAMP',
    },
    json: JSON.stringify(
      parsed.map(({e, metrics, dataset}) => ({
        id: e.id,
        model_ref: e.model_ref,
        model_name: e.model_name,
        model_version: e.model_version,
        run_id: e.run_id,
        dataset: dataset.path ?? null,
        dataset_rows: dataset.rows ?? null,
        dataset_sha256: dataset.sha256 ?? null,
        metrics,
        passed: e.passed === 1,
        gates: e.gates,
        created_at: e.created_at,
      })),
    ),
  }
}

function sourceTable(ws: Workspace, candidates: readonly string[]): string | undefined {
  return candidates.find(
    name =>
      ws.db.prepare(`SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?`).get(name) !== undefined,
  )
}

/**
 * A table another command keeps, copied column for column: the first of `candidates` that exists in SQLite. Its
 * columns take DuckDB types from their declared SQLite types; TEXT columns named *_at are timestamps, and TEXT
 * columns holding JSON objects or arrays in every row are JSON (so inputs->>'age' works).
 */
function mirror(ws: Workspace, candidates: readonly string[]): TableData | undefined {
  const found = sourceTable(ws, candidates)
  if (!found) return undefined
  const info = ws.db.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(found) as Array<{
    name: string
    type: string
  }>
  const rows = ws.db.prepare(`SELECT * FROM ${ident(found)}`).all() as Array<Record<string, unknown>>
  const structure: Structure = {}
  for (const column of info) {
    const declared = column.type.toUpperCase()
    const values = rows.map(r => r[column.name]).filter(v => v !== null && v !== undefined)
    const json = values.length > 0 && values.every(v => typeof v === 'string' && /^\s*[[{]/.test(v) && parses(v))
    structure[column.name] = /INT/.test(declared)
      ? 'BIGINT'
      : /REAL|FLOA|DOUB|NUMERIC|DECIMAL/.test(declared)
        ? 'DOUBLE'
        : /BLOB/.test(declared)
          ? 'BLOB'
          : json
            ? 'JSON'
            : /_at$/.test(column.name)
              ? 'TIMESTAMP'
              : 'VARCHAR'
  }
  const copy = rows.map(row =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        Buffer.isBuffer(v)
          ? v.toString('base64')
          : structure[k] === 'JSON' && typeof v === 'string'
            ? (JSON.parse(v) as unknown)
            : v,
      ]),
    ),
  )
  return {structure, json: JSON.stringify(copy)}
}

function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
