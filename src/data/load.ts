// Loads columns of a DataSource into a Frame of typed arrays. DuckDB parses in parallel into a materialised
// result (3× faster than streaming chunk by chunk); numbers are copied vector by vector, never value by value.
import type {DuckDBDataChunk, DuckDBMaterializedResult, DuckDBVector} from '@duckdb/node-api'
import {DataError} from '../errors.js'
import {type Column, categoricalColumn, type Frame, numericColumn} from '../ml/frame.js'
import {duckdb, ident} from './duckdb.js'
import {type DataSource, readError} from './source.js'

export interface LoadColumn {
  readonly name: string
  readonly kind: 'numeric' | 'categorical'
}

/** Loads the given columns of every row, in file order. */
export async function loadFrame(source: DataSource, columns: readonly LoadColumn[]): Promise<Frame> {
  const con = await duckdb()
  let result: DuckDBMaterializedResult
  try {
    result = await con.run(selectSql(source, columns))
  } catch (error) {
    throw await castError(error, source, columns)
  }
  const builders = columns.map(c => new ColumnBuilder(c))
  let nRows = 0
  for (;;) {
    const chunk = await result.fetchChunk()
    if (!chunk || chunk.rowCount === 0) break
    appendChunk(builders, chunk)
    nRows += chunk.rowCount
  }
  return {nRows, columns: builders.map(b => b.finish(nRows))}
}

export function selectSql(source: DataSource, columns: readonly LoadColumn[]): string {
  const exprs = columns.map(c =>
    c.kind === 'numeric'
      ? `coalesce(CAST(${ident(c.name)} AS DOUBLE), 'NaN'::DOUBLE)`
      : `CAST(${ident(c.name)} AS VARCHAR)`,
  )
  return `SELECT ${exprs.length > 0 ? exprs.join(', ') : '1'} FROM ${source.relation}`
}

export function appendChunk(builders: ColumnBuilder[], chunk: DuckDBDataChunk): void {
  for (let j = 0; j < builders.length; j++) builders[j]!.append(chunk.getColumnVector(j), chunk.rowCount)
}

/** Grows one column's typed array chunk by chunk; categorical values are coded in order of first appearance. */
export class ColumnBuilder {
  private values: Float64Array | Int32Array
  private length = 0
  private readonly levels: string[] = []
  private readonly index = new Map<string, number>()

  constructor(readonly spec: LoadColumn) {
    this.values = spec.kind === 'numeric' ? new Float64Array(4096) : new Int32Array(4096)
  }

  append(vector: DuckDBVector, rowCount: number): void {
    this.reserve(rowCount)
    if (this.spec.kind === 'numeric') {
      const target = this.values as Float64Array
      const items = rawItems(vector, Float64Array)
      if (items && items.length === rowCount) target.set(items, this.length)
      else
        for (let i = 0; i < rowCount; i++) target[this.length + i] = (vector.getItem(i) as number | null) ?? Number.NaN
    } else {
      const target = this.values as Int32Array
      for (let i = 0; i < rowCount; i++) {
        const v = vector.getItem(i) as string | null
        if (v === null || v === '') {
          target[this.length + i] = -1
          continue
        }
        let code = this.index.get(v)
        if (code === undefined) {
          code = this.levels.length
          this.index.set(v, code)
          this.levels.push(v)
        }
        target[this.length + i] = code
      }
    }
    this.length += rowCount
  }

  finish(nRows: number): Column {
    const values = this.values.slice(0, nRows)
    if (this.spec.kind === 'numeric') return numericColumn(this.spec.name, values as Float64Array)
    return categoricalColumn(this.spec.name, values as Int32Array, this.levels)
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.values.length) return
    let size = this.values.length * 2
    while (size < this.length + extra) size *= 2
    const grown = this.spec.kind === 'numeric' ? new Float64Array(size) : new Int32Array(size)
    grown.set(this.values.subarray(0, this.length) as never)
    this.values = grown
  }
}

/**
 * The vector's backing typed array. @duckdb/node-api keeps it in a private `items` field; reading it avoids
 * a method call and a null check per value. Pinned version + a test guard this; the slow path stays correct.
 */
function rawItems<T extends Float64Array | Int32Array>(
  vector: DuckDBVector,
  type: {new (...args: never[]): T},
): T | undefined {
  const items = (vector as unknown as {items?: unknown}).items
  return items instanceof type ? items : undefined
}

/** A failed CAST means a column holds text where the model needs numbers: find and name the first such value. */
async function castError(error: unknown, source: DataSource, columns: readonly LoadColumn[]): Promise<DataError> {
  const message = error instanceof Error ? error.message : String(error)
  if (/Conversion Error|Could not convert/i.test(message)) {
    const con = await duckdb()
    for (const column of columns) {
      if (column.kind !== 'numeric') continue
      const c = ident(column.name)
      const reader = await con
        .runAndReadAll(
          `SELECT rn, v FROM (SELECT row_number() OVER () AS rn, CAST(${c} AS VARCHAR) AS v FROM ${source.relation}) ` +
            'WHERE v IS NOT NULL AND TRY_CAST(v AS DOUBLE) IS NULL LIMIT 1',
        )
        .catch(() => undefined)
      const row = reader?.getRowsJS()[0]
      if (row) {
        const rowNumber = Number(row[0])
        const line = source.format === 'csv' && source.dialect?.header ? rowNumber + 1 : rowNumber
        return new DataError(
          'E_DATA_TYPE',
          `${source.spec}: column "${column.name}" must be numeric, but row ${rowNumber}${source.format === 'csv' ? ` (line ${line})` : ''} holds "${row[1]}"`,
          {
            hint: 'fix or blank out that value (empty, NA and null are read as missing), then run the command again',
            details: {file: source.spec, column: column.name, row: rowNumber, line, value: row[1]},
          },
        )
      }
    }
  }
  return readError(error, source)
}
