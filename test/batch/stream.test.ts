// The batch reading helpers of src/data/stream.ts: the line a row starts on (it must agree with csv.ts's scanner,
// which follows DuckDB's strict reader), fingerprints, and the rows that fail the checks, in file order.
import {createHash} from 'node:crypto'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {csvRowLine, detectDialect} from '../../src/data/csv.js'
import {openSource} from '../../src/data/source.js'
import {badRows, lineCursor, resolveBatchInputs, scanPlan} from '../../src/data/stream.js'
import {tempDir} from '../helpers/cli.js'

const TRICKY = [
  '\uFEFFid,note,value',
  '1,plain,10',
  '',
  '2,"two',
  'lines",20',
  '3,"quote "" inside, and comma",30',
  '4,"a\r\nb\r\nc",40',
  '',
  '',
  '5,inch 5",50',
].join('\r\n')

describe('lineCursor', () => {
  it('finds the line of every CSV row as csv.ts does: quoted newlines, blank lines, CRLF, BOM', async () => {
    const dir = await tempDir()
    const path = join(dir, 'tricky.csv')
    await writeFile(path, `${TRICKY}\r\n`)
    const dialect = detectDialect(TRICKY.slice(1), true)!
    const cursor = lineCursor(path, 'csv', dialect)
    const ours: Array<number | undefined> = []
    const theirs: Array<number | undefined> = []
    for (let row = 1; row <= 6; row++) {
      ours.push(await cursor.lineOf(row))
      theirs.push(await csvRowLine(path, dialect, row))
    }
    await cursor.close()
    expect(ours).toEqual(theirs)
    expect(ours).toEqual([2, 4, 6, 7, 12, undefined])
  })

  it('counts non-blank lines of a JSON Lines file', async () => {
    const dir = await tempDir()
    const path = join(dir, 'rows.jsonl')
    await writeFile(path, '{"a": 1}\n\n{"a": 2}\n   \n{"a": 3}\n')
    const cursor = lineCursor(path, 'jsonl')
    expect([await cursor.lineOf(1), await cursor.lineOf(2), await cursor.lineOf(3), await cursor.lineOf(4)]).toEqual([
      1,
      3,
      5,
      undefined,
    ])
    await cursor.close()
  })
})

describe('resolveBatchInputs', () => {
  it('fingerprints each file: size, modification time in nanoseconds, sha256, blank or not', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'a.csv'), 'x,y\n1,2\n')
    await writeFile(join(dir, 'b.csv'), '  \n')
    const inputs = await resolveBatchInputs(dir)
    expect(inputs.format).toBe('csv')
    expect(inputs.files.map(f => [f.label.endsWith('a.csv'), f.size, f.blank])).toEqual([
      [true, 8, false],
      [false, 3, true],
    ])
    expect(inputs.files[0]!.sha256).toBe(createHash('sha256').update('x,y\n1,2\n').digest('hex'))
    expect(inputs.files[0]!.mtime).toMatch(/^\d{19}$/)
  })

  it('returns no files for a glob matching nothing when allowed, and refuses it otherwise', async () => {
    const dir = await tempDir()
    const none = await resolveBatchInputs(join(dir, '*.csv'), {allowNone: true})
    expect(none.files).toEqual([])
    expect(none.none).toContain('no file matches')
    await expect(resolveBatchInputs(join(dir, '*.csv'))).rejects.toThrow('no file matches')
    await expect(resolveBatchInputs(join(dir, 'missing.csv'), {allowNone: true})).rejects.toThrow('file not found')
  })
})

describe('badRows', () => {
  it('lists the rows a model cannot score, in file order, with line, column, value and every value as text', async () => {
    const dir = await tempDir()
    const path = join(dir, 'data.csv')
    const lines = ['id,age,plan']
    for (let i = 1; i <= 50_000; i++) lines.push(`${i},${i % 10_000 === 0 ? 'old' : i % 90},basic`)
    lines.push('50001,,"pro\nplus"', '50002,12x,pro')
    await writeFile(path, `${lines.join('\n')}\n`)
    const source = await openSource(path)
    const plan = scanPlan(source, {
      keep: ['id', 'age', 'plan'],
      inputs: [
        {name: 'age', type: 'numeric'},
        {name: 'plan', type: 'categorical'},
      ],
      typedOutput: false,
    })
    const bad = []
    for await (const row of badRows(plan, source, path)) bad.push(row)
    await source.release()
    expect(bad.map(b => [b.row, b.line, b.column, b.value])).toEqual([
      [10_000, 10_001, 'age', 'old'],
      [20_000, 20_001, 'age', 'old'],
      [30_000, 30_001, 'age', 'old'],
      [40_000, 40_001, 'age', 'old'],
      [50_000, 50_001, 'age', 'old'],
      [50_002, 50_004, 'age', '12x'],
    ])
    expect(bad[0]!.values).toEqual(['10000', 'old', 'basic'])
    expect(bad[0]!.reason).toBe('is not a number')
  })
})
