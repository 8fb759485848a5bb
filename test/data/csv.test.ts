import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openSource} from '../../src/data/source.js'
import {dataError, numbers, readAll, SHARED_DATA, tempDir, texts} from './helpers.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
beforeAll(async () => {
  tmp = await tempDir()
})
afterAll(() => tmp.cleanup())

describe('CSV dialects', () => {
  it.each([
    ['comma', ','],
    ['semicolon', ';'],
    ['tab', '\t'],
    ['pipe', '|'],
  ])('reads a %s-delimited file', async (name, d) => {
    const path = await tmp.file(`${name}.csv`, `x${d}y${d}label\n1.5${d}2${d}a\n3${d}-4${d}b\n`)
    const {source, frame} = await readAll(path)
    expect(source.dialect?.delimiter).toBe(d)
    expect(source.columns.map(c => c.name)).toEqual(['x', 'y', 'label'])
    expect(numbers(frame, 'x')).toEqual([1.5, 3])
    expect(numbers(frame, 'y')).toEqual([2, -4])
    expect(texts(frame, 'label')).toEqual(['a', 'b'])
  })

  it('keeps the delimiter and escaped quotes inside quoted fields', async () => {
    const path = await tmp.file('quoted.csv', 'id,text\n1,"hello, world"\n2,"she said ""hi"""\n3,"two\nlines"\n')
    const {frame} = await readAll(path)
    expect(texts(frame, 'text')).toEqual(['hello, world', 'she said "hi"', 'two\nlines'])
    expect(numbers(frame, 'id')).toEqual([1, 2, 3])
  })

  it('keeps the delimiter inside quoted fields of a semicolon file', async () => {
    const path = await tmp.file('quoted-semi.csv', 'a;b\n"x;y";1\n"z";2\n')
    const {source, frame} = await readAll(path)
    expect(source.dialect?.delimiter).toBe(';')
    expect(texts(frame, 'a')).toEqual(['x;y', 'z'])
  })

  it('reads CRLF line endings without stray carriage returns', async () => {
    const path = await tmp.file('crlf.csv', 'a,b\r\n1,x\r\n2,y\r\n')
    const {frame} = await readAll(path)
    expect(numbers(frame, 'a')).toEqual([1, 2])
    expect(texts(frame, 'b')).toEqual(['x', 'y'])
  })

  it('drops a UTF-8 byte order mark from the first column name', async () => {
    const path = await tmp.file('bom.csv', '\uFEFFa,b\n1,2\n')
    const source = await openSource(path)
    expect(source.columns.map(c => c.name)).toEqual(['a', 'b'])
    expect(source.dialect?.names).toEqual(['a', 'b'])
  })

  it('reads the last row of a file without a trailing newline', async () => {
    const path = await tmp.file('no-newline.csv', 'a,b\n1,x\n2,y')
    const {frame} = await readAll(path)
    expect(frame.nRows).toBe(2)
    expect(texts(frame, 'b')).toEqual(['x', 'y'])
  })

  it('reads a headerless all-numeric file as column0, column1, ...', async () => {
    const path = await tmp.file('headerless.csv', '1,2,3\n4,5,6\n')
    const {source, frame} = await readAll(path)
    expect(source.dialect?.header).toBe(false)
    expect(source.columns.map(c => c.name)).toEqual(['column0', 'column1', 'column2'])
    expect(frame.nRows).toBe(2)
    expect(numbers(frame, 'column2')).toEqual([3, 6])
  })

  it('skips blank lines between rows', async () => {
    const path = await tmp.file('blank-lines.csv', 'a,b\n1,2\n\n3,4\n\n')
    const {frame} = await readAll(path)
    expect(numbers(frame, 'a')).toEqual([1, 3])
  })

  it('accepts spaces around a quoted field, as DuckDB does', async () => {
    const path = await tmp.file('spaced-quotes.csv', 'a,b\n1, "x,y" \n2,z\n')
    const {frame} = await readAll(path)
    expect(texts(frame, 'b')).toEqual(['x,y', 'z'])
  })
})

