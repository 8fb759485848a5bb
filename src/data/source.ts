// Turns what the user typed for DATA (a path, a directory, a glob, or `-` for stdin) into a DuckDB table
// expression with a known format, dialect and column list. Every command reads its input through here.
import {createWriteStream} from 'node:fs'
import {mkdtemp, open, readdir, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {extname, join, resolve} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {DataError} from '../errors.js'
import {type CsvDialect, checkDuplicateNames, findCsvProblem, sniffCsvFile} from './csv.js'
import {duckdb, literal, literalList} from './duckdb.js'

export type DataFormat = 'csv' | 'parquet' | 'jsonl'
export const DATA_FORMATS: readonly DataFormat[] = ['csv', 'parquet', 'jsonl']

export type ColumnKind = 'numeric' | 'categorical' | 'unsupported'

export interface SourceColumn {
  readonly name: string
  /** DuckDB's type name, e.g. DOUBLE, BIGINT, VARCHAR, BOOLEAN. */
  readonly type: string
  readonly kind: ColumnKind
}

export interface DataSource {
  /** What the user gave, for messages and run records. */
  readonly spec: string
  /** Absolute paths of the files read (a temporary file for stdin). */
  readonly files: readonly string[]
  readonly format: DataFormat
  readonly dialect?: CsvDialect
  readonly columns: readonly SourceColumn[]
  /** A DuckDB table expression reading the files. */
  readonly relation: string
  /** Removes temporary files (stdin). Safe to call twice. */
  release(): Promise<void>
}

/** Missing-value spellings, as the issue and most CSV exporters write them. */
export const NULL_STRINGS = ['', 'NA', 'N/A', 'null', 'NULL', 'NaN', 'nan']

const NUMERIC_TYPES =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/
const CATEGORICAL_TYPES = /^(VARCHAR|BOOLEAN|UUID|ENUM.*)$/

export function columnKind(duckdbType: string): ColumnKind {
  if (NUMERIC_TYPES.test(duckdbType)) return 'numeric'
  if (CATEGORICAL_TYPES.test(duckdbType)) return 'categorical'
  return 'unsupported'
}

export function formatFromPath(path: string): DataFormat | undefined {
  const ext = extname(path.replace(/\.(gz|zst)$/i, '')).toLowerCase()
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv'
  if (ext === '.parquet' || ext === '.pq') return 'parquet'
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl'
  return undefined
}

export interface OpenOptions {
  /** Overrides detection from the file extension. */
  format?: DataFormat
  /** Where stdin comes from when spec is `-` (tests pass a stream). */
  stdin?: NodeJS.ReadableStream
}

/** Resolves DATA and reads its schema; throws DataError with the path and a next step for anything unusable. */
export async function openSource(spec: string, options: OpenOptions = {}): Promise<DataSource> {
  if (spec === '-') return openStdin(options)
  const files = await resolveFiles(spec)
  const format = options.format ?? formatFromPath(files[0]!) ?? 'csv'
  return openFiles(spec, files, format, async () => {})
}

async function resolveFiles(spec: string): Promise<string[]> {
  if (/[*?[]/.test(spec)) {
    const con = await duckdb()
    const reader = await con.runAndReadAll(`SELECT file FROM glob(${literal(spec)}) ORDER BY file`)
    const files = reader.getRowsJS().map(r => resolve(String(r[0])))
    if (files.length === 0) {
      throw new DataError('E_DATA_NOT_FOUND', `no file matches ${spec}`, {
        hint: 'check the pattern (quote it so the shell does not expand it) and the current directory',
        details: {file: spec},
      })
    }
    return files
  }
  const path = resolve(spec)
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new DataError('E_DATA_NOT_FOUND', `file not found: ${spec}`, {
        hint: `check the path; the current directory is ${process.cwd()}`,
        details: {file: spec},
      })
    }
    if (error.code === 'EACCES') {
      throw new DataError('E_DATA_UNREADABLE', `cannot read ${spec}: permission denied`, {
        hint: 'check the file permissions',
        details: {file: spec},
      })
    }
    throw error
  })
  if (info.isDirectory()) {
    const entries = (await readdir(path)).filter(n => !n.startsWith('.') && formatFromPath(n)).sort()
    if (entries.length === 0) {
      throw new DataError('E_DATA_NOT_FOUND', `directory ${spec} holds no .csv, .parquet or .jsonl file`, {
        hint: 'point at a data file, a glob such as "data/*.csv", or a directory of data files',
        details: {file: spec},
      })
    }
    return entries.map(n => join(path, n))
  }
  return [path]
}

