// A query session: the DuckDB connection with the prediction functions, the workspace's tables and saved tables made
// visible to each statement that names them, and the runners that show, return, write or save a statement's result.
// Every DuckDB error becomes an mlproj error whose position points into the SQL the user wrote.
import {randomBytes} from 'node:crypto'
import {closeSync, fsyncSync, openSync, renameSync, rmSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import type {DuckDBConnection, DuckDBDataChunk, DuckDBResult, DuckDBValue} from '@duckdb/node-api'
import {duckdb, ident, literal, pathLiteral} from '../data/duckdb.js'
import {DataError, EnvironmentError, MlprojError} from '../errors.js'
import {reapStaleJobs} from '../workspace/jobs.js'
import {checkCanSave, getSavedTable, listSavedTables, type SavedTable, saveTable} from '../workspace/tables.js'
import {findWorkspaceRoot, type LocateOptions, openWorkspace, type Workspace} from '../workspace/workspace.js'
import {activate, type LoadedModel, ModelScope, type Rewritten, registerFunctions} from './functions.js'
import {at, type Statement} from './sql.js'
import {loadWorkspaceTables, WORKSPACE_TABLES, workspaceTable} from './workspace-tables.js'

export type FileFormat = 'csv' | 'json' | 'jsonl' | 'parquet'

export interface Column {
  readonly name: string
  readonly type: string
}

/** What a statement returned, cut for a terminal: the first and last rows, and how many there were. */
export interface Preview {
  readonly kind: 'rows' | 'changed' | 'nothing'
  readonly columns: readonly Column[]
  /** Cells as DuckDB prints them (NULL as null). */
  readonly head: ReadonlyArray<ReadonlyArray<string | null>>
  readonly tail: ReadonlyArray<ReadonlyArray<string | null>>
  /** Rows returned ('rows'), or rows inserted / updated / deleted ('changed'). */
  readonly rowCount: number
}

export interface Prepared {
  readonly statement: Statement
  /** The whole SQL the statement came from, for messages. */
  readonly sql: string
  readonly rewritten: Rewritten
}

export interface SessionOptions {
  readonly workspace: LocateOptions
  /** Open the workspace for writing (--save-as). */
  readonly write?: boolean
}

/** Settles jobs whose process died (workspace/jobs.ts); a workspace this user cannot write keeps them as stored. */
function settleStaleJobs(ws: Workspace): void {
  try {
    reapStaleJobs(ws)
  } catch {
    // Read-only files or an older schema: the table shows what is recorded.
  }
}

export class QuerySession {
  readonly scope: ModelScope

  private constructor(
    private readonly con: DuckDBConnection,
    private readonly ws: Workspace | undefined,
  ) {
    this.scope = new ModelScope(() => this.workspace())
  }

  /**
   * Opens DuckDB and, when there is one, the workspace. Without a workspace, files can still be queried; the
   * workspace's tables, models and --save-as then say that a workspace is needed.
   */
  static async open(options: SessionOptions): Promise<QuerySession> {
    const found = options.write || options.workspace.explicit ? true : await findWorkspaceRoot(options.workspace)
    const ws = found ? await openWorkspace({...options.workspace, readOnly: !options.write}) : undefined
    try {
      const con = await duckdb()
      // No network here, and a query must not fetch code: extensions that are not built in fail at once.
      await con.run('SET autoinstall_known_extensions = false')
      await registerFunctions(con)
      return new QuerySession(con, ws)
    } catch (error) {
      ws?.db.close()
      throw error
    }
  }

  close(): void {
    this.ws?.db.close()
  }

  /** Stops the running statement (Ctrl-C in the shell). */
  interrupt(): void {
    this.con.interrupt()
  }

  get hasWorkspace(): boolean {
    return this.ws !== undefined
  }

  workspace(): Workspace {
    if (this.ws) return this.ws
    throw new EnvironmentError('E_ENV_NO_WORKSPACE', `no .mlproj workspace in ${process.cwd()} or any parent folder`, {
      hint: 'models and workspace tables live in a workspace: run the query where one is, or pass --workspace DIR',
    })
  }

  /** Resolves and rewrites the statement's model calls and makes the tables it names visible. */
  async prepare(statement: Statement, sql: string): Promise<Prepared> {
    const rewritten = await this.scope.rewrite(statement, sql)
    const prepared = {statement, sql, rewritten}
    for (const [macro, fn] of Object.entries(rewritten.macros)) {
      await this.con.run(`CREATE OR REPLACE TEMP MACRO ${macro}(model, "row") AS ${fn}(model, "row")`)
    }
    let names: readonly string[] = []
    try {
      names = this.con.getTableNames(rewritten.text, false)
    } catch {
      // Unparsable: running the statement reports the error with its position.
    }
    const wanted = [...new Set(names.map(n => n.toLowerCase()))]
    const own = wanted.filter(n => workspaceTable(n))
    const saved = wanted.filter(n => !workspaceTable(n))
    if (own.length > 0 && !this.ws) {
      // Without a workspace, only a table this session made can carry one of these names.
      for (const name of own) if (!(await this.userTableExists(name))) this.workspace()
    } else if (own.length > 0) {
      // A predict-batch job whose process died still says "running": settle it first, as `mlproj jobs list` does.
      if (own.some(n => workspaceTable(n)!.name === 'jobs')) settleStaleJobs(this.workspace())
      const absent = await loadWorkspaceTables(this.con, this.workspace(), own)
      for (const name of absent) {
        await this.con.run(`DROP TABLE IF EXISTS temp.main.${ident(name)}`)
        if (await this.userTableExists(name)) continue
        const command = name === 'jobs' ? 'predict-batch' : 'serve --log-predictions'
        throw new DataError('E_DATA_NO_TABLE', `this workspace keeps no "${name}" table yet`, {
          hint: `${workspaceTable(name)!.description} are recorded by mlproj ${command}, in workspaces whose schema has that table`,
          details: {table: name},
        })
      }
    }
    if (saved.length > 0 && this.ws) {
      for (const name of saved) {
        const table = getSavedTable(this.ws, name)
        if (table) {
          await this.con.run(
            `CREATE OR REPLACE TEMP VIEW ${ident(table.name)} AS SELECT * FROM read_parquet(${pathLiteral(table.path)})`,
          )
        }
      }
    }
    return prepared
  }

  /** Runs a statement and drops its result. */
  async execute(p: Prepared): Promise<void> {
    await this.guard(p, '', '', text => this.con.run(text))
  }

  /** Runs a statement, keeping the first and last `maxRows / 2` rows (all when there are at most maxRows). */
  async preview(p: Prepared, maxRows: number): Promise<Preview> {
    return this.guard(p, '', '', async text => {
      const result = await this.con.stream(text)
      const columns = columnsOf(result)
      const kind = result.returnType === 3 ? 'rows' : result.returnType === 1 ? 'changed' : 'nothing'
      if (kind === 'changed') {
        let changed = 0
        for (let c = await result.fetchChunk(); c && c.rowCount > 0; c = await result.fetchChunk()) {
          changed += Number(c.getRowValues(0)[0] ?? 0)
        }
        return {kind, columns: [], head: [], tail: [], rowCount: changed}
      }
      return {kind, columns, ...(await cut(result, maxRows))}
    })
  }

  /** Runs a statement and returns every row as JSON values. */
  async rows(p: Prepared): Promise<{columns: Column[]; rows: Array<Record<string, unknown>>}> {
    return this.guard(p, '', '', async text => {
      const reader = await this.con.runAndReadAll(text)
      const columns = reader.columnNames().map((name, j) => ({name, type: String(reader.columnTypes()[j])}))
      const rows = reader.getRowsJson().map(row => {
        const record: Record<string, unknown> = {}
        columns.forEach((c, j) => {
          record[c.name] = jsonValue(row[j], c.type)
        })
        return record
      })
      return {columns, rows}
    })
  }

  /**
   * Writes a statement's result to `path` with DuckDB's COPY (a query inside COPY, or wrapped as FROM (...) for
   * DESCRIBE, SHOW and SUMMARIZE). Other statements (EXPLAIN, PRAGMA) have small results, written here.
   */
  async copy(p: Prepared, path: string, format: FileFormat): Promise<{rows: number; columns: Column[]}> {
    const options =
      format === 'csv'
        ? 'FORMAT csv, HEADER true'
        : format === 'json'
          ? 'FORMAT json, ARRAY true'
          : format === 'jsonl'
            ? 'FORMAT json'
            : 'FORMAT parquet'
    const target = `\n) TO ${literal(path)} (${options})`
    for (const prefix of ['COPY (\n', 'COPY (FROM (\n']) {
      const suffix = prefix.includes('FROM') ? `\n)${target}` : target
      if (!(await this.parses(`${prefix}${p.rewritten.text}${suffix}`))) continue
      const columns = await this.describe(p.rewritten.text)
      const rows = await this.guard(p, prefix, suffix, async text => {
        const reader = await this.con.runAndReadAll(text)
        return Number(reader.getRowsJS()[0]?.[0] ?? 0)
      })
      return {rows, columns: columns.length > 0 ? columns : await this.parquetColumns(path, format)}
    }
    if (format === 'parquet') {
      throw new DataError(
        'E_DATA_SQL',
        'only a query (SELECT, WITH, VALUES, FROM, DESCRIBE, ...) can be written as Parquet',
        {
          hint: 'write this statement as csv, json or jsonl',
        },
      )
    }
    const {columns, rows} = await this.rows(p)
    await writeSmall(path, format, columns, rows)
    return {rows: rows.length, columns}
  }

  /** Saves the statement's result as a workspace table (Parquet, recorded in the metadata). */
  async saveAs(p: Prepared, name: string, replace: boolean): Promise<SavedTable & {replaced: boolean}> {
    const ws = this.workspace()
    const saved = await saveTable(ws, {
      name,
      replace,
      sql: p.statement.text,
      models: p.rewritten.models.map(m => m.label),
      write: async path => {
        const {rows} = await this.copy(p, path, 'parquet')
        return {rows, columns: await this.parquetColumns(path, 'parquet')}
      },
    })
    await this.con.run(
      `CREATE OR REPLACE TEMP VIEW ${ident(saved.name)} AS SELECT * FROM read_parquet(${pathLiteral(saved.path)})`,
    )
    return saved
  }

  checkCanSave(name: string, replace: boolean): void {
    checkCanSave(this.workspace(), name, replace)
  }

  /** Tables a statement can name: the workspace's, the saved ones, and those made in this session. */
  async tables(): Promise<Array<{name: string; kind: 'workspace' | 'saved' | 'session'; description: string}>> {
    const out: Array<{name: string; kind: 'workspace' | 'saved' | 'session'; description: string}> = []
    if (this.ws) {
      for (const t of WORKSPACE_TABLES) {
        if (t.exists(this.ws)) out.push({name: t.name, kind: 'workspace', description: t.description})
      }
      for (const t of listSavedTables(this.ws)) {
        out.push({
          name: t.name,
          kind: 'saved',
          description: `${t.rows} row${t.rows === 1 ? '' : 's'}, saved ${t.updatedAt.slice(0, 19).replace('T', ' ')}`,
        })
      }
    }
    const reader = await this.con.runAndReadAll(
      `SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog <> 'temp' AND table_schema = 'main' ORDER BY table_name`,
    )
    for (const [name, type] of reader.getRowsJS()) {
      out.push({name: String(name), kind: 'session', description: String(type).toLowerCase()})
    }
    return out
  }

  private async userTableExists(name: string): Promise<boolean> {
    const reader = await this.con.runAndReadAll(
      `SELECT 1 FROM information_schema.tables WHERE table_catalog <> 'temp' AND table_schema = 'main' AND lower(table_name) = ${literal(name)}`,
    )
    return reader.currentRowCount > 0
  }

  /** The columns a statement would return, from binding it (nothing runs); empty when it cannot be bound alone. */
  private async describe(text: string): Promise<Column[]> {
    activate(this.scope)
    try {
      const extracted = await this.con.extractStatements(text)
      const prepared = await extracted.prepare(extracted.count - 1)
      try {
        return Array.from({length: prepared.columnCount}, (_, j) => ({
          name: prepared.columnName(j),
          type: String(prepared.columnType(j)),
        }))
      } finally {
        prepared.destroySync()
      }
    } catch {
      return []
    }
  }

  private async parses(text: string): Promise<boolean> {
    try {
      await this.con.extractStatements(text)
      return true
    } catch {
      return false
    }
  }

  private async parquetColumns(path: string, format: FileFormat): Promise<Column[]> {
    if (format !== 'parquet') return []
    const reader = await this.con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${pathLiteral(path)})`)
    return reader.getRowsJS().map(r => ({name: String(r[0]), type: String(r[1])}))
  }

  /**
   * Runs `prefix + statement + suffix` with this session's models active, turning failures into mlproj errors: the
   * error a prediction raised, or DuckDB's message with its position moved back into the user's SQL.
   */
  private async guard<T>(p: Prepared, prefix: string, suffix: string, run: (text: string) => Promise<T>): Promise<T> {
    activate(this.scope)
    this.scope.takeError()
    const text = `${prefix}${p.rewritten.text}${suffix}`
    try {
      return await run(text)
    } catch (error) {
      const raised = this.scope.takeError()
      if (raised) throw raised
      throw sqlError(error, text, prefix.length, p, this.ws ? this.knownTables() : undefined)
    }
  }

  private knownTables(): string[] {
    return [...WORKSPACE_TABLES.map(t => t.name), ...listSavedTables(this.ws!).map(t => t.name)]
  }
}

function columnsOf(result: DuckDBResult): Column[] {
  const types = result.columnTypes()
  return result.columnNames().map((name, j) => ({name, type: String(types[j])}))
}

async function cut(
  result: DuckDBResult,
  maxRows: number,
): Promise<{head: Array<Array<string | null>>; tail: Array<Array<string | null>>; rowCount: number}> {
  const all = maxRows <= 0
  const half = Math.ceil(maxRows / 2)
  const head: Array<Array<string | null>> = []
  // The last chunks seen, enough to hold maxRows rows: the tail is converted only once the end is known.
  const recent: DuckDBDataChunk[] = []
  let recentRows = 0
  let rowCount = 0
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    rowCount += chunk.rowCount
    for (let i = 0; i < chunk.rowCount && (all || head.length < half); i++) head.push(cells(chunk.getRowValues(i)))
    if (all) continue
    recent.push(chunk)
    recentRows += chunk.rowCount
    while (recent.length > 1 && recentRows - recent[0]!.rowCount >= maxRows) recentRows -= recent.shift()!.rowCount
  }
  if (all) return {head, tail: [], rowCount}
  const last: Array<Array<string | null>> = []
  for (const chunk of recent) for (let i = 0; i < chunk.rowCount; i++) last.push(cells(chunk.getRowValues(i)))
  // The rows after the head (all of them when the result fits), or the last maxRows / 2.
  const after = last.slice(Math.max(0, head.length - (rowCount - last.length)))
  if (rowCount <= maxRows) return {head: [...head, ...after], tail: [], rowCount}
  return {head, tail: last.slice(-Math.floor(maxRows / 2)), rowCount}
}

function cells(values: readonly DuckDBValue[]): Array<string | null> {
  return values.map(v => (v === null ? null : String(v)))
}

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/

/**
 * A value from DuckDB's JSON conversion, with integers and decimals as JSON numbers when that loses nothing, and a
 * MAP of text keys as an object, as DuckDB's own JSON writer does.
 */
function jsonValue(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null
  if (typeof value === 'string' && (INTEGER.test(type) || type.startsWith('DECIMAL'))) {
    const n = Number(value)
    if (INTEGER.test(type) ? Number.isSafeInteger(n) : String(n) === value.replace(/\.?0+$/, '') || Number.isFinite(n))
      return n
    return value
  }
  if (type.startsWith('MAP(VARCHAR') && Array.isArray(value)) {
    const valueType = /^MAP\(VARCHAR, (.*)\)$/.exec(type)?.[1] ?? ''
    return Object.fromEntries(
      (value as Array<{key: string; value: unknown}>).map(e => [e.key, jsonValue(e.value, valueType)]),
    )
  }
  if (typeof value === 'string' && /^(DOUBLE|FLOAT)$/.test(type) && /^-?(NaN|Infinity)$/.test(value)) return null
  return value
}

async function writeSmall(
  path: string,
  format: Exclude<FileFormat, 'parquet'>,
  columns: readonly Column[],
  rows: ReadonlyArray<Record<string, unknown>>,
): Promise<void> {
  const {writeFile} = await import('node:fs/promises')
  if (format === 'json') return writeFile(path, `${JSON.stringify(rows, null, 2)}\n`)
  if (format === 'jsonl') return writeFile(path, rows.map(r => `${JSON.stringify(r)}\n`).join(''))
  const {stringify} = await import('csv-stringify/sync')
  const text = (v: unknown) => (v === null || typeof v !== 'object' ? v : JSON.stringify(v))
  await writeFile(
    path,
    stringify(
      rows.map(r => columns.map(c => text(r[c.name]))),
      {header: true, columns: columns.map(c => c.name)},
    ),
  )
}

/** Writes through a temporary file beside `path`, then renames it into place: readers never see half a file. */
export async function writeAtomically<T>(path: string, write: (temp: string) => Promise<T>): Promise<T> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    const result = await write(temp)
    const fd = openSync(temp, 'r+')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, path)
    return result
  } finally {
    rmSync(temp, {force: true})
  }
}

const FUNCTION_NAME = /mlproj_predict_(proba_)?(varchar|bigint|double|map)/g

/** DuckDB's message without its LINE excerpt, our function names turned back into predict / predict_proba. */
function cleanMessage(message: string): string {
  return message
    .replace(/\n\nLINE \d+:[\s\S]*$/, '')
    .replace(/^Failed to extract statements: /, '')
    .replace(FUNCTION_NAME, (_, proba: string | undefined) => (proba ? 'predict_proba' : 'predict'))
    .trim()
}

/** The offset DuckDB's "LINE n: ...\n   ^" excerpt points at in `text`, if it has one. */
export function duckdbOffset(message: string, text: string): number | undefined {
  const match = /\n\nLINE (\d+): (.*)\n( *)\^\s*$/.exec(message)
  if (!match) return undefined
  const lineNumber = Number(match[1])
  const lines = text.split('\n')
  const line = lines[lineNumber - 1]
  if (line === undefined) return undefined
  let shown = match[2]!
  let lead = 0
  if (shown.startsWith('...')) {
    shown = shown.slice(3)
    lead = 3
  }
  if (shown.endsWith('...')) shown = shown.slice(0, -3)
  const caret = match[3]!.length - `LINE ${lineNumber}: `.length - lead
  const from = shown === '' ? 0 : line.indexOf(shown)
  if (from < 0) return undefined
  const before = lines.slice(0, lineNumber - 1).reduce((n, l) => n + l.length + 1, 0)
  return before + Math.min(line.length, from + Math.max(0, caret))
}

function sqlError(
  error: unknown,
  text: string,
  prefixLength: number,
  p: Prepared,
  tables: readonly string[] | undefined,
): Error {
  if (error instanceof MlprojError || !(error instanceof Error)) return error as Error
  const message = error.message
  const kind = /^([A-Za-z ]+?) Error:/.exec(message)?.[1] ?? ''
  if (kind === 'INTERNAL') return error
  const offset = duckdbOffset(message, text)
  const inStatement =
    offset === undefined ? undefined : Math.min(Math.max(offset - prefixLength, 0), p.rewritten.text.length)
  const original = inStatement === undefined ? undefined : p.rewritten.toOriginal(inStatement)
  // DuckDB's first line says what is wrong; the lines after it (candidate names, tips) read as a hint.
  const [first = '', ...more] = cleanMessage(message).split('\n')
  const clean = first
  const extra = more.join('\n').trim()
  const place = original === undefined ? '' : at(p.sql, original)
  const details: Record<string, unknown> = {duckdb: kind || undefined}
  if (original !== undefined) {
    const before = p.sql.slice(0, original)
    Object.assign(details, {
      offset: original,
      line: before.split('\n').length,
      column: original - before.lastIndexOf('\n'),
    })
  }
  if (kind === 'Out of Memory') {
    return new EnvironmentError('E_ENV_MEMORY', `${clean}${place}`, {
      hint: 'DuckDB ran out of memory: select fewer columns or rows, or aggregate before predicting',
      details,
      cause: error,
    })
  }
  if (kind === 'Interrupt') {
    return new EnvironmentError('E_ENV_INTERRUPTED', 'the query was interrupted', {details, cause: error})
  }
  const hint = [extra, sqlHint(clean, tables)].filter(Boolean).join('\n')
  return new DataError('E_DATA_SQL', `${clean}${place}`, {hint, details, cause: error})
}

function sqlHint(message: string, tables: readonly string[] | undefined): string {
  if (/Table with name .* does not exist|Table Function with name/i.test(message)) {
    const names = tables ? `tables: ${tables.join(', ')}; ` : ''
    return `${names}files are tables too: FROM 'data/file.csv' (or .parquet, a glob, read_csv(...)); mlproj tables list shows saved tables`
  }
  if (/No files found|Cannot open file|Permission denied/i.test(message)) {
    return `check the path (relative to ${process.cwd()}) and that you can read the file`
  }
  if (/function with name "?predict/i.test(message)) {
    return "call predict('MODEL', row) and predict_proba('MODEL', row) unquoted, with the model in single quotes"
  }
  return 'fix the SQL and run it again (DuckDB SQL: https://duckdb.org/docs/stable/sql/introduction)'
}

export type {LoadedModel}
