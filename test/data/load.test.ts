import {mkdir} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {duckdb, literal} from '../../src/data/duckdb.js'
import {ColumnBuilder, loadFrame, rawItems, rawStrings, selectSql} from '../../src/data/load.js'
import {openSource} from '../../src/data/source.js'
import {copyTo, dataError, numbers, readAll, tempDir, texts} from './helpers.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
beforeAll(async () => {
  tmp = await tempDir()
})
afterAll(() => tmp.cleanup())

/** `n` CSV rows `i,value(i)`. */
function rows(n: number, value: (i: number) => string): string {
  return Array.from({length: n}, (_, i) => `${i},${value(i)}`).join('\n')
}

describe('column types', () => {
  it('types numbers as numeric and text as categorical, levels in order of first appearance', async () => {
    const path = await tmp.file('kinds.csv', 'n,s\n1,b\n2.5,a\n-3e2,b\n')
    const {source, frame} = await readAll(path)
    expect(source.columns.map(c => c.kind)).toEqual(['numeric', 'categorical'])
    expect(numbers(frame, 'n')).toEqual([1, 2.5, -300])
    const s = frame.columns[1]!
    expect(s.kind === 'categorical' && s.levels).toEqual(['b', 'a'])
  })

  it.each(['', 'NA', 'null'])('reads %j as missing in numeric and categorical columns', async spelling => {
    const path = await tmp.file('missing.csv', `n,s\n1,x\n${spelling},${spelling}\n3,y\n`)
    const {source, frame} = await readAll(path)
    expect(source.columns.map(c => c.kind)).toEqual(['numeric', 'categorical'])
    expect(numbers(frame, 'n')).toEqual([1, Number.NaN, 3])
    expect(texts(frame, 's')).toEqual(['x', null, 'y'])
  })

  it('reads an empty quoted field as missing, not as the category ""', async () => {
    const path = await tmp.file('empty-quoted.csv', 'n,s\n1,""\n2,x\n')
    const {frame} = await readAll(path)
    expect(texts(frame, 's')).toEqual([null, 'x'])
  })

  it('reads an empty JSON string as missing', async () => {
    const path = await tmp.file('empty-string.jsonl', '{"s": ""}\n{"s": "x"}\n')
    const {frame} = await readAll(path)
    expect(texts(frame, 's')).toEqual([null, 'x'])
  })

  it('keeps a late decimal in a column whose sampled rows are whole numbers (DuckDB rounded 1.5 to 2)', async () => {
    const path = await tmp.file('late-decimal.csv', `i,x\n${rows(30_000, i => (i === 25_000 ? '1.5' : String(i)))}\n`)
    const {frame} = await readAll(path)
    expect(numbers(frame, 'x')[25_000]).toBe(1.5)
  })

  it('keeps yes/no and T/F text as written rather than turning it into true/false', async () => {
    const path = await tmp.file('yes-no.csv', 'a,b,c\nyes,T,true\nno,F,false\n')
    const {frame} = await readAll(path)
    expect(texts(frame, 'a')).toEqual(['yes', 'no'])
    expect(texts(frame, 'b')).toEqual(['T', 'F'])
    expect(texts(frame, 'c')).toEqual(['true', 'false'])
  })

  it('reads whole numbers padded with spaces as numbers', async () => {
    const path = await tmp.file('padded.csv', 'a,b\n1, 2\n3,4 \n')
    const {frame} = await readAll(path)
    expect(numbers(frame, 'b')).toEqual([2, 4])
  })

  it('loads a numeric-looking column as categorical with the text as written', async () => {
    // Given zip codes, which DuckDB types as numbers
    const path = await tmp.file('zip.csv', 'zip,n\n12345,1\n54321,2\n')
    const source = await openSource(path)
    expect(source.columns[0]?.kind).toBe('numeric')
    // When a model's signature asks for them as categories
    const frame = await loadFrame(source, [{name: 'zip', kind: 'categorical'}])
    // Then the levels are the text of the file, not CAST(DOUBLE AS VARCHAR)'s "12345.0"
    expect(texts(frame, 'zip')).toEqual(['12345', '54321'])
  })

  it('loads the requested columns in the requested order', async () => {
    const path = await tmp.file('order.csv', 'a,b,c\n1,2,3\n')
    const source = await openSource(path)
    const frame = await loadFrame(source, [
      {name: 'c', kind: 'numeric'},
      {name: 'a', kind: 'numeric'},
    ])
    expect(frame.columns.map(c => c.name)).toEqual(['c', 'a'])
    expect(numbers(frame, 'c')).toEqual([3])
  })
})