describe('the real files in /work/shared/data', () => {
  it('reads iris column names with spaces and parentheses', async () => {
    const {source, frame} = await readAll(join(SHARED_DATA, 'iris.csv'))
    expect(source.columns.map(c => c.name)).toEqual([
      'sepal length (cm)',
      'sepal width (cm)',
      'petal length (cm)',
      'petal width (cm)',
      'species',
    ])
    expect(frame.nRows).toBe(150)
    expect(numbers(frame, 'sepal length (cm)').slice(0, 3)).toEqual([5.1, 4.9, 4.7])
    expect(new Set(texts(frame, 'species'))).toEqual(new Set(['setosa', 'versicolor', 'virginica']))
  })

  it('reads a wine column name with a slash', async () => {
    const {source, frame} = await readAll(join(SHARED_DATA, 'wine.csv'))
    expect(source.columns.find(c => c.name === 'od280/od315_of_diluted_wines')?.kind).toBe('numeric')
    expect(frame.nRows).toBe(178)
    expect(numbers(frame, 'od280/od315_of_diluted_wines')[0]).toBe(3.92)
  })

  it('reads penguins: quoted strings unquoted, 19 empty cells missing', async () => {
    const {source, frame} = await readAll(join(SHARED_DATA, 'penguins.csv'))
    expect(frame.nRows).toBe(344)
    expect(source.columns.map(c => `${c.name}:${c.kind}`)).toEqual([
      'species:categorical',
      'island:categorical',
      'bill_length_mm:numeric',
      'bill_depth_mm:numeric',
      'flipper_length_mm:numeric',
      'body_mass_g:numeric',
      'sex:categorical',
      'year:numeric',
    ])
    let missing = 0
    for (const c of frame.columns) {
      if (c.kind === 'numeric') missing += c.values.filter(Number.isNaN).length
      else missing += c.codes.filter(code => code < 0).length
    }
    expect(missing).toBe(19)
    expect(new Set(texts(frame, 'species'))).toEqual(new Set(['Adelie', 'Chinstrap', 'Gentoo']))
    expect(new Set(texts(frame, 'sex'))).toEqual(new Set(['male', 'female', null]))
    expect(numbers(frame, 'bill_length_mm')[3]).toBeNaN()
  })

  it.each([
    ['breast_cancer.csv', 569, 31],
    ['diabetes.csv', 442, 11],
  ])('reads %s whole', async (name, rows, cols) => {
    const {source, frame} = await readAll(join(SHARED_DATA, name))
    expect(frame.nRows).toBe(rows)
    expect(source.columns).toHaveLength(cols)
  })
})

