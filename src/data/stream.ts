// Reading the inputs of a batch job: --input resolved to files (or stdin), each fingerprinted (size, modification
// time, sha256) for the job record and --incremental; the SQL that streams them with every value as written plus
// the checks that find rows a model cannot score; and those rows, by file and line, for messages and rejects files.
import {createHash} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import {mkdtemp, open, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {pipeline} from 'node:stream/promises'
import type {DuckDBConnection} from '@duckdb/node-api'
import {loadDuckDB} from '../cjs.js'
import {DataError, type MlprojError} from '../errors.js'
import type {CsvDialect} from './csv.js'
import {duckdb, ident, literal, literalList} from './duckdb.js'
import {
  type DataFormat,
  type DataSource,
  openFiles,
  parquetRowCount,
  resolveFiles,
  type SourceColumn,
  sameFormat,
  sniffFormat,
  tableExpression,
} from './source.js'

export interface BatchInputFile {
  /** Absolute path (for stdin, a temporary copy). */
  readonly path: string
  /** What records and messages call it: the path, or "stdin". */
  readonly label: string
  readonly size: number
  /** Modification time in nanoseconds since the epoch, as text ('' for stdin). */
  readonly mtime: string
  readonly sha256: string
  /** Empty or only whitespace: holds no rows and no header. */
  readonly blank: boolean
}

export interface BatchInputs {
  readonly spec: string
  readonly format: DataFormat
  readonly files: readonly BatchInputFile[]
  /** Why there are no files, when there are none ("no file matches incoming/*.csv"). */
  readonly none?: string
  /** Removes the temporary copy of stdin. Safe to call twice. */
  release(): Promise<void>
}

export interface ResolveInputOptions {
  readonly format?: DataFormat
  readonly stdin?: NodeJS.ReadableStream
  /** A glob matching nothing or a folder without data files is "no inputs", not an error (--incremental). */
  readonly allowNone?: boolean
}

const GLOB = /[*?[]/

/** Resolves --input and fingerprints every file, streaming each once for its sha256. */
export async function resolveBatchInputs(spec: string, options: ResolveInputOptions = {}): Promise<BatchInputs> {
  if (spec === '-') return stdinInput(options)
  let paths: string[]
  try {
    paths = await resolveFiles(spec)
  } catch (error) {
    const empty =
      options.allowNone &&
      (error as MlprojError).code === 'E_DATA_NOT_FOUND' &&
      (GLOB.test(spec) || (await stat(resolve(spec)).catch(() => undefined))?.isDirectory())
    if (!empty) throw error
    return {spec, format: options.format ?? 'csv', files: [], none: (error as Error).message, release: async () => {}}
  }
  const format = options.format ?? sameFormat(spec, paths)
  const files: BatchInputFile[] = []
  for (const path of paths) files.push(await describeFile(path, path))
  return {spec, format, files, release: async () => {}}
}

async function stdinInput(options: ResolveInputOptions): Promise<BatchInputs> {
  const dir = await mkdtemp(join(tmpdir(), 'mlproj-stdin-'))
  const release = () => rm(dir, {recursive: true, force: true})
  try {
    const path = join(dir, 'stdin')
    await pipeline(options.stdin ?? process.stdin, createWriteStream(path))
    const file = {...(await describeFile(path, 'stdin')), mtime: ''}
    const format = options.format ?? (file.blank ? 'csv' : await sniffFormat(path))
    return {spec: '-', format, files: [file], release}
  } catch (error) {
    await release()
    throw error
  }
}

async function describeFile(path: string, label: string): Promise<BatchInputFile> {
  const info = await stat(path, {bigint: true})
  const hash = createHash('sha256')
  let blank = true
  for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20})) {
    const bytes = chunk as Buffer
    hash.update(bytes)
    if (blank && bytes.toString('utf8').trim() !== '') blank = false
  }
  return {
    path,
    label,
    size: Number(info.size),
    mtime: info.mtimeNs.toString(),
    sha256: hash.digest('hex'),
    blank,
  }
}