describe('text where numbers are required', () => {
  it('names the file, column, row, line and value', async () => {
    const path = await tmp.file('text-in-numbers.csv', 'x,y\n1,2\n3,oops\n')
    const source = await openSource(path)
    const error = await dataError(loadFrame(source, [{name: 'y', kind: 'numeric'}]))
    expect(error.code).toBe('E_DATA_TYPE')
    expect(error.message).toBe(`${path}: column "y" must be numeric, but row 2 (line 3) holds "oops"`)
    expect(error.details).toEqual({file: path, column: 'y', row: 2, line: 3, value: 'oops'})
  })

  it('counts lines, not rows, when a quoted field spans lines', async () => {
    const path = await tmp.file('multiline-then-text.csv', 'note,y\n"two\nlines",1\nplain,oops\n')
    const source = await openSource(path)
    const error = await dataError(loadFrame(source, [{name: 'y', kind: 'numeric'}]))
    expect(error.details).toMatchObject({row: 2, line: 4, value: 'oops'})
  })

  it('names text that appears after the rows DuckDB samples for types', async () => {
    const path = await tmp.file('late-text.csv', `i,x\n${rows(30_000, i => (i === 25_000 ? 'n/a?' : String(i)))}\n`)
    const error = await dataError(readAll(path))
    expect(error.code).toBe('E_DATA_TYPE')
    expect(error.message).toBe(
      `${path}: column "x" holds numbers in its first rows, but row 25001 (line 25002) holds "n/a?"`,
    )
  })

  it('names the file of a glob that holds the value, and the row within that file', async () => {
    const dir = join(tmp.dir, 'glob-cast')
    await mkdir(dir)
    await tmp.file('glob-cast/a.csv', 'y\n1\n2\n')
    const second = await tmp.file('glob-cast/b.csv', 'y\n3\nbad\n')
    const source = await openSource(join(dir, '*.csv'))
    const error = await dataError(loadFrame(source, [{name: 'y', kind: 'numeric'}]))
    expect(error.details).toEqual({file: second, column: 'y', row: 2, line: 3, value: 'bad'})
  })

  it('says stdin, not the temporary file, for data piped in', async () => {
    const source = await openSource('-', {stdin: Readable.from(['x,y\n1,zz\n'])})
    try {
      const error = await dataError(loadFrame(source, [{name: 'y', kind: 'numeric'}]))
      expect(error.message).toBe('stdin: column "y" must be numeric, but row 1 (line 2) holds "zz"')
    } finally {
      await source.release()
    }
  })

  it('names the line of a JSON Lines file', async () => {
    const path = await tmp.file('text.jsonl', '{"y": 1}\n\n{"y": "high"}\n')
    const source = await openSource(path)
    const error = await dataError(loadFrame(source, [{name: 'y', kind: 'numeric'}]))
    expect(error.details).toEqual({file: path, column: 'y', row: 2, line: 3, value: 'high'})
  })

  it('names the row of a Parquet file', async () => {
    const path = await copyTo(
      "SELECT * FROM (VALUES ('1'), ('2'), ('x')) t(y)",
      join(tmp.dir, 'text.parquet'),
      'parquet',
    )
    const source = await openSource(path)
    const error = await dataError(loadFrame(source, [{name: 'y', kind: 'numeric'}]))
    expect(error.message).toBe(`${path}: column "y" must be numeric, but row 3 holds "x"`)
  })
})

describe('row capacity', () => {
  it('loads a CSV into shared memory, each column exactly as long as the rows read', async () => {
    const path = await tmp.file('capacity.csv', `i,v\n${rows(20_000, i => String(i % 7))}\n`)
    const {frame} = await readAll(path)
    expect(frame.nRows).toBe(20_000)
    for (const column of frame.columns) {
      const values = column.kind === 'numeric' ? column.values : column.codes
      expect(values).toHaveLength(20_000)
      expect(values.buffer).toBeInstanceOf(SharedArrayBuffer)
    }
    expect(numbers(frame, 'i')[19_999]).toBe(19_999)
    expect(numbers(frame, 'v')[19_999]).toBe(19_999 % 7)
  })

  it('loads Parquet into arrays sized by its row count', async () => {
    const path = await copyTo('SELECT range AS i FROM range(5000)', join(tmp.dir, 'count.parquet'), 'parquet')
    const {frame} = await readAll(path)
    expect(frame.nRows).toBe(5000)
    expect(numbers(frame, 'i').at(-1)).toBe(4999)
  })
})

