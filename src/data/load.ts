// Loads columns of a DataSource into a Frame of typed arrays. The result is streamed chunk by chunk into
// arrays sized once from an upper bound on the row count, so the process holds the data once: a materialised
// result holds it twice, and arrays built piece by piece leave copies behind (500,000 × 31 numbers, RSS after
// reading: 623 MB materialised, 476 MB streamed into one array per chunk, 321 MB streamed into preallocated
// arrays). Numbers are copied vector by vector, never value by value, and short categorical strings are decoded
// from the vector's bytes.

import {createReadStream, statSync} from 'node:fs'
import {createInterface} from 'node:readline'
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'
import type {DuckDBDataChunk, DuckDBResult, DuckDBVector} from '@duckdb/node-api'
import {DataError} from '../errors.js'
import {type Column, categoricalColumn, type Frame, numericColumn} from '../ml/frame.js'
import {csvRowLine} from './csv.js'
import {duckdb, ident, ownConnection} from './duckdb.js'
import {type DataSource, parquetRowCount, readError, retypedExpression} from './source.js'

export interface LoadColumn {
  readonly name: string
  readonly kind: 'numeric' | 'categorical'
}

/** Loads the given columns of every row, in file order. */
export async function loadFrame(source: DataSource, columns: readonly LoadColumn[]): Promise<Frame> {
  const capacity = await rowCapacity(source)
  const con = await ownConnection()
  try {
    let result: DuckDBResult
    try {
      result = await con.stream(selectSql(source, columns))
    } catch (error) {
      throw await castError(error, source, columns)
    }
    const builders = columns.map(c => new ColumnBuilder(c, capacity))
    const collect = youngCollector()
    let nRows = 0
    try {
      for (let i = 1; ; i++) {
        const chunk = await result.fetchChunk()
        if (!chunk || chunk.rowCount === 0) break
        appendChunk(builders, chunk)
        nRows += chunk.rowCount
        if (i % 32 === 0) collect?.({type: 'minor'})
      }
    } catch (error) {
      throw await castError(error, source, columns)
    }
    return {nRows, columns: builders.map(b => b.finish())}
  } finally {
    con.closeSync()
  }
}

let gc: ((options: {type: 'minor'}) => void) | null | undefined

/**
 * Each chunk DuckDB hands over lives in native memory that V8 does not count, so no garbage collection runs while
 * a table streams in and every chunk read stays allocated until the end (+124 MB for 500,000 × 31 numbers). A
 * young-generation collection every 32 chunks (about 1 ms) frees them; null where gc cannot be exposed.
 */
function youngCollector(): ((options: {type: 'minor'}) => void) | null {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as (options: {type: 'minor'}) => void
    } catch {
      gc = null
    }
  }
  return gc
}

const CSV_BUFFER_BYTES = 4 * 2 ** 20

export function selectSql(source: DataSource, columns: readonly LoadColumn[]): string {
  const exprs = columns.map(c =>
    c.kind === 'numeric'
      ? `coalesce(CAST(${ident(c.name)} AS DOUBLE), 'NaN'::DOUBLE)`
      : `coalesce(CAST(${ident(c.name)} AS VARCHAR), '')`,
  )
  // A categorical column that DuckDB typed otherwise (zip codes as numbers, say) is read as the text in the
  // file: CAST(DOUBLE AS VARCHAR) would turn 12345 into "12345.0".
  const asText = columns.filter(
    c => c.kind === 'categorical' && source.columns.find(s => s.name === c.name)?.kind !== 'categorical',
  )
  // CSV is read 4 MiB at a time instead of DuckDB's 32: 50 MB less at the peak, as fast for a streamed result.
  const relation = retypedExpression(source, Object.fromEntries(asText.map(c => [c.name, 'VARCHAR'])), source.files, {
    bufferBytes: CSV_BUFFER_BYTES,
  })
  return `SELECT ${exprs.length > 0 ? exprs.join(', ') : '1'} FROM ${relation}`
}

export function appendChunk(builders: ColumnBuilder[], chunk: DuckDBDataChunk): void {
  for (let j = 0; j < builders.length; j++) builders[j]!.append(chunk.getColumnVector(j), chunk.rowCount)
}

/** Most elements one column reserves up front (1 GiB of numbers); a larger table grows its arrays. */
const MAX_CAPACITY = 2 ** 27