/** Opens the non-blank files as one source (same columns and dialect); undefined when every file is blank. */
export async function openBatchSource(
  inputs: BatchInputs,
  files: readonly BatchInputFile[],
): Promise<DataSource | undefined> {
  const withRows = files.filter(f => !f.blank)
  if (withRows.length === 0) return undefined
  const stdin = inputs.spec === '-'
  return openFiles(
    stdin ? '-' : inputs.spec,
    withRows.map(f => f.path),
    inputs.format,
    async () => {},
    stdin ? 'stdin' : undefined,
  )
}

/** What the output holds: the input columns kept, the model's inputs, and the output format's needs. */
export interface ScanOptions {
  /** The input columns to carry into the output, in order. */
  readonly keep: readonly string[]
  /** The model's input columns. */
  readonly inputs: ReadonlyArray<{readonly name: string; readonly type: 'numeric' | 'categorical'}>
  /** CSV output carries values as written; Parquet and JSON Lines carry typed values. */
  readonly typedOutput: boolean
}

/** A rule a row must pass to be scored and written. */
export interface RowCheck {
  readonly column: string
  /** SQL, true when the row breaks the rule. */
  readonly bad: string
  /** SQL, the offending value as text. */
  readonly value: string
  readonly reason: string
}

export interface ScanPlan {
  /** The files read, in order (the file index counts in this order). */
  readonly files: readonly string[]
  /** A table expression reading every file, with an extra column holding the file's name. */
  readonly relation: string
  /** SQL for the file a row comes from, 0-based, over `relation`. */
  readonly fileIndex: string
  /** The kept input columns: output name and SQL. */
  readonly output: ReadonlyArray<{readonly name: string; readonly sql: string}>
  /** SQL per model input (DOUBLE for numeric, VARCHAR for categorical). */
  readonly modelArgs: Readonly<Record<string, string>>
  readonly checks: readonly RowCheck[]
  /** Reads one file the same way (for finding bad rows by file). */
  fileRelation(file: string): string
}

const FILE_COLUMN = '__mlproj_file'
const TEXT_FORMATS: readonly DataFormat[] = ['csv', 'jsonl']
const SCALAR_TYPES =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*|BOOLEAN|DATE|TIME|TIMESTAMP|TIMESTAMP WITH TIME ZONE|UUID)$/
const NUMERIC_TYPES =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*)$/

/**
 * How to read the source for a batch job. CSV and JSON Lines are read as text: values are written back exactly
 * as they were (CSV output) or cast to their column's type (Parquet, JSON Lines output), and a value that cannot
 * be read is caught per row instead of failing the whole read. Parquet keeps its own types.
 */
export function scanPlan(source: DataSource, options: ScanOptions): ScanPlan {
  const text = TEXT_FORMATS.includes(source.format)
  const types = text ? Object.fromEntries(source.columns.map(c => [c.name, 'VARCHAR'])) : undefined
  const read = (files: readonly string[]) => tableExpression(files, source.format, source.dialect, types)
  const byName = new Map(source.columns.map(c => [c.name, c]))
  const checks: RowCheck[] = []
  const checked = new Set<string>()
  const modelArgs: Record<string, string> = {}
  for (const input of options.inputs) {
    const column = byName.get(input.name)!
    const q = ident(input.name)
    if (input.type === 'categorical') {
      modelArgs[input.name] = text || column.type === 'VARCHAR' ? q : `CAST(${q} AS VARCHAR)`
    } else if (!text && NUMERIC_TYPES.test(column.type)) {
      modelArgs[input.name] = `CAST(${q} AS DOUBLE)`
    } else {
      modelArgs[input.name] = `TRY_CAST(${q} AS DOUBLE)`
      checks.push(castCheck(input.name, 'DOUBLE', 'is not a number'))
      checked.add(input.name)
    }
  }
  const output = options.keep.map(name => {
    const column = byName.get(name)!
    const q = ident(name)
    // Typed output keeps whole-number columns whole (an id of 2^53 + 1 stays exact), as DuckDB's sniffer typed them.
    const type = column.sniffedType ?? column.type
    if (!text || !options.typedOutput || type === 'VARCHAR') return {name, sql: q}
    if (!SCALAR_TYPES.test(type)) return {name, sql: q}
    if (!checked.has(name) || type !== 'DOUBLE') {
      checks.push(castCheck(name, type, `is not a ${type} like the rest of the column`))
    }
    return {name, sql: `TRY_CAST(${q} AS ${type})`}
  })
  const files = source.files
  return {
    files,
    relation: withFileColumn(read(files)),
    fileIndex: files.length === 1 ? '0' : `(list_position(${literalList(files)}, ${FILE_COLUMN}) - 1)`,
    output,
    modelArgs,
    checks,
    fileRelation: file => read([file]),
  }
}

