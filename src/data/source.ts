// Turns what the user typed for DATA (a path, a directory, a glob, or `-` for stdin) into a DuckDB table
// expression with a known format, dialect and column list. Every command reads its input through here.
import {createWriteStream} from 'node:fs'
import {mkdtemp, open, readdir, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {extname, join, resolve} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {DataError} from '../errors.js'
import {type CsvDialect, checkDuplicateNames, findCsvProblem, sniffCsvFile} from './csv.js'
import {duckdb, literal, literalList, pathLiteral} from './duckdb.js'

export type DataFormat = 'csv' | 'parquet' | 'jsonl'
export const DATA_FORMATS: readonly DataFormat[] = ['csv', 'parquet', 'jsonl']

export type ColumnKind = 'numeric' | 'categorical' | 'unsupported'

export interface SourceColumn {
  readonly name: string
  /** DuckDB's type name, e.g. DOUBLE, BIGINT, VARCHAR, BOOLEAN. */
  readonly type: string
  readonly kind: ColumnKind
  /** The type DuckDB's sniffer gave a CSV / JSON Lines column, when `type` differs (BIGINT read as DOUBLE). */
  readonly sniffedType?: string
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
  const format = options.format ?? sameFormat(spec, files)
  return openFiles(spec, files, format, async () => {})
}

export async function resolveFiles(spec: string): Promise<string[]> {
  const path = resolve(spec)
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error)
  if (info instanceof Error && info.code === 'ENOENT' && /[*?[]/.test(spec)) return globFiles(spec)
  if (info instanceof Error) {
    if (info.code === 'ENOENT') {
      throw new DataError('E_DATA_NOT_FOUND', `file not found: ${spec}`, {
        hint: `check the path; the current directory is ${process.cwd()}`,
        details: {file: spec},
      })
    }
    if (info.code === 'EACCES') {
      throw new DataError('E_DATA_UNREADABLE', `cannot read ${spec}: permission denied`, {
        hint: 'check the file permissions',
        details: {file: spec},
      })
    }
    throw info
  }
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

async function globFiles(spec: string): Promise<string[]> {
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

/** The format of every file, from the extensions; a glob or directory mixing formats is refused, not misread. */
export function sameFormat(spec: string, files: readonly string[]): DataFormat {
  const format = formatFromPath(files[0]!) ?? 'csv'
  const other = files.find(f => (formatFromPath(f) ?? 'csv') !== format)
  if (other) {
    throw new DataError(
      'E_DATA_MIXED_FORMATS',
      `${spec} mixes ${format} and ${formatFromPath(other) ?? 'csv'} files (${files[0]} and ${other})`,
      {
        hint: 'read one format at a time, e.g. "data/*.csv"',
        details: {file: spec, files: [files[0], other]},
      },
    )
  }
  return format
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

/** Tells Parquet (magic bytes) and JSON (a leading `{` or `[`) from CSV for data arriving on stdin. */
export async function sniffFormat(path: string): Promise<DataFormat> {
  const head = await readHead(path, 64)
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet'
  // trimStart also drops a UTF-8 byte order mark.
  const text = head.toString('utf8').trimStart()
  if (text.startsWith('{') || text.startsWith('[')) return 'jsonl'
  return 'csv'
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(bytes)
    const {bytesRead} = await handle.read(buffer, 0, bytes, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

export async function openFiles(
  spec: string,
  files: string[],
  format: DataFormat,
  release: () => Promise<void>,
  label = spec,
): Promise<DataSource> {
  const where = (file: string) => (label === 'stdin' ? 'stdin' : file)
  for (const file of files) {
    if (await isBlank(file)) {
      throw new DataError('E_DATA_EMPTY', `${where(file)} is empty`, {
        hint:
          format === 'csv'
            ? 'give a CSV file with a header line and at least one row'
            : `give a ${format === 'jsonl' ? 'JSON Lines' : 'Parquet'} file with at least one row`,
        details: {file: where(file)},
      })
    }
  }
  const dialect = format === 'csv' ? await sniffCsvFiles(files, where) : undefined
  const con = await duckdb()
  let columns: SourceColumn[]
  try {
    const reader = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${tableExpression(files, format, dialect)}`)
    columns = reader.getRowsJS().map(r => {
      // Whole numbers are read as DOUBLE: DuckDB types a column from a sample of rows and would round a later
      // 1.5 to 2 in a BIGINT column. Parquet stores its types, so there is nothing to guess.
      const sniffed = String(r[1])
      const type = format !== 'parquet' && INTEGER_TYPES.test(sniffed) ? 'DOUBLE' : sniffed
      return {name: String(r[0]), type, kind: columnKind(type), ...(type === sniffed ? {} : {sniffedType: sniffed})}
    })
  } catch (error) {
    throw await readError(error, {spec: label, files, format, dialect})
  }
  if (format === 'jsonl') await checkJsonKeys(files, where)
  if (format === 'parquet') await checkParquetNames(files, where)
  const relation = tableExpression(files, format, dialect, format === 'parquet' ? undefined : columnTypes(columns))
  return {spec: label, files, format, dialect, columns, relation, release}
}

/** Empty, or whitespace only. Files past 64 KiB are not read here: the readers will say what is wrong. */
async function isBlank(file: string): Promise<boolean> {
  const {size} = await stat(file)
  return size === 0 || (size <= 64 * 1024 && (await readHead(file, size)).toString().trim() === '')
}

const INTEGER_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/

function columnTypes(columns: readonly SourceColumn[]): Record<string, string> {
  return Object.fromEntries(columns.map(c => [c.name, c.type]))
}

/**
 * Sniffs every CSV file: several files are read as one table only when they share the first one's delimiter
 * and header, since DuckDB would otherwise drop or misalign columns without a word.
 */
async function sniffCsvFiles(files: readonly string[], where: (file: string) => string): Promise<CsvDialect> {
  const dialect = await sniffCsvFile(files[0]!, where(files[0]!))
  for (const file of files.slice(1)) {
    const other = await sniffCsvFile(file, where(file))
    const difference =
      other.delimiter !== dialect.delimiter
        ? `is separated by ${JSON.stringify(other.delimiter)} where ${files[0]} uses ${JSON.stringify(dialect.delimiter)}`
        : other.names.join('\u0000') !== dialect.names.join('\u0000')
          ? `has columns ${other.names.join(', ')} where ${files[0]} has ${dialect.names.join(', ')}`
          : undefined
    if (difference) {
      throw new DataError('E_DATA_SCHEMA_MISMATCH', `${file} ${difference}`, {
        hint: 'files read together must share one header line and delimiter: fix that file or read it on its own',
        details: {file, first: files[0]},
      })
    }
  }
  return dialect
}

/** DuckDB renames repeated JSON keys (`a`, `A` → `a_1`) or fails late; the keys of the first objects are checked here. */
async function checkJsonKeys(files: readonly string[], where: (file: string) => string): Promise<void> {
  const con = await duckdb()
  for (const file of files) {
    const reader = await con
      .runAndReadAll(`SELECT json_keys(json) FROM read_json_objects(${pathLiteral(file)}, format = 'auto') LIMIT 1000`)
      .catch(() => undefined)
    const names: string[] = []
    const seen = new Set<string>()
    for (const [keys] of reader?.getRowsJS() ?? []) {
      const own = new Set<string>()
      for (const key of Array.isArray(keys) ? keys.map(String) : []) {
        if (own.has(key)) names.push(key)
        own.add(key)
        if (!seen.has(key)) names.push(key)
        seen.add(key)
      }
    }
    checkDuplicateNames(names, where(file))
  }
}

/** DESCRIBE shows Parquet columns after DuckDB renamed duplicates, so the names are read from the file schema. */
async function checkParquetNames(files: readonly string[], where: (file: string) => string): Promise<void> {
  const con = await duckdb()
  for (const file of files) {
    const reader = await con.runAndReadAll(`SELECT name, num_children FROM parquet_schema(${pathLiteral(file)})`)
    const rows = reader.getRowsJS()
    const names: string[] = []
    // Rows are the schema tree depth first; the first is the root, whose children are the columns.
    const skip = (i: number): number => {
      let next = i + 1
      for (let k = 0; k < Number(rows[i]?.[1] ?? 0); k++) next = skip(next)
      return next
    }
    for (let i = 1; i < rows.length; i = skip(i)) names.push(String(rows[i]![0]))
    checkDuplicateNames(names, where(file))
  }
}

/** The rows the Parquet files hold, from their metadata (no data is read). */
export async function parquetRowCount(files: readonly string[]): Promise<number> {
  const con = await duckdb()
  const reader = await con.runAndReadAll(
    `SELECT sum(num_rows) FROM parquet_file_metadata([${files.map(pathLiteral).join(', ')}])`,
  )
  return Number(reader.getRowsJS()[0]?.[0] ?? Number.NaN)
}

export interface ReadOptions {
  /** CSV: the bytes DuckDB reads at a time per thread (its default, 32 MiB, suits throughput over memory). */
  readonly bufferBytes?: number
}

/**
 * The DuckDB table expression reading `files`. `types` fixes column types by name (for JSON it must name every
 * column); without it DuckDB detects them.
 */
export function tableExpression(
  files: readonly string[],
  format: DataFormat,
  dialect?: CsvDialect,
  types?: Readonly<Record<string, string>>,
  options: ReadOptions = {},
): string {
  const list = `[${files.map(pathLiteral).join(', ')}]`
  if (format === 'parquet') return `read_parquet(${list})`
  const typeStruct = types
    ? `{${Object.entries(types)
        .map(([name, type]) => `${literal(name)}: ${literal(type)}`)
        .join(', ')}}`
    : undefined
  if (format === 'jsonl') return `read_json(${list}, format = 'auto'${typeStruct ? `, columns = ${typeStruct}` : ''})`
  const d = dialect!
  const names = d.header ? '' : `, names = ${literalList(d.names)}`
  // Everything DuckDB would otherwise guess is pinned: with skip and comment left to its sniffer, a wide last
  // row became the header (every row before it dropped) and a last row starting with # vanished as a comment.
  // No BOOLEAN among the type candidates: yes/no and T/F would come back as true/false, not as written. BIGINT
  // stays one because its detection accepts " 2" where DOUBLE's does not; openFiles then reads it as DOUBLE.
  return (
    `read_csv(${list}, delim = ${literal(d.delimiter)}, quote = '"', escape = '"', header = ${d.header}` +
    `, skip = 0, comment = '', strict_mode = true, nullstr = ${literalList(NULL_STRINGS)}${names}` +
    `, auto_type_candidates = ['BIGINT', 'DOUBLE', 'TIME', 'DATE', 'TIMESTAMP', 'VARCHAR']` +
    `${typeStruct ? `, types = ${typeStruct}` : ''}${options.bufferBytes ? `, buffer_size = ${options.bufferBytes}` : ''})`
  )
}

/** `source` read with some columns' types replaced (e.g. as VARCHAR, to see the text a value was written as). */
export function retypedExpression(
  source: DataSource,
  types: Readonly<Record<string, string>>,
  files: readonly string[] = source.files,
  options: ReadOptions = {},
): string {
  if (source.format === 'parquet') return tableExpression(files, 'parquet')
  return tableExpression(files, source.format, source.dialect, {...columnTypes(source.columns), ...types}, options)
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
  const line = /line:?\s+(\d+)/i.exec(message)?.[1]
  return new DataError('E_DATA_UNREADABLE', `cannot read ${source.spec} as ${source.format}: ${firstLine}`, {
    hint:
      source.format === 'csv'
        ? 'check that the file is CSV with a header line; for Parquet or JSON Lines use a .parquet or .jsonl name'
        : `check that the file really is ${source.format === 'jsonl' ? 'JSON Lines' : 'Parquet'}`,
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