/**
 * An upper bound on the source's rows, to size the arrays once: Parquet says how many rows it holds; a CSV row
 * takes at least one byte per column (its commas and newline), a JSON Lines row at least 3 (`{}` and newline).
 * Reserving more than is used costs address space only: the pages past the last row are never touched. A
 * compressed file can hold more rows than the bound; its arrays then grow.
 */
async function rowCapacity(source: DataSource): Promise<number> {
  if (source.format === 'parquet') {
    const rows = await parquetRowCount(source.files).catch(() => Number.NaN)
    return Number.isFinite(rows) ? Math.min(rows + 1, MAX_CAPACITY) : 4096
  }
  let bytes = 0
  for (const file of source.files) {
    try {
      bytes += statSync(file).size
    } catch {
      return 4096
    }
  }
  const perRow = source.format === 'csv' ? Math.max(1, source.columns.length) : 3
  return Math.max(4096, Math.min(Math.ceil(bytes / perRow) + 1, MAX_CAPACITY))
}

/**
 * One column's values, written into shared memory (training's worker threads read columns without a copy) of
 * `capacity` rows, which grows by doubling if the rows outnumber it. Categorical values are coded in order of
 * first appearance.
 */
export class ColumnBuilder {
  private values: Float64Array | Int32Array
  private length = 0
  private readonly levels: string[] = []
  private readonly index = new Map<string, number>()

  constructor(
    readonly spec: LoadColumn,
    capacity = 4096,
  ) {
    this.values = this.allocate(capacity)
  }

  append(vector: DuckDBVector, rowCount: number): void {
    this.reserve(rowCount)
    const at = this.length
    if (this.spec.kind === 'numeric') {
      const target = this.values as Float64Array
      const items = rawItems(vector, Float64Array)
      if (items && items.length === rowCount) target.set(items, at)
      else for (let i = 0; i < rowCount; i++) target[at + i] = (vector.getItem(i) as number | null) ?? Number.NaN
    } else {
      const target = this.values as Int32Array
      const bytes = rawStrings(vector)
      for (let i = 0; i < rowCount; i++) {
        const v = (bytes && inlineAscii(bytes, i)) ?? (vector.getItem(i) as string | null)
        if (v === null || v === '') {
          target[at + i] = -1
          continue
        }
        let code = this.index.get(v)
        if (code === undefined) {
          code = this.levels.length
          this.index.set(v, code)
          this.levels.push(v)
        }
        target[at + i] = code
      }
    }
    this.length += rowCount
  }

  /** The column: a view of the rows written, without a copy. */
  finish(): Column {
    const values = this.values.subarray(0, this.length)
    if (this.spec.kind === 'numeric') return numericColumn(this.spec.name, values as Float64Array)
    return categoricalColumn(this.spec.name, values as Int32Array, this.levels)
  }

  private allocate(size: number): Float64Array | Int32Array {
    return this.spec.kind === 'numeric'
      ? new Float64Array(new SharedArrayBuffer(size * 8))
      : new Int32Array(new SharedArrayBuffer(size * 4))
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.values.length) return
    let size = this.values.length * 2
    while (size < this.length + extra) size *= 2
    const grown = this.allocate(size)
    grown.set(this.values.subarray(0, this.length) as never)
    this.values = grown
  }
}

/**
 * The vector's backing typed array. @duckdb/node-api keeps it in a private `items` field; reading it avoids
 * a method call and a null check per value. Pinned version + a test guard this; the slow path stays correct.
 */
export function rawItems<T extends Float64Array | Int32Array>(
  vector: DuckDBVector,
  type: {new (...args: never[]): T},
): T | undefined {
  const items = (vector as unknown as {items?: unknown}).items
  return items instanceof type ? items : undefined
}

/**
 * The bytes of a VARCHAR vector that has no NULLs (selectSql coalesces them to ''): 16 bytes per value, DuckDB's
 * string_t, a little-endian uint32 length then up to 12 bytes inline. @duckdb/node-api keeps them in a private
 * `dataView`; its getItem builds a Uint8Array and calls TextDecoder per value, ~4× slower for short labels.
 * Guarded like rawItems; values that are long or not ASCII still go through getItem.
 */
export function rawStrings(vector: DuckDBVector): Uint8Array | undefined {
  const v = vector as unknown as {dataView?: unknown; validity?: {data?: unknown}}
  if (!(v.dataView instanceof DataView) || v.validity?.data !== null) return undefined
  return new Uint8Array(v.dataView.buffer, v.dataView.byteOffset, v.dataView.byteLength)
}