function castCheck(name: string, type: string, reason: string): RowCheck {
  const q = ident(name)
  return {
    column: name,
    bad: `(${q} IS NOT NULL AND TRY_CAST(${q} AS ${type}) IS NULL)`,
    value: `CAST(${q} AS VARCHAR)`,
    reason,
  }
}

/** Adds DuckDB's file-name column to a read_csv / read_json / read_parquet call, under a name no data uses. */
function withFileColumn(expression: string): string {
  if (!expression.endsWith(')')) throw new Error(`not a table function call: ${expression}`)
  return `${expression.slice(0, -1)}, filename = ${literal(FILE_COLUMN)})`
}

/** SQL that is true when any check fails. */
export function anyBad(checks: readonly RowCheck[]): string {
  return checks.length === 0 ? 'false' : checks.map(c => c.bad).join(' OR ')
}

/** A row that failed a check: where it is and why. */
export interface BadRow {
  readonly file: string
  /** 1-based data row in its file (header not counted). */
  readonly row: number
  /** 1-based line the row starts on (CSV, JSON Lines); undefined for Parquet. */
  readonly line: number | undefined
  readonly column: string
  readonly value: string
  readonly reason: string
  /** Every input column, as text. */
  readonly values: ReadonlyArray<string | null>
}

/**
 * Streams the rows of `file` that fail a check, in file order, with their line numbers. Rows are numbered by a
 * streaming window over one file at a time, so memory stays bounded however many rows fail.
 */
export async function* badRows(
  plan: ScanPlan,
  source: DataSource,
  file: string,
  limit?: number,
): AsyncGenerator<BadRow> {
  if (plan.checks.length === 0) return
  const con = await duckdb()
  const which = (pick: (c: RowCheck) => string) =>
    `CASE ${plan.checks.map(c => `WHEN ${c.bad} THEN ${pick(c)}`).join(' ')} END`
  const columns = source.columns.map(c => `CAST(${ident(c.name)} AS VARCHAR)`)
  const sql =
    `SELECT __mlproj_row, __mlproj_check, __mlproj_value${columns.length > 0 ? `, ${columns.join(', ')}` : ''} FROM (` +
    `SELECT *, ${which(c => literal(String(plan.checks.indexOf(c))))} AS __mlproj_check, ${which(c => c.value)} AS __mlproj_value ` +
    `FROM (SELECT row_number() OVER () AS __mlproj_row, * FROM ${plan.fileRelation(file)}) WHERE ${anyBad(plan.checks)})` +
    (limit === undefined ? '' : ` LIMIT ${limit}`)
  const result = await con.stream(sql)
  const lines = lineCursor(file, source.format, source.dialect)
  try {
    for await (const rows of result.yieldRowsJs()) {
      for (const r of rows) {
        const row = Number(r[0])
        const check = plan.checks[Number(r[1])]!
        yield {
          file,
          row,
          line: await lines.lineOf(row),
          column: check.column,
          value: String(r[2]),
          reason: check.reason,
          values: r.slice(3).map(v => (v === null || v === undefined ? null : String(v))),
        }
      }
    }
  } finally {
    await lines.close()
  }
}

