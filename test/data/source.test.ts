import {access, mkdir, readdir, readFile} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {Readable} from 'node:stream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openSource} from '../../src/data/source.js'
import {copyTo, dataError, numbers, readAll, SHARED_DATA, tempDir, texts} from './helpers.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
beforeAll(async () => {
  tmp = await tempDir()
})
afterAll(() => tmp.cleanup())

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

describe('paths, globs and directories', () => {
  it('refuses a missing file, naming it and the current directory', async () => {
    const path = join(tmp.dir, 'nope.csv')
    const error = await dataError(openSource(path))
    expect(error.code).toBe('E_DATA_NOT_FOUND')
    expect(error.message).toBe(`file not found: ${path}`)
    expect(error.hint).toContain(process.cwd())
  })

  it('resolves a relative path against the current directory', async () => {
    const source = await openSource(relative(process.cwd(), join(SHARED_DATA, 'iris.csv')))
    expect(source.files).toEqual([join(SHARED_DATA, 'iris.csv')])
  })

  it('reads the CSV files of a glob as one table, in path order', async () => {
    const dir = join(tmp.dir, 'parts')
    await mkdir(dir)
    await tmp.file('parts/b.csv', 'n,s\n3,z\n4,w\n')
    await tmp.file('parts/a.csv', 'n,s\n1,x\n2,y\n')
    await tmp.file('parts/c.csv', 'n,s\n5,v\n')
    const {source, frame} = await readAll(join(dir, '*.csv'))
    expect(source.files).toEqual(['a.csv', 'b.csv', 'c.csv'].map(n => join(dir, n)))
    expect(numbers(frame, 'n')).toEqual([1, 2, 3, 4, 5])
    expect(texts(frame, 's')).toEqual(['x', 'y', 'z', 'w', 'v'])
  })

  it('reads the data files of a directory in path order, skipping hidden and other files', async () => {
    const dir = join(tmp.dir, 'folder')
    await mkdir(dir)
    await tmp.file('folder/2.csv', 'n\n2\n')
    await tmp.file('folder/1.csv', 'n\n1\n')
    await tmp.file('folder/.hidden.csv', 'n\n99\n')
    await tmp.file('folder/notes.md', '# not data\n')
    const {source, frame} = await readAll(dir)
    expect(source.files).toEqual([join(dir, '1.csv'), join(dir, '2.csv')])
    expect(numbers(frame, 'n')).toEqual([1, 2])
  })

  it('refuses a glob that matches nothing', async () => {
    const pattern = join(tmp.dir, 'nothing-*.csv')
    const error = await dataError(openSource(pattern))
    expect(error.code).toBe('E_DATA_NOT_FOUND')
    expect(error.message).toBe(`no file matches ${pattern}`)
  })

  it('refuses a directory without data files', async () => {
    const dir = join(tmp.dir, 'empty-folder')
    await mkdir(dir)
    const error = await dataError(openSource(dir))
    expect(error.message).toBe(`directory ${dir} holds no .csv, .parquet or .jsonl file`)
  })

  it('opens a file whose name holds glob characters as that file', async () => {
    // As a glob, data[1].csv would match data1.csv.
    const path = await tmp.file('data[1].csv', 'n\n7\n')
    await tmp.file('data1.csv', 'n\n8\n')
    const {source, frame} = await readAll(path)
    expect(source.files).toEqual([path])
    expect(numbers(frame, 'n')).toEqual([7])
  })

  it('refuses a directory that mixes formats, naming two files', async () => {
    const dir = join(tmp.dir, 'mixed')
    await mkdir(dir)
    const csv = await tmp.file('mixed/a.csv', 'n\n1\n')
    const parquet = await copyTo('SELECT 2 AS n', join(dir, 'b.parquet'), 'parquet')
    const error = await dataError(openSource(dir))
    expect(error.code).toBe('E_DATA_MIXED_FORMATS')
    expect(error.message).toBe(`${dir} mixes csv and parquet files (${csv} and ${parquet})`)
  })

  it.each([
    ['a different header', 'n,t\n3,z\n', 'has columns n, t where'],
    ['a different delimiter', 'n;s\n3;z\n', 'is separated by ";" where'],
  ])('refuses files with %s rather than misaligning columns', async (_, second, says) => {
    const dir = join(tmp.dir, `mismatch-${second.length}-${second.charCodeAt(1)}`)
    await mkdir(dir)
    await tmp.file(`${relative(tmp.dir, dir)}/a.csv`, 'n,s\n1,x\n')
    const other = await tmp.file(`${relative(tmp.dir, dir)}/b.csv`, second)
    const error = await dataError(openSource(dir))
    expect(error.code).toBe('E_DATA_SCHEMA_MISMATCH')
    expect(error.message).toContain(`${other} ${says}`)
  })

  it('refuses an empty file among several, naming it', async () => {
    const dir = join(tmp.dir, 'with-empty')
    await mkdir(dir)
    await tmp.file('with-empty/a.csv', 'n\n1\n')
    const empty = await tmp.file('with-empty/b.csv', '\n')
    const error = await dataError(openSource(dir))
    expect(error.message).toBe(`${empty} is empty`)
  })
})

describe('stdin', () => {
  it('reads CSV from stdin', async () => {
    const {source, frame} = await readAll('-', {stdin: Readable.from(['a,b\n1,', 'x\n2,y\n'])})
    expect(source.spec).toBe('stdin')
    expect(source.format).toBe('csv')
    expect(numbers(frame, 'a')).toEqual([1, 2])
    expect(texts(frame, 'b')).toEqual(['x', 'y'])
  })

  it('removes the temporary file on release, and release can be called twice', async () => {
    const source = await openSource('-', {stdin: Readable.from(['a\n1\n'])})
    const temp = source.files[0]!
    expect(await exists(temp)).toBe(true)
    await source.release()
    expect(await exists(temp)).toBe(false)
    await source.release()
  })

  it('reads JSON Lines from stdin', async () => {
    const {source, frame} = await readAll('-', {stdin: Readable.from(['{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n'])})
    expect(source.format).toBe('jsonl')
    expect(numbers(frame, 'a')).toEqual([1, 2])
    expect(texts(frame, 'b')).toEqual(['x', 'y'])
  })

  it('reads Parquet bytes from stdin', async () => {
    const path = await copyTo("SELECT 1.5 AS a, 'x' AS b", join(tmp.dir, 'stdin.parquet'), 'parquet')
    const {source, frame} = await readAll('-', {stdin: Readable.from([await readFile(path)])})
    expect(source.format).toBe('parquet')
    expect(numbers(frame, 'a')).toEqual([1.5])
    expect(texts(frame, 'b')).toEqual(['x'])
  })

  it('removes the temporary file when stdin cannot be used', async () => {
    // os.tmpdir() follows TMPDIR, so the temporary folder lands where no other test file writes.
    const privateTmp = join(tmp.dir, 'tmpdir')
    await mkdir(privateTmp)
    const saved = process.env.TMPDIR
    process.env.TMPDIR = privateTmp
    try {
      const error = await dataError(openSource('-', {stdin: Readable.from(['  \n'])}))
      expect(error.message).toBe('stdin is empty')
    } finally {
      if (saved === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = saved
    }
    expect(await readdir(privateTmp)).toEqual([])
  })

  it('says stdin, not the temporary path, in messages', async () => {
    const error = await dataError(openSource('-', {stdin: Readable.from(['a,A\n1,2\n'])}))
    expect(error.message).toBe('stdin has duplicate column names: "a" and "A" (columns 1 and 2)')
  })
})