/** Value `i` of `rawStrings` when it is inline (≤ 12 bytes) and ASCII; undefined otherwise. */
function inlineAscii(bytes: Uint8Array, i: number): string | undefined {
  const at = i * 16
  const length = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)
  if (length < 0 || length > 12) return undefined
  let text = ''
  for (let b = at + 4; b < at + 4 + length; b++) {
    const c = bytes[b]!
    if (c >= 0x80) return undefined
    text += String.fromCharCode(c)
  }
  return text
}

/**
 * A conversion failure means a numeric column holds text: either the caller asked for numbers from a text
 * column, or DuckDB typed the column from its first rows and a later value is not a number. Each file is read
 * again with those columns as text to find and name the first such value.
 */
async function castError(error: unknown, source: DataSource, columns: readonly LoadColumn[]): Promise<DataError> {
  const message = error instanceof Error ? error.message : String(error)
  if (!/Conversion Error|Could not convert|Failed to cast/i.test(message)) return readError(error, source)
  const numeric = columns.filter(c => c.kind === 'numeric').map(c => c.name)
  for (const file of source.files) {
    const found = await firstBadValue(source, file, numeric).catch(() => undefined)
    if (!found) continue
    const {name, row, value} = found
    const where = source.spec === 'stdin' ? 'stdin' : file
    const line = await badValueLine(source, file, row)
    const at = `row ${row}${line === undefined ? '' : ` (line ${line})`} holds "${value}"`
    const detected = source.columns.find(c => c.name === name)?.kind === 'numeric'
    return new DataError(
      'E_DATA_TYPE',
      `${where}: column "${name}" ${detected ? `holds numbers in its first rows, but ${at}` : `must be numeric, but ${at}`}`,
      {
        hint: 'fix or blank out that value (empty, NA and null are read as missing), then run the command again',
        details: {file: where, column: name, row, ...(line === undefined ? {} : {line}), value},
        cause: error,
      },
    )
  }
  return readError(error, source)
}

/** The first row of `file` (1-based, in file order) where one of `names` holds text that is not a number. */
async function firstBadValue(
  source: DataSource,
  file: string,
  names: readonly string[],
): Promise<{name: string; row: number; value: string} | undefined> {
  if (names.length === 0) return undefined
  const relation = retypedExpression(source, Object.fromEntries(names.map(n => [n, 'VARCHAR'])), [file])
  const values = names.map((n, j) => `CAST(${ident(n)} AS VARCHAR) AS v${j}`)
  const bad = names.map((_, j) => `(v${j} IS NOT NULL AND TRY_CAST(v${j} AS DOUBLE) IS NULL)`)
  const con = await duckdb()
  const reader = await con.runAndReadAll(
    `SELECT rn, ${bad.map((b, j) => `${b} AS b${j}, v${j}`).join(', ')} FROM ` +
      `(SELECT row_number() OVER () AS rn, ${values.join(', ')} FROM ${relation}) WHERE ${bad.join(' OR ')} LIMIT 1`,
  )
  const row = reader.getRowsJS()[0]
  if (!row) return undefined
  const j = names.findIndex((_, k) => row[1 + 2 * k] === true)
  return {name: names[j]!, row: Number(row[0]), value: String(row[2 + 2 * j])}
}

/** The line a data row starts on: exact for CSV (quoted fields may span lines), undefined for Parquet. */
async function badValueLine(source: DataSource, file: string, row: number): Promise<number | undefined> {
  if (source.format === 'csv' && source.dialect) return csvRowLine(file, source.dialect, row)
  if (source.format === 'jsonl') return jsonRowLine(file, row)
  return undefined
}

/** JSON Lines: the line holding the row-th object, skipping blank lines; undefined for a JSON array file. */
async function jsonRowLine(file: string, row: number): Promise<number | undefined> {
  const input = createReadStream(file)
  let line = 0
  let objects = 0
  try {
    for await (const text of createInterface({input, crlfDelay: Number.POSITIVE_INFINITY})) {
      line++
      const trimmed = text.trim()
      if (trimmed === '') continue
      if (!trimmed.startsWith('{')) return undefined
      if (++objects === row) return line
    }
    return undefined
  } finally {
    input.destroy()
  }
}
