// The model as a DuckDB scalar function (runtime/batch-udf.ts): one call returns every prediction column, equal to
// the Predictor's output for the same rows, with NULL inputs scored as missing values. It reads and writes
// @duckdb/node-api vectors' private arrays; the last test fails loudly if their layout changes.
import {beforeAll, describe, expect, it} from 'vitest'
import {duckdb, ident} from '../../src/data/duckdb.js'
import {loadFrame} from '../../src/data/load.js'
import {openSource, tableExpression} from '../../src/data/source.js'
import {ALGORITHMS} from '../../src/ml/algorithms.js'
import {takeRows} from '../../src/ml/frame.js'
import {resolveParams} from '../../src/ml/params.js'
import {fitPipeline} from '../../src/ml/pipeline.js'
import {encodeTarget, labelledRows, takeTarget} from '../../src/ml/target.js'
import {exportPipeline} from '../../src/onnx/export.js'
import {registerBatchFunction} from '../../src/runtime/batch-udf.js'
import {Predictor} from '../../src/runtime/predictor.js'
import {SyncPredictor} from '../../src/runtime/udf.js'
import {dataset} from '../helpers/cli.js'
import {loadDataset} from '../helpers/parity.js'

let exported: ReturnType<typeof exportPipeline>

beforeAll(async () => {
  const {features, targetColumn} = await loadDataset('penguins.csv', 'species')
  const target = encodeTarget(targetColumn, 'classification', 'penguins.csv')
  const rows = labelledRows(target)
  const algo = ALGORITHMS.logistic!
  const pipeline = fitPipeline(
    takeRows(features, rows),
    takeTarget(target, rows),
    algo,
    resolveParams('logistic', algo.params, []),
    1,
  )
  exported = exportPipeline(pipeline, 'test')
})

async function batchFunction(name: string) {
  const con = await duckdb()
  const predictor = await SyncPredictor.load(exported.bytes, exported.signature, 'penguins')
  return {con, fn: await registerBatchFunction(con, {name, predictor, model: 'penguins'})}
}

describe('registerBatchFunction', () => {
  it('returns the Predictor’s labels and probabilities for every row, in a struct of the prediction columns', async () => {
    const {con, fn} = await batchFunction('penguins_batch_a')
    expect(fn.columns.map(c => c.name)).toEqual([
      'predicted_species',
      'probability_Adelie',
      'probability_Chinstrap',
      'probability_Gentoo',
    ])
    const source = await openSource(dataset('penguins.csv'))
    const args = Object.fromEntries(
      exported.signature.inputs.map(i => [
        i.name,
        i.type === 'numeric' ? `CAST(${ident(i.name)} AS DOUBLE)` : `CAST(${ident(i.name)} AS VARCHAR)`,
      ]),
    )
    const reader = await con.runAndReadAll(
      `SELECT ${fn.select(ident).join(', ')} FROM (SELECT unnest(${fn.call(args)}) FROM ${source.relation})`,
    )
    expect(reader.columnNames()).toEqual(fn.columns.map(c => c.name))
    const rows = reader.getRowsJS()
    const predictor = await Predictor.load(exported.bytes, exported.signature, 'penguins')
    const frame = await loadFrame(source, predictor.columns)
    await source.release()
    const expected = await predictor.predict(frame)
    expect(rows.map(r => r[0])).toEqual(expected.labels)
    expect(rows.flatMap(r => r.slice(1))).toEqual(Array.from(expected.probabilities!))
    expect(fn.rows).toBe(344)
  })

  it('scores NULL fields as missing values, like empty cells in a file', async () => {
    const {con, fn} = await batchFunction('penguins_batch_b')
    const nulls = Object.fromEntries(
      exported.signature.inputs.map(i => [i.name, `CAST(NULL AS ${i.type === 'numeric' ? 'DOUBLE' : 'VARCHAR'})`]),
    )
    const fromNull = (
      await con.runAndReadAll(
        `SELECT ${fn.select(f => `p.${ident(f)}`).join(', ')} FROM (SELECT ${fn.call(nulls)} AS p)`,
      )
    ).getRowsJS()
    const predictor = await Predictor.load(exported.bytes, exported.signature, 'penguins')
    const empty = await predictor.predict({
      nRows: 1,
      columns: exported.signature.inputs.map(i =>
        i.type === 'numeric'
          ? {kind: 'numeric' as const, name: i.name, values: Float64Array.of(Number.NaN)}
          : {kind: 'categorical' as const, name: i.name, codes: Int32Array.of(-1), levels: []},
      ),
    })
    expect(fromNull[0]).toEqual([empty.labels![0], ...Array.from(empty.probabilities!)])
  })

  it('returns the class index for the label, which select maps to the label, integers included', async () => {
    const {con, fn} = await batchFunction('penguins_batch_c')
    const raw = (await con.runAndReadAll(`SELECT ${fn.call({})} AS p`)).getRowObjectsJS()[0]!.p as Record<
      string,
      unknown
    >
    expect(typeof raw.predicted_species).toBe('number')
    const integer = {...exported.signature, classes: ['3', '7', '11'], labelType: 'integer' as const}
    const predictor = await SyncPredictor.load(exported.bytes, integer, 'penguins')
    const fn2 = await registerBatchFunction(con, {name: 'penguins_batch_d', predictor, model: 'penguins'})
    const sql = `SELECT ${fn2.select(f => `p.${ident(f)}`).join(', ')} FROM (SELECT ${fn2.call({})} AS p)`
    const reader = await con.runAndReadAll(sql)
    expect(reader.columnTypes()[0]!.toString()).toBe('BIGINT')
    expect(['3', '7', '11']).toContain(String(reader.getRowsJS()[0]![0]))
  })

  it('relies on private arrays of @duckdb/node-api vectors (pinned version) and on the readers’ SQL shape', async () => {
    const con = await duckdb()
    const chunk = await (await con.run(`SELECT 1.5::DOUBLE AS d, 2::BIGINT AS b`)).fetchChunk()
    expect((chunk!.getColumnVector(0) as unknown as {items: unknown}).items).toBeInstanceOf(Float64Array)
    expect((chunk!.getColumnVector(1) as unknown as {items: unknown}).items).toBeInstanceOf(BigInt64Array)
    const ints = await (await con.run(`SELECT 3::INTEGER AS i`)).fetchChunk()
    expect((ints!.getColumnVector(0) as unknown as {items: unknown}).items).toBeInstanceOf(Int32Array)
    // stream.ts adds DuckDB's filename option to the readers' calls: each must end with its closing parenthesis.
    for (const format of ['csv', 'jsonl', 'parquet'] as const) {
      const dialect = {delimiter: ',', quote: '"' as const, header: true, names: ['a']}
      expect(tableExpression(['/a'], format, dialect, {a: 'VARCHAR'})).toMatch(/\)$/)
    }
  })
})