/** Counts rows per file and rows that fail a check, as a DuckDB function the job's query calls on every row. */
export interface RowTally {
  readonly name: string
  /** Rows read, per file index. */
  readonly rows: number[]
  /** Rows that failed a check, per file index. */
  readonly rejected: number[]
  /** Set when a bad row stopped the query (--on-error fail). */
  stopped: boolean
}

/**
 * Registers `name(file_index INTEGER, bad BOOLEAN) → BOOLEAN`: true for rows to score. With `stopAtBad` the first
 * bad row fails the query at once (the caller then finds the first one in file order, since DuckDB reads in parallel).
 */
export async function registerTally(
  con: DuckDBConnection,
  name: string,
  files: number,
  stopAtBad: boolean,
  onRows?: (rows: number) => void,
): Promise<RowTally> {
  const duck = loadDuckDB()
  const tally: RowTally = {name, rows: new Array(files).fill(0), rejected: new Array(files).fill(0), stopped: false}
  con.registerScalarFunction(
    duck.DuckDBScalarFunction.create({
      name,
      parameterTypes: [duck.INTEGER, duck.BOOLEAN],
      returnType: duck.BOOLEAN,
      volatile: true,
      specialHandling: true,
      mainFunction: (_info, input, output) => {
        const n = input.rowCount
        const fileVector = input.getColumnVector(0)
        const badVector = input.getColumnVector(1)
        const items = (fileVector as unknown as {items?: unknown}).items
        const fileOf =
          items instanceof Int32Array ? (i: number) => items[i]! : (i: number) => fileVector.getItem(i) as number
        for (let i = 0; i < n; i++) {
          const file = fileOf(i)
          tally.rows[file]!++
          const bad = badVector.getItem(i) === true
          if (bad) {
            tally.rejected[file]!++
            if (stopAtBad) {
              tally.stopped = true
              throw new Error('a row cannot be scored')
            }
          }
          output.setItem(i, !bad as never)
        }
        output.flush()
        onRows?.(n)
      },
    }),
  )
  return tally
}

/** Rough row count of the files, for an ETA: exact for Parquet, from the first MiB's line length otherwise. */
export async function estimateRows(source: Pick<DataSource, 'format' | 'files'>): Promise<number> {
  if (source.format === 'parquet') return (await parquetRowCount(source.files)) || 0
  let rows = 0
  for (const file of source.files) {
    const handle = await open(file, 'r')
    try {
      const {size} = await handle.stat()
      const buffer = Buffer.alloc(Math.min(size, 1 << 20))
      const {bytesRead} = await handle.read(buffer, 0, buffer.length, 0)
      let newlines = 0
      for (let i = 0; i < bytesRead; i++) if (buffer[i] === 10) newlines++
      rows += bytesRead === size ? newlines : Math.round((size / Math.max(bytesRead, 1)) * newlines)
    } finally {
      await handle.close()
    }
  }
  return rows
}

/** Which line a data row starts on, for rows asked in increasing order. */
export interface LineCursor {
  lineOf(row: number): Promise<number | undefined>
  close(): Promise<void>
}

/** A cursor for `file`: CSV records (quotes may span lines, blank lines skipped), JSON Lines objects, or none (Parquet). */
export function lineCursor(file: string, format: DataFormat, dialect?: CsvDialect): LineCursor {
  if (format === 'parquet') return {lineOf: async () => undefined, close: async () => {}}
  const scanner = format === 'csv' ? new CsvRecordScanner(dialect!) : new JsonLineScanner()
  const stream = createReadStream(file, {highWaterMark: 1 << 20})
  const chunks = stream[Symbol.asyncIterator]()
  const found: number[] = []
  let done = false
  return {
    async lineOf(row) {
      const record = format === 'csv' && dialect!.header ? row + 1 : row
      while (scanner.records < record && !done) {
        const next = await chunks.next()
        if (next.done) {
          scanner.end(found)
          done = true
        } else scanner.feed(next.value as Buffer, found)
      }
      return scanner.records >= record ? found[record - 1] : undefined
    },
    async close() {
      stream.destroy()
    },
  }
}

