// predict-batch scoring ahead (parallel/batch-scores.ts): a tree ensemble on at least 1,000,000 rows is scored by
// worker threads that read the input again, and the writer takes each chunk's predictions from shared memory.
// The output must be what scoring on the calling thread (MLPROJ_THREADS=1) writes: the same rows, columns,
// labels and rejects, probabilities and values equal up to the order ONNX Runtime sums the trees in (its threads).
import {readFile} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {duckdb} from '../../src/data/duckdb.js'
import {ALGORITHMS} from '../../src/ml/algorithms.js'
import {categoricalColumn, type Frame, numericColumn} from '../../src/ml/frame.js'
import {resolveParams} from '../../src/ml/params.js'
import {fitPipeline} from '../../src/ml/pipeline.js'
import {encodeTarget} from '../../src/ml/target.js'
import {exportPipeline} from '../../src/onnx/export.js'
import {PrefetchedScores} from '../../src/parallel/batch-scores.js'
import {hashWords, inputStruct, rowHash} from '../../src/runtime/batch-udf.js'
import {SyncPredictor} from '../../src/runtime/udf.js'
import {mlproj, tempDir} from '../helpers/cli.js'
import {type ErrorDoc, generatedRows, type JobRecord, predictBatch, readCsv, writeCsv} from './helpers.js'

const ROWS = 1_100_000
let dir: string
let big: string
/** The same rows with `b` missing every 97th row, an unseen region every 89th and text in `b` every 50,000th. */
let damaged: string

beforeAll(async () => {
  dir = await tempDir('mlproj-ahead-')
  expect((await mlproj(['init'], {cwd: dir})).code).toBe(0)
  const train = generatedRows(3000, 1_000_000)
  const trainFile = await writeCsv(dir, 'train.csv', train.header, train.rows)
  for (const [name, target, ignore] of [
    ['gen', 'label', 'id'],
    ['gen-a', 'a', 'id,label'],
  ] as const) {
    const r = await mlproj(
      [
        'train',
        trainFile,
        '--target',
        target,
        '--ignore',
        ignore,
        '--algo',
        'gbdt',
        '--param',
        'nEstimators=30',
      ].concat(['--save', name, '--quiet']),
      {cwd: dir},
    )
    expect(r.code, r.stderr).toBe(0)
  }
  const {header, rows} = generatedRows(ROWS)
  big = await writeCsv(dir, 'big.csv', header, rows)
  damaged = await writeCsv(
    dir,
    'damaged.csv',
    header,
    rows.map((line, i) => {
      const cells = line.split(',')
      if (i % 97 === 5) cells[2] = ''
      if (i % 89 === 7) cells[3] = 'centre'
      if (i % 50_000 === 123) cells[2] = 'oops'
      return cells.join(',')
    }),
  )
}, 300_000)

/** Runs the job twice, scored ahead and on the calling thread; returns both runs' stderr and outputs. */
async function bothWays(args: readonly string[]) {
  const run = async (threads: string | undefined, out: string) => {
    const r = await mlproj(['predict-batch', ...args, '--output', join(dir, out)], {
      cwd: dir,
      env: {MLPROJ_THREADS: threads},
    })
    return {...r, rows: r.code === 0 ? await readCsv(join(dir, out)) : []}
  }
  const name = `${args[0]}-${basename(args[2]!).replace(/\.\w+$/, '')}`
  const ahead = await run(undefined, `ahead-${name}.csv`)
  const calling = await run('1', `calling-${name}.csv`)
  return {ahead, calling}
}

function expectSameOutput(a: Record<string, string>[], b: Record<string, string>[], numeric: readonly string[]) {
  expect(a.length).toBe(b.length)
  expect(Object.keys(a[0]!)).toEqual(Object.keys(b[0]!))
  let worst = 0
  for (let i = 0; i < a.length; i++) {
    for (const key of Object.keys(a[i]!)) {
      if (numeric.includes(key)) worst = Math.max(worst, Math.abs(Number(a[i]![key]) - Number(b[i]![key])))
      else if (a[i]![key] !== b[i]![key])
        expect({row: i, key, value: a[i]![key]}).toEqual({row: i, key, value: b[i]![key]})
    }
  }
  expect(worst).toBeLessThan(1e-12)
}

