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
    const reader = await con.runAndReadAll(`SELECT unnest(${fn.call(args)}) FROM ${source.relation}`)
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
    const fromNull = (await con.runAndReadAll(`SELECT unnest(${fn.call(nulls)})`)).getRowsJS()
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

  it('relies on private arrays of @duckdb/node-api vectors (pinned version) and on the readers’ SQL shape', async () => {
    const con = await duckdb()
    const chunk = await (await con.run(`SELECT 1.5::DOUBLE AS d, 2::BIGINT AS b`)).fetchChunk()
    expect((chunk!.getColumnVector(0) as unknown as {items: unknown}).items).toBeInstanceOf(Float64Array)
    expect((chunk!.getColumnVector(1) as unknown as {items: unknown}).items).toBeInstanceOf(BigInt64Array)
    // stream.ts adds DuckDB's filename option to the readers' calls: each must end with its closing parenthesis.
    for (const format of ['csv', 'jsonl', 'parquet'] as const) {
      const dialect = {delimiter: ',', quote: '"' as const, header: true, names: ['a']}
      expect(tableExpression(['/a'], format, dialect, {a: 'VARCHAR'})).toMatch(/\)$/)
    }
  })
})
