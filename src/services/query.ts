// `mlproj query`: run SQL (an argument, a file or stdin) over files, workspace tables, saved tables and models, and
// show the last statement's result, write it (csv, json, jsonl, parquet; a file or stdout), return it, or save it.
import {constants, createReadStream} from 'node:fs'
import {access, readFile, rm, stat} from 'node:fs/promises'
import {homedir, tmpdir} from 'node:os'
import {dirname, extname, join, resolve} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {DataError, EnvironmentError, UsageError} from '../errors.js'
import {
  type Column,
  type FileFormat,
  type Prepared,
  type Preview,
  QuerySession,
  writeAtomically,
} from '../query/engine.js'
import {runRepl} from '../query/repl.js'
import {type Statement, splitStatements} from '../query/sql.js'
import type {LocateOptions} from '../workspace/workspace.js'

export type OutputFormat = 'table' | FileFormat
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'csv', 'json', 'jsonl', 'parquet']

export interface QueryOptions {
  readonly workspace: LocateOptions
  /** The SQL; else `file`; else read from `stdin`. */
  readonly sql?: string
  /** A file holding the SQL, or - for stdin. */
  readonly file?: string
  readonly stdin?: NodeJS.ReadableStream
  readonly format?: OutputFormat
  /** A file to write the result to, or - for stdout. */
  readonly output?: string
  readonly saveAs?: string
  readonly replace?: boolean
  /** Rows a table shows before cutting the middle out; 0 shows all. */
  readonly maxRows?: number
  /** The caller wants the rows in the result (--json). */
  readonly json?: boolean
  /** Where `--output -` and a data --format without --output write. */
  readonly stdout?: NodeJS.WritableStream
  readonly stdoutIsTTY?: boolean
  readonly onProgress?: (message: string) => void
}

export interface QueryResult {
  /** Statements run; the result is the last one's. */
  readonly statements: number
  readonly columns: readonly Column[]
  readonly rowCount: number
  /** Every row (--json without --output). */
  readonly rows?: ReadonlyArray<Record<string, unknown>>
  /** For a terminal: the first and last rows. */
  readonly preview?: Preview
  readonly output?: {readonly path: string; readonly format: FileFormat; readonly rows: number}
  readonly savedAs?: {
    readonly name: string
    readonly path: string
    readonly rows: number
    readonly replaced: boolean
  }
  /** The models the statements used, as resolved when they ran. */
  readonly models: ReadonlyArray<{readonly ref: string; readonly model: string; readonly runId: string | null}>
  readonly elapsedMs: number
}

type Destination =
  | {kind: 'preview'}
  | {kind: 'rows'}
  | {kind: 'file'; path: string; format: FileFormat}
  | {kind: 'stdout'; format: FileFormat}

export async function query(options: QueryOptions): Promise<QueryResult> {
  const started = Date.now()
  const progress = options.onProgress ?? (() => {})
  const destination = chooseDestination(options)
  const sql = await readSql(options)
  const statements = splitStatements(sql)
  if (statements.length === 0) {
    throw new UsageError('E_USAGE_NO_SQL', 'no SQL statement to run', {
      hint: `pass one: mlproj query "SELECT * FROM 'data/penguins.csv' LIMIT 5"`,
    })
  }
  if (destination.kind === 'file') await checkOutputFolder(destination.path)
  const session = await QuerySession.open({workspace: options.workspace, write: options.saveAs !== undefined})
  try {
    if (options.saveAs !== undefined) session.checkCanSave(options.saveAs, options.replace ?? false)
    const models = new Map<string, {ref: string; model: string; runId: string | null}>()
    const prepare = async (statement: Statement, text: string) => {
      const prepared = await session.prepare(statement, text)
      for (const m of prepared.rewritten.models)
        models.set(m.ref, {ref: m.ref, model: m.label, runId: m.resolved.runId})
      return prepared
    }
    for (const statement of statements.slice(0, -1)) await session.execute(await prepare(statement, sql))
    let last: Prepared = await prepare(statements.at(-1)!, sql)
    let savedAs: QueryResult['savedAs']
    if (options.saveAs !== undefined) {
      const saved = await session.saveAs(last, options.saveAs, options.replace ?? false)
      savedAs = {name: saved.name, path: saved.path, rows: saved.rows, replaced: saved.replaced}
      progress(
        `${saved.replaced ? 'replaced' : 'saved'} table ${saved.name}: ${saved.rows} row${saved.rows === 1 ? '' : 's'} (${saved.path})`,
      )
      // What was saved is what is shown: read back, not computed again.
      const text = `SELECT * FROM ${saved.name}`
      last = await session.prepare({text, start: 0}, text)
    }
    const base = {statements: statements.length, savedAs, models: [...models.values()]}
    const elapsed = () => Date.now() - started
    switch (destination.kind) {
      case 'preview': {
        const preview = await session.preview(last, options.maxRows ?? 40)
        return {...base, columns: preview.columns, rowCount: preview.rowCount, preview, elapsedMs: elapsed()}
      }
      case 'rows': {
        const {columns, rows} = await session.rows(last)
        return {...base, columns, rowCount: rows.length, rows, elapsedMs: elapsed()}
      }
      case 'file': {
        const {path, format} = destination
        const {rows, columns} = await writeAtomically(path, temp => session.copy(last, temp, format))
        progress(`wrote ${rows} row${rows === 1 ? '' : 's'} to ${path} (${format})`)
        return {...base, columns, rowCount: rows, output: {path, format, rows}, elapsedMs: elapsed()}
      }
      case 'stdout': {
        const temp = join(tmpdir(), `mlproj-query-${process.pid}-${Date.now()}.${destination.format}`)
        try {
          const {rows, columns} = await session.copy(last, temp, destination.format)
          await pipeline(createReadStream(temp), options.stdout ?? process.stdout, {end: false})
          return {
            ...base,
            columns,
            rowCount: rows,
            output: {path: '-', format: destination.format, rows},
            elapsedMs: elapsed(),
          }
        } finally {
          await rm(temp, {force: true})
        }
      }
    }
  } finally {
    session.close()
  }
}