describe('malformed CSV', () => {
  it('names the line where an unterminated quote opened', async () => {
    const path = await tmp.file('open-quote.csv', 'a,b\n1,x\n2,"never closed\n3,y\n4,z\n')
    const error = await dataError(openSource(path))
    expect(error.code).toBe('E_DATA_MALFORMED')
    expect(error.message).toBe(`${path}: line 3 opens a quoted field that is never closed`)
    expect(error.details).toMatchObject({file: path, line: 3})
  })

  it('names the line of an unterminated quote past the rows DuckDB samples', async () => {
    const rows = Array.from({length: 30_000}, (_, i) => (i === 25_000 ? `${i},"oops` : `${i},x`))
    const path = await tmp.file('late-quote.csv', `a,b\n${rows.join('\n')}\n`)
    const error = await dataError(readAll(path))
    expect(error.message).toBe(`${path}: line 25002 opens a quoted field that is never closed`)
  })

  it('names the line of a row with too few fields', async () => {
    const path = await tmp.file('short-row.csv', 'a,b,c\n1,2,3\n4,5\n6,7,8\n')
    const error = await dataError(openSource(path))
    expect(error.message).toBe(`${path}: line 3 has 2 fields where the header has 3`)
  })

  it('names the line of a row with too many fields, counting CRLF lines and multi-line fields', async () => {
    const path = await tmp.file('long-row.csv', 'a,b\r\n1,"two\r\nlines"\r\n2,x,extra\r\n')
    const error = await dataError(readAll(path))
    expect(error.message).toBe(`${path}: line 4 has 3 fields where the header has 2`)
  })

  it('names the line of a bad row past the rows DuckDB samples', async () => {
    const rows = Array.from({length: 30_000}, (_, i) => (i === 25_000 ? `${i}` : `${i},x`))
    const path = await tmp.file('late-short-row.csv', `a,b\n${rows.join('\n')}\n`)
    const error = await dataError(readAll(path))
    expect(error.code).toBe('E_DATA_MALFORMED')
    expect(error.details).toMatchObject({line: 25_002})
  })

  it('refuses a wide last row instead of letting DuckDB take it as the header and drop the rows above', async () => {
    const path = await tmp.file('wide-last-row.csv', 'a,b\n1,x\n2,y\n3,z,extra\n')
    const error = await dataError(readAll(path))
    expect(error.message).toBe(`${path}: line 4 has 3 fields where the header has 2`)
  })

  it('keeps a last row that starts with # instead of dropping it as a comment', async () => {
    const path = await tmp.file('hash-row.csv', 'a,b\n1,2\n3,4\n#5,6\n')
    const {frame} = await readAll(path)
    expect(frame.nRows).toBe(3)
    expect(texts(frame, 'a')).toEqual(['1', '3', '#5'])
  })

  it('names the right line in a file that starts with a byte order mark and a quoted header', async () => {
    const path = await tmp.file('bom-quoted.csv', '\uFEFF"x,y",z\n1,2\n3\n')
    const error = await dataError(readAll(path))
    expect(error.message).toBe(`${path}: line 3 has 1 fields where the header has 2`)
  })

  it('names the line of text after a closing quote', async () => {
    const path = await tmp.file('after-quote.csv', 'a,b\n1,x\n2,"y"z\n')
    const error = await dataError(openSource(path))
    expect(error.message).toBe(`${path}: line 3 has text after the closing quote of a field`)
  })

  it('refuses duplicate column names, naming them and their positions', async () => {
    const path = await tmp.file('dup.csv', 'a,b,a\n1,2,3\n')
    const error = await dataError(openSource(path))
    expect(error.code).toBe('E_DATA_DUPLICATE_COLUMN')
    expect(error.message).toBe(`${path} has duplicate column names: "a" (columns 1 and 3)`)
  })

  it('refuses column names that differ only in case, which DuckDB would rename to a_1', async () => {
    const path = await tmp.file('dup-case.csv', 'Price,price\n1,2\n')
    const error = await dataError(openSource(path))
    expect(error.message).toBe(`${path} has duplicate column names: "Price" and "price" (columns 1 and 2)`)
    expect(error.hint).toContain('case')
  })

  it.each([
    ['an empty file', ''],
    ['a file of whitespace', '  \n\n \r\n'],
  ])('refuses %s as empty', async (_, content) => {
    const path = await tmp.file('empty.csv', content)
    const error = await dataError(openSource(path))
    expect(error.code).toBe('E_DATA_EMPTY')
    expect(error.message).toBe(`${path} is empty`)
  })

  it('opens a header-only file and loads zero rows (the caller reports E_DATA_NO_ROWS)', async () => {
    const path = await tmp.file('header-only.csv', 'a,b,c\n')
    const {source, frame} = await readAll(path)
    expect(source.columns.map(c => c.name)).toEqual(['a', 'b', 'c'])
    expect(frame.nRows).toBe(0)
    expect(frame.columns).toHaveLength(3)
  })
})