describe('reading DuckDB vectors', () => {
  // load.ts copies DOUBLE vectors through the private `items` array of @duckdb/node-api. If an upgrade renames
  // it, loading stays correct (slow path) but ~per-value slower: this test is the alarm.
  it('takes the fast path: the DOUBLE vectors of the load query expose their Float64Array', async () => {
    const path = await tmp.file('fast.csv', `x\n${Array.from({length: 5000}, (_, i) => i / 4).join('\n')}\n`)
    const source = await openSource(path)
    const result = await (await duckdb()).run(selectSql(source, [{name: 'x', kind: 'numeric'}]))
    const chunk = await result.fetchChunk()
    const vector = chunk!.getColumnVector(0)
    const items = rawItems(vector, Float64Array)
    expect(items, '@duckdb/node-api no longer exposes DuckDBDoubleVector.items').toBeInstanceOf(Float64Array)
    expect(items!.length).toBe(chunk!.rowCount)
    expect(Array.from(items!.subarray(0, 3))).toEqual([0, 0.25, 0.5])
  })

  it('reads numbers value by value, nulls as NaN, when a vector is not DOUBLE (slow path)', async () => {
    const result = await (await duckdb()).run(
      'SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE i::INTEGER END FROM range(3000) t(i)',
    )
    // Room for 1,000 rows: the column grows past it.
    const builder = new ColumnBuilder({name: 'x', kind: 'numeric'}, 1000)
    for (;;) {
      const chunk = await result.fetchChunk()
      if (!chunk || chunk.rowCount === 0) break
      expect(rawItems(chunk.getColumnVector(0), Float64Array)).toBeUndefined()
      builder.append(chunk.getColumnVector(0), chunk.rowCount)
    }
    const column = builder.finish()
    expect(column.kind).toBe('numeric')
    const values = column.kind === 'numeric' ? column.values : new Float64Array()
    expect(values).toHaveLength(3000)
    expect(values.buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(Array.from(values.subarray(0, 4))).toEqual([Number.NaN, 1, 2, Number.NaN])
    expect(values[2997]).toBe(Number.NaN)
    expect(values[2999]).toBe(2999)
  })

  // Same alarm for the categorical path: the private `dataView` of VARCHAR vectors.
  it('takes the fast path: the text vectors of the load query expose their bytes, even with missing values', async () => {
    const path = await tmp.file('fast-text.csv', 'n,s\n1,a\n2,\n3,NA\n4,b\n')
    const source = await openSource(path)
    const result = await (await duckdb()).run(selectSql(source, [{name: 's', kind: 'categorical'}]))
    const chunk = await result.fetchChunk()
    const bytes = rawStrings(chunk!.getColumnVector(0))
    expect(bytes, '@duckdb/node-api no longer exposes DuckDBVarCharVector.dataView').toBeInstanceOf(Uint8Array)
    expect(bytes!.length).toBe(16 * chunk!.rowCount)
  })

  it('decodes text that is long, not ASCII, or missing, through the fast path and the slow one alike', async () => {
    const values = ['a', 'é', 'twelve bytes', 'thirteen byte', 'ünïcödé and a long tail', '🙂', '', 'a']
    const path = await tmp.file('text-kinds.jsonl', values.map(v => JSON.stringify({s: v})).join('\n'))
    const expected = values.map(v => (v === '' ? null : v))
    // Fast path: the load query coalesces missing values, so the vector has no validity mask.
    const {frame} = await readAll(path)
    expect(texts(frame, 's')).toEqual(expected)
    // Slow path: a vector with NULLs has a validity mask, so every value goes through getItem.
    const list = values.map(v => (v === '' ? '(NULL)' : `(${literal(v)})`)).join(', ')
    const result = await (await duckdb()).run(`SELECT s FROM (VALUES ${list}) t(s)`)
    const chunk = await result.fetchChunk()
    expect(chunk!.rowCount).toBe(values.length)
    expect(rawStrings(chunk!.getColumnVector(0))).toBeUndefined()
    const builder = new ColumnBuilder({name: 's', kind: 'categorical'})
    builder.append(chunk!.getColumnVector(0), chunk!.rowCount)
    const column = builder.finish()
    expect(column.kind === 'categorical' && Array.from(column.codes, c => (c < 0 ? null : column.levels[c]))).toEqual(
      expected,
    )
  })

  it('loads more rows than one vector holds, in file order', async () => {
    const path = await tmp.file('many.csv', `i,s\n${rows(10_000, i => `s${i % 7}`)}\n`)
    const {frame} = await readAll(path)
    expect(frame.nRows).toBe(10_000)
    expect(numbers(frame, 'i')).toEqual(Array.from({length: 10_000}, (_, i) => i))
    expect(texts(frame, 's')[9_999]).toBe(`s${9_999 % 7}`)
  })
})