describe('predict-batch scores tree ensembles ahead on worker threads', () => {
  it('writes what scoring on the calling thread writes (binary gbdt)', async () => {
    const {ahead, calling} = await bothWays(['gen', '--input', big])
    expect(ahead.code, ahead.stderr).toBe(0)
    expect(calling.code, calling.stderr).toBe(0)
    expect(ahead.stderr).toMatch(/scoring ahead on \d+ threads?/)
    expect(ahead.stderr).not.toMatch(/scoring the rest on the calling thread/)
    expect(calling.stderr).not.toMatch(/scoring ahead/)
    expect(ahead.rows.length).toBe(ROWS)
    expect(ahead.rows[0]).toHaveProperty('predicted_label')
    expect(ahead.rows.some(r => r.predicted_label === '1') && ahead.rows.some(r => r.predicted_label === '0')).toBe(
      true,
    )
    expectSameOutput(ahead.rows, calling.rows, ['probability'])
  }, 120_000)

  it('writes the same rows and rejects with --on-error skip, missing values and unseen categories (regression)', async () => {
    const {ahead, calling} = await bothWays(['gen-a', '--input', damaged, '--on-error', 'skip', '--keep', 'id'])
    expect(ahead.code, ahead.stderr).toBe(0)
    expect(calling.code, calling.stderr).toBe(0)
    expect(ahead.stderr).toMatch(/scoring ahead on \d+ threads?/)
    expect(ahead.stderr).not.toMatch(/scoring the rest on the calling thread/)
    expect(ahead.rows.length).toBe(ROWS - ROWS / 50_000)
    expectSameOutput(ahead.rows, calling.rows, ['predicted_a'])
    const rejects = (way: string) => readFile(join(dir, `${way}-gen-a-damaged.rejects.csv`), 'utf8')
    expect(await rejects('ahead')).toBe(await rejects('calling'))
  }, 120_000)

  it('reads a folder of files and Parquet in the same order as the writer', async () => {
    const {header, rows} = generatedRows(ROWS)
    const folder = join(dir, 'parts')
    await writeCsv(folder, 'part1.csv', header, rows.slice(0, ROWS / 2))
    await writeCsv(folder, 'part2.csv', header, rows.slice(ROWS / 2))
    const parts = await bothWays(['gen', '--input', folder])
    expect(parts.ahead.stderr).toMatch(/scoring ahead on \d+ threads?/)
    expect(parts.ahead.stderr).not.toMatch(/scoring the rest on the calling thread/)
    expectSameOutput(parts.ahead.rows, parts.calling.rows, ['probability'])
    expect(parts.ahead.rows.map(r => r.id)).toEqual(rows.map(line => line.split(',')[0]))
    const parquet = join(dir, 'big.parquet')
    const con = await duckdb()
    await con.run(`COPY (SELECT * FROM read_csv('${big}')) TO '${parquet}' (FORMAT parquet, ROW_GROUP_SIZE 50000)`)
    const fromParquet = await bothWays(['gen', '--input', parquet])
    expect(fromParquet.ahead.stderr).toMatch(/scoring ahead on \d+ threads?/)
    expect(fromParquet.ahead.stderr).not.toMatch(/scoring the rest on the calling thread/)
    expectSameOutput(fromParquet.ahead.rows, fromParquet.calling.rows, ['probability'])
    expect(fromParquet.ahead.rows.map(r => r.id)).toEqual(rows.map(line => line.split(',')[0]))
  }, 180_000)

  it('stops at the first bad row with exit 3 and writes nothing, as on the calling thread', async () => {
    const r = await predictBatch(['gen', '--input', damaged, '--output', join(dir, 'failed.csv')], dir)
    expect(r.code, r.stderr).toBe(3)
    expect((r.json as ErrorDoc).error.message).toMatch(/line 125: column "b" holds "oops"/)
    await expect(readFile(join(dir, 'failed.csv'))).rejects.toThrow()
  }, 120_000)

  it('stops the workers it started when the input lacks a model column (exit 4)', async () => {
    const lines = (await readFile(big, 'utf8')).split('\n')
    // The same rows without column `b`: the workers start before the job reads the input's columns.
    const noB = await writeCsv(
      dir,
      'no-b.csv',
      lines[0]!
        .split(',')
        .filter(c => c !== 'b')
        .join(','),
      lines.slice(1, -1).map(l => l.split(',').toSpliced(2, 1).join(',')),
    )
    const started = Date.now()
    const r = await predictBatch(['gen', '--input', noB, '--output', join(dir, 'no-b-out.csv')], dir)
    expect(r.code, r.stderr).toBe(4)
    expect((r.json as ErrorDoc).error.message).toMatch(/lacks column "b"/)
    expect(r.stderr).toMatch(/scoring ahead on/)
    expect(Date.now() - started).toBeLessThan(25_000)
    await expect(readFile(join(dir, 'no-b-out.csv'))).rejects.toThrow()
  }, 120_000)

  it('rejects an MLPROJ_THREADS that is not a whole number ≥ 1 with exit 2', async () => {
    const r = await mlproj(['predict-batch', 'gen', '--input', big, '--output', join(dir, 'x.csv')], {
      cwd: dir,
      env: {MLPROJ_THREADS: 'many'},
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/MLPROJ_THREADS="many"/)
  })

  it('records the job as any other', async () => {
    const r = await predictBatch(['gen', '--input', big, '--output', join(dir, 'recorded.csv')], dir)
    expect(r.code, r.stderr).toBe(0)
    const job = r.json as JobRecord
    expect(job.status).toBe('finished')
    expect(job.rows).toEqual({in: ROWS, out: ROWS, rejected: 0})
  }, 120_000)
})

describe('PrefetchedScores', () => {
  it('scores the rest itself when the rows it is given are not the rows the workers read', async () => {
    const train = generatedRows(2000, 7)
    const features: Frame = {
      nRows: train.rows.length,
      columns: [
        numericColumn(
          'a',
          Float64Array.from(train.rows, l => Number(l.split(',')[1])),
        ),
        numericColumn(
          'b',
          Float64Array.from(train.rows, l => Number(l.split(',')[2])),
        ),
        categoricalColumn(
          'region',
          Int32Array.from(train.rows, l => ['north', 'south', 'east', 'west'].indexOf(l.split(',')[3]!)),
          ['north', 'south', 'east', 'west'],
        ),
      ],
    }
    const y = numericColumn(
      'label',
      Float64Array.from(train.rows, l => Number(l.split(',')[4])),
    )
    const gbdt = ALGORITHMS.gbdt!
    const pipeline = fitPipeline(
      features,
      encodeTarget(y, 'classification', 'inline'),
      gbdt,
      resolveParams('gbdt', gbdt.params, ['nEstimators=10']),
      1,
    )
    const {bytes, signature} = exportPipeline(pipeline, 'test')
    const fallback = await SyncPredictor.load(bytes, signature, 'inline')
    const file = await writeCsv(await tempDir('mlproj-ahead-unit-'), 'rows.csv', train.header, train.rows)
    const args = {a: 'CAST(a AS DOUBLE)', b: 'CAST(b AS DOUBLE)', region: 'CAST(region AS VARCHAR)'}
    const reasons: string[] = []
    // Each row's hash as the writer's query computes it, over the rows as they are or with `a` moved.
    const hashesOf = async (inputs: Record<string, string>): Promise<Int32Array> => {
      const result = await (await duckdb()).run(`SELECT ${rowHash(signature, inputs)} FROM read_csv('${file}')`)
      const out = new Int32Array(2 * train.rows.length)
      let at = 0
      for (;;) {
        const chunk = await result.fetchChunk()
        if (!chunk || chunk.rowCount === 0) break
        out.set(hashWords(chunk.getColumnVector(0), chunk.rowCount), at)
        at += 2 * chunk.rowCount
      }
      return out
    }
    const same = await hashesOf(args)
    const moved = await hashesOf({...args, a: 'CAST(a AS DOUBLE) + 1'})
    const ahead = PrefetchedScores.spawn({bytes, signature, model: 'inline', threads: 1})
    ahead.begin({
      sql: `SELECT ${inputStruct(signature, args)}, ${rowHash(signature, args)} FROM read_csv('${file}')`,
      fallback,
      onFallback: reason => reasons.push(reason),
    })
    try {
      const part = (from: number, to: number, shift = 0): Frame => ({
        nRows: to - from,
        columns: features.columns.map(c =>
          c.kind === 'numeric'
            ? numericColumn(
                c.name,
                c.values.slice(from, to).map(v => v + shift),
              )
            : categoricalColumn(c.name, c.codes.slice(from, to), c.levels),
        ),
      })
      const first = ahead.predict(part(0, 1000), same.subarray(0, 2000))
      expect(reasons).toEqual([])
      expect(Array.from(first.classIndex!)).toEqual(Array.from(fallback.predict(part(0, 1000)).classIndex!))
      // Rows 1000–1999 with `a` moved: not the rows the workers scored.
      const rows = part(1000, 2000, 1)
      const second = ahead.predict(rows, moved.subarray(2000, 4000))
      expect(reasons).toEqual(['row 1001 differs'])
      const expected = fallback.predict(rows)
      expect(Array.from(second.probabilities!)).toEqual(Array.from(expected.probabilities!))
      expect(ahead.rowsAhead).toBe(1000)
    } finally {
      await ahead.close()
    }
  }, 60_000)
})
