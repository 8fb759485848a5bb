import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openSource} from '../../src/data/source.js'
import {copyTo, dataError, numbers, readAll, tempDir, texts} from './helpers.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
beforeAll(async () => {
  tmp = await tempDir()
})
afterAll(() => tmp.cleanup())

const SAMPLE = `SELECT * FROM (VALUES
  (1, 2.5, 'red', true),
  (2, NULL, NULL, false),
  (3, -1.0, 'blue', NULL)
) t(id, x, color, flag)`

describe('Parquet', () => {
  it('reads numbers, text and booleans, booleans as the categories "true" and "false"', async () => {
    const path = await copyTo(SAMPLE, join(tmp.dir, 'sample.parquet'), 'parquet')
    const {source, frame} = await readAll(path)
    expect(source.format).toBe('parquet')
    expect(source.columns.map(c => `${c.name}:${c.kind}`)).toEqual([
      'id:numeric',
      'x:numeric',
      'color:categorical',
      'flag:categorical',
    ])
    expect(numbers(frame, 'id')).toEqual([1, 2, 3])
    expect(numbers(frame, 'x')).toEqual([2.5, Number.NaN, -1])
    expect(texts(frame, 'color')).toEqual(['red', null, 'blue'])
    expect(texts(frame, 'flag')).toEqual(['true', 'false', null])
  })

  it('refuses column names that differ only in case, reading them from the file schema', async () => {
    // DuckDB cannot write such a file, so two same-length names are patched into one in the footer.
    const path = await copyTo('SELECT 1 AS price_a, 2 AS price_b', join(tmp.dir, 'dup.parquet'), 'parquet')
    const bytes = await readFile(path)
    await writeFile(path, Buffer.from(bytes.toString('latin1').replaceAll('price_b', 'PRICE_A'), 'latin1'))
    const error = await dataError(openSource(path))
    expect(error.code).toBe('E_DATA_DUPLICATE_COLUMN')
    expect(error.message).toBe(`${path} has duplicate column names: "price_a" and "PRICE_A" (columns 1 and 2)`)
  })

  it('refuses a file that is not Parquet, naming it', async () => {
    const path = await tmp.file('fake.parquet', 'id,x\n1,2\n')
    const error = await dataError(openSource(path))
    expect(error.code).toBe('E_DATA_UNREADABLE')
    expect(error.message).toContain(path)
  })
})

describe('JSON Lines', () => {
  it('reads numbers, text and booleans, booleans as the categories "true" and "false"', async () => {
    const path = await copyTo(SAMPLE, join(tmp.dir, 'sample.jsonl'), 'json')
    const {source, frame} = await readAll(path)
    expect(source.format).toBe('jsonl')
    expect(source.columns.map(c => `${c.name}:${c.kind}`)).toEqual([
      'id:numeric',
      'x:numeric',
      'color:categorical',
      'flag:categorical',
    ])
    expect(numbers(frame, 'x')).toEqual([2.5, Number.NaN, -1])
    expect(texts(frame, 'color')).toEqual(['red', null, 'blue'])
    expect(texts(frame, 'flag')).toEqual(['true', 'false', null])
  })

  it('keeps a late decimal in a field whose sampled values are whole numbers', async () => {
    const lines = Array.from({length: 30_000}, (_, i) => JSON.stringify({x: i === 25_000 ? 1.5 : i}))
    const path = await tmp.file('late-decimal.jsonl', `${lines.join('\n')}\n`)
    const {frame} = await readAll(path)
    expect(numbers(frame, 'x')[25_000]).toBe(1.5)
  })

  it('reads a .json file holding one array of objects', async () => {
    const path = await tmp.file('array.json', '[{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]')
    const {frame} = await readAll(path)
    expect(numbers(frame, 'a')).toEqual([1, 2])
    expect(texts(frame, 'b')).toEqual(['x', 'y'])
  })

  it.each([
    ['a key repeated in one object', '{"a": 1, "a": 2}\n', '"a" (columns 1 and 2)'],
    ['keys that differ only in case', '{"a": 1}\n{"A": 2}\n', '"a" and "A" (columns 1 and 2)'],
  ])('refuses %s', async (_, content, named) => {
    const path = await tmp.file('dup.jsonl', content)
    const error = await dataError(openSource(path))
    expect(error.message).toBe(`${path} has duplicate column names: ${named}`)
  })

  it('names the line of malformed JSON', async () => {
    const path = await tmp.file('broken.jsonl', '{"a": 1}\n{"a": 2\n{"a": 3}\n')
    const error = await dataError(openSource(path))
    expect(error.code).toBe('E_DATA_UNREADABLE')
    expect(error.message).toContain(path)
    expect(error.details).toMatchObject({line: 3})
  })

  it('refuses a JSON Lines file of whitespace as empty', async () => {
    const path = await tmp.file('blank.jsonl', '\n  \n')
    const error = await dataError(openSource(path))
    expect(error.message).toBe(`${path} is empty`)
    expect(error.hint).not.toContain('header')
  })
})