/** Where the result goes, from --format, --output and --json; contradictions are usage errors. */
function chooseDestination(options: QueryOptions): Destination {
  const {format, output, json} = options
  if (output === undefined) {
    if (json) {
      if (format && format !== 'table') {
        throw new UsageError(
          'E_USAGE_FORMAT',
          `--json puts the rows in its document: --format ${format} needs --output FILE`,
          {
            hint: 'drop --format, or add --output FILE',
          },
        )
      }
      return {kind: 'rows'}
    }
    if (!format || format === 'table') return {kind: 'preview'}
    return stdoutFormat(format, options)
  }
  if (output === '-') {
    if (json) {
      throw new UsageError('E_USAGE_FORMAT', '--json and --output - both want stdout', {
        hint: 'write the data to a file with --output FILE, or drop --json',
      })
    }
    if (format === 'table') return {kind: 'preview'}
    return stdoutFormat(format ?? 'csv', options)
  }
  const fromName = formatOfPath(output)
  const chosen = format ?? fromName
  if (!chosen) {
    throw new UsageError('E_USAGE_FORMAT', `cannot tell the format of ${output} from its name`, {
      hint: 'name it .csv, .json, .jsonl or .parquet, or pass --format',
    })
  }
  if (chosen === 'table') {
    throw new UsageError('E_USAGE_FORMAT', '--format table is for terminals, not files', {
      hint: 'write csv, json, jsonl or parquet to a file',
    })
  }
  return {kind: 'file', path: resolve(output), format: chosen}
}

function stdoutFormat(format: FileFormat, options: QueryOptions): Destination {
  if (format === 'parquet' && options.stdoutIsTTY) {
    throw new UsageError('E_USAGE_FORMAT', 'Parquet is binary: it is not written to a terminal', {
      hint: 'add --output FILE.parquet, or pipe stdout into a file',
    })
  }
  return {kind: 'stdout', format}
}

function formatOfPath(path: string): FileFormat | undefined {
  const ext = extname(path).toLowerCase()
  if (ext === '.csv' || ext === '.tsv') return 'csv'
  if (ext === '.json') return 'json'
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl'
  if (ext === '.parquet' || ext === '.pq') return 'parquet'
  return undefined
}

async function readSql(options: QueryOptions): Promise<string> {
  if (options.sql !== undefined && options.file !== undefined) {
    throw new UsageError('E_USAGE_SQL', 'give the SQL either as an argument or with --file, not both')
  }
  if (options.sql !== undefined) return options.sql
  if (options.file !== undefined && options.file !== '-') {
    try {
      return await readFile(options.file, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') {
        throw new DataError('E_DATA_NOT_FOUND', `file not found: ${options.file}`, {
          hint: `check the path; the current directory is ${process.cwd()}`,
          details: {file: options.file},
        })
      }
      if (code === 'EACCES') {
        throw new DataError('E_DATA_UNREADABLE', `cannot read ${options.file}: permission denied`, {
          hint: 'check the file permissions',
          details: {file: options.file},
        })
      }
      throw error
    }
  }
  const chunks: Buffer[] = []
  for await (const chunk of options.stdin ?? process.stdin) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/** Checks that the --output folder exists before a long query runs. */
async function checkOutputFolder(output: string): Promise<void> {
  const folder = dirname(resolve(output))
  const info = await stat(folder).catch(() => undefined)
  if (!info?.isDirectory()) {
    throw new UsageError('E_USAGE_OUTPUT', `cannot write ${output}: folder ${folder} does not exist`, {
      hint: 'create the folder first, or choose another --output',
    })
  }
  try {
    await access(folder, constants.W_OK)
  } catch (error) {
    throw new EnvironmentError('E_ENV_OUTPUT_UNWRITABLE', `cannot write ${output}: folder ${folder} is not writable`, {
      hint: 'fix the folder permissions, or choose another --output',
      cause: error,
    })
  }
}

export interface ReplServiceOptions {
  readonly workspace: LocateOptions
  readonly input: NodeJS.ReadableStream
  readonly output: NodeJS.WritableStream
  readonly terminal: boolean
  readonly maxRows?: number
  /** Where history is kept; default ~/.mlproj_query_history. */
  readonly historyFile?: string | null
  readonly width?: () => number | undefined
}

/** The interactive shell: runs until .quit or end of input. */
export async function repl(options: ReplServiceOptions): Promise<{statements: number}> {
  const session = await QuerySession.open({workspace: options.workspace})
  try {
    return await runRepl({
      session,
      input: options.input,
      output: options.output,
      terminal: options.terminal,
      historyFile:
        options.historyFile === null ? undefined : (options.historyFile ?? join(homedir(), '.mlproj_query_history')),
      maxRows: options.maxRows ?? 40,
      width: options.width,
    })
  } finally {
    session.close()
  }
}