const LF = 10
const CR = 13
const QUOTE = 34
const SPACE = 32
const TAB = 9

// Record scanner states, as in csv.ts's scanCsv.
const FIELD_START = 0
const UNQUOTED = 1
const QUOTED = 2
const QUOTE_IN_QUOTED = 3

/**
 * Finds the line each CSV record starts on, with the rules of csv.ts's scanCsv (and DuckDB's strict reader):
 * RFC 4180 quotes with "" escapes, a quote opens a field only at its start (after spaces), CR, LF and CRLF end
 * lines, blank lines are skipped. Works on bytes: the delimiter and quote are ASCII.
 */
export class CsvRecordScanner {
  records = 0
  private state = FIELD_START
  private line = 1
  private recordLine = 1
  private blank = true
  private lastWasCR = false
  private first = true
  private readonly delimiter: number

  constructor(dialect: CsvDialect) {
    this.delimiter = dialect.delimiter.charCodeAt(0)
  }

  /** Scans `bytes`, appending the start line of every record that ends in them to `lines`. */
  feed(bytes: Uint8Array, lines: number[]): void {
    let i = 0
    if (this.first) {
      this.first = false
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3
    }
    for (; i < bytes.length; i++) {
      const b = bytes[i]!
      if (b === LF && this.lastWasCR) {
        this.lastWasCR = false
        continue
      }
      this.lastWasCR = b === CR
      const newline = b === LF || b === CR
      if (this.state === QUOTED) {
        if (b === QUOTE) this.state = QUOTE_IN_QUOTED
        else if (newline) this.line++
        continue
      }
      if (this.state === QUOTE_IN_QUOTED) {
        if (b === QUOTE) {
          this.state = QUOTED
          continue
        }
        this.state = UNQUOTED
      }
      if (b === this.delimiter) {
        this.blank = false
        this.state = FIELD_START
      } else if (newline) {
        this.endRecord(lines)
        this.line++
        this.recordLine = this.line
        this.state = FIELD_START
      } else if (this.state === FIELD_START) {
        this.blank = false
        if (b === QUOTE) this.state = QUOTED
        else if (b !== SPACE && b !== TAB) this.state = UNQUOTED
      }
    }
  }

  /** The end of the file ends the last record. */
  end(lines: number[]): void {
    this.endRecord(lines)
  }

  private endRecord(lines: number[]): void {
    if (!this.blank) {
      this.records++
      lines.push(this.recordLine)
    }
    this.blank = true
  }
}

/** JSON Lines: one object per non-blank line. */
class JsonLineScanner {
  records = 0
  private line = 1
  private blank = true

  feed(bytes: Uint8Array, lines: number[]): void {
    for (const b of bytes) {
      if (b === LF) {
        this.end(lines)
        this.line++
      } else if (b !== SPACE && b !== TAB && b !== CR) this.blank = false
    }
  }

  end(lines: number[]): void {
    if (!this.blank) {
      this.records++
      lines.push(this.line)
    }
    this.blank = true
  }
}

/** The input columns as the source names them, for messages. */
export function columnNames(columns: readonly SourceColumn[]): string {
  return columns.map(c => c.name).join(', ')
}

/** A DataError naming the first bad row: file, line, column and value. */
export function badRowError(bad: BadRow, label: string): DataError {
  const where = bad.line === undefined ? `row ${bad.row}` : `line ${bad.line}`
  return new DataError(
    'E_DATA_BAD_ROW',
    `${label}: ${where}: column "${bad.column}" holds "${bad.value}", which ${bad.reason}`,
    {
      hint: 'fix or blank out that value (empty, NA and null are read as missing), or pass --on-error skip to score the other rows and write the bad ones to a rejects file',
      details: {
        file: label,
        row: bad.row,
        ...(bad.line === undefined ? {} : {line: bad.line}),
        column: bad.column,
        value: bad.value,
      },
    },
  )
}