async function openStdin(options: OpenOptions): Promise<DataSource> {
  const dir = await mkdtemp(join(tmpdir(), 'mlproj-stdin-'))
  const release = () => rm(dir, {recursive: true, force: true})
  try {
    const path = join(dir, 'stdin')
    await pipeline(options.stdin ?? process.stdin, createWriteStream(path))
    const format = options.format ?? (await sniffFormat(path))
    return await openFiles('-', [path], format, release, 'stdin')
  } catch (error) {
    await release()
    throw error
  }
}

/** Tells Parquet (magic bytes) and JSON Lines (a leading `{`) from CSV for data arriving on stdin. */
async function sniffFormat(path: string): Promise<DataFormat> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(64)
    const {bytesRead} = await handle.read(buffer, 0, 64, 0)
    const head = buffer.subarray(0, bytesRead)
    if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet'
    if (head.toString('utf8').trimStart().startsWith('{')) return 'jsonl'
    return 'csv'
  } finally {
    await handle.close()
  }
}

async function openFiles(
  spec: string,
  files: string[],
  format: DataFormat,
  release: () => Promise<void>,
  label = spec,
): Promise<DataSource> {
  for (const file of files) {
    const info = await stat(file)
    if (info.size === 0) {
      throw new DataError('E_DATA_EMPTY', `${label === 'stdin' ? 'stdin' : file} is empty`, {
        hint: 'give a file with a header line and at least one row',
        details: {file: label === 'stdin' ? 'stdin' : file},
      })
    }
  }
  const dialect = format === 'csv' ? await sniffCsvFile(files[0]!) : undefined
  const relation = tableExpression(files, format, dialect)
  const con = await duckdb()
  let columns: SourceColumn[]
  try {
    const reader = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)
    columns = reader.getRowsJS().map(r => {
      const type = String(r[1])
      return {name: String(r[0]), type, kind: columnKind(type)}
    })
  } catch (error) {
    throw await readError(error, {spec: label, files, format, dialect})
  }
  if (format !== 'csv')
    checkDuplicateNames(
      columns.map(c => c.name),
      label,
    )
  return {spec: label, files, format, dialect, columns, relation, release}
}

export function tableExpression(files: readonly string[], format: DataFormat, dialect?: CsvDialect): string {
  const list = literalList(files)
  if (format === 'parquet') return `read_parquet(${list})`
  if (format === 'jsonl') return `read_json(${list}, format = 'newline_delimited')`
  const d = dialect!
  const names = d.header ? '' : `, names = ${literalList(d.names)}`
  return (
    `read_csv(${list}, delim = ${literal(d.delimiter)}, quote = '"', escape = '"', header = ${d.header}` +
    `, strict_mode = true, nullstr = ${literalList(NULL_STRINGS)}${names})`
  )
}

/**
 * Turns a DuckDB read failure into a DataError that names the file and line. DuckDB's own message is long
 * and generic for structural problems, so for CSV the file is re-scanned to find the offending line.
 */
export async function readError(
  error: unknown,
  source: {spec: string; files: readonly string[]; format: DataFormat; dialect?: CsvDialect},
): Promise<DataError> {
  const message = error instanceof Error ? error.message : String(error)
  if (source.format === 'csv' && source.dialect) {
    for (const file of source.files) {
      const problem = await findCsvProblem(file, source.dialect)
      if (problem) {
        const where = source.spec === 'stdin' ? 'stdin' : file
        return new DataError('E_DATA_MALFORMED', `${where}: line ${problem.line} ${problem.message}`, {
          hint: 'fix that line (quote fields that contain the delimiter, close every quote), then run the command again',
          details: {file: where, line: problem.line},
          cause: error,
        })
      }
    }
  }
  const firstLine = message.split('\n').find(l => l.trim() !== '') ?? message
  const line = /line[: ]+(\d+)/i.exec(message)?.[1]
  return new DataError('E_DATA_UNREADABLE', `cannot read ${source.spec} as ${source.format}: ${firstLine}`, {
    hint:
      source.format === 'csv'
        ? 'check that the file is CSV with a header line; for Parquet or JSON Lines use a .parquet or .jsonl name'
        : `check that the file really is ${source.format}`,
    details: {file: source.spec, ...(line ? {line: Number(line)} : {})},
    cause: error,
  })
}

/** Every column of `source` except the ones named, checking that each named one exists. */
export function requireColumns(source: DataSource, names: readonly string[], what: string): void {
  const have = new Set(source.columns.map(c => c.name))
  const missing = names.filter(n => !have.has(n))
  if (missing.length > 0) {
    throw new DataError(
      'E_DATA_MISSING_COLUMN',
      `${what} ${missing.map(n => `"${n}"`).join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in ${source.spec}`,
      {
        hint: `columns are: ${source.columns.map(c => c.name).join(', ')}`,
        details: {file: source.spec, missing, columns: source.columns.map(c => c.name)},
      },
    )
  }
}
