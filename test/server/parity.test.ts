// The same rows give the same predictions through every way of using a model: the server's MLflow route (JSON
// and CSV), its V2 route, and the Predictor on the frame `evaluate` loads — and evaluate's metrics agree with the
// served predictions. Every path runs the same ONNX file through ONNX Runtime on the same doubles.
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {FastifyInstance} from 'fastify'
import {beforeAll, describe, expect, it} from 'vitest'
import {cellText, type Frame} from '../../src/ml/frame.js'
import {predictionColumns, predictionRecord} from '../../src/runtime/outputs.js'
import {Predictor} from '../../src/runtime/predictor.js'
import {evaluate} from '../../src/services/evaluate.js'
import {loadTable, withSource} from '../../src/services/inputs.js'
import {resolveModel} from '../../src/workspace/registry.js'
import {openWorkspace} from '../../src/workspace/workspace.js'
import {dataset} from '../helpers/cli.js'
import {type ServingWorkspace, servingWorkspace, startApp} from './helpers.js'

let ws: ServingWorkspace
let app: FastifyInstance

beforeAll(async () => {
  ws = await servingWorkspace()
  app = (await startApp(ws.dir, ['penguins@production', 'diabetes'], {workers: 2})).app
}, 120_000)

interface Direct {
  frame: Frame
  records: Array<Record<string, number | string>>
}

/** What evaluate does: load the model's columns of the file with DuckDB and run the Predictor on them. */
async function direct(ref: string, file: string, target: string): Promise<Direct> {
  const workspace = await openWorkspace({explicit: ws.dir})
  try {
    const model = resolveModel(workspace, ref)
    const predictor = await Predictor.load(
      await readFile(join(workspace.dir, model.artifactDir, 'model.onnx')),
      model.signature,
      ref,
    )
    const columns = [...predictor.columns, {name: target, kind: 'categorical' as const}]
    const {frame} = await withSource(file, {}, source => loadTable(source, columns))
    const output = await predictor.predict(frame)
    const outputs = predictionColumns(model.signature)
    const k = model.signature.classes?.length ?? 0
    return {frame, records: Array.from({length: frame.nRows}, (_, i) => predictionRecord(output, outputs, i, k))}
  } finally {
    workspace.db.close()
  }
}

/**
 * Labels must be equal; numbers equal up to 1e-12: serve's sessions run one thread each, while evaluate's
 * session sums a tree ensemble over several threads, in another order (differences seen: ~1e-17).
 */
function expectSamePredictions(
  served: ReadonlyArray<Record<string, number | string>>,
  expected: ReadonlyArray<Record<string, number | string>>,
): void {
  expect(served).toHaveLength(expected.length)
  served.forEach((record, i) => {
    expect(Object.keys(record)).toEqual(Object.keys(expected[i]!))
    for (const [k, v] of Object.entries(record)) {
      if (typeof v === 'number') expect(v, `row ${i} ${k}`).toBeCloseTo(expected[i]![k] as number, 12)
      else expect(v, `row ${i} ${k}`).toBe(expected[i]![k])
    }
  })
}

/** The frame's model columns as JSON values (null for missing), row by row. */
function jsonRows(frame: Frame, names: readonly string[]): unknown[][] {
  const columns = names.map(n => frame.columns.find(c => c.name === n)!)
  return Array.from({length: frame.nRows}, (_, i) =>
    columns.map(c => (c.kind === 'numeric' ? (Number.isNaN(c.values[i]!) ? null : c.values[i]) : cellText(c, i))),
  )
}

async function post(url: string, payload: string, type = 'application/json') {
  const r = await app.inject({method: 'POST', url, headers: {'content-type': type}, payload})
  expect(r.statusCode, r.body).toBe(200)
  return r.json()
}

describe('the same rows through every path', () => {
  it('gives the same classifier predictions through /invocations (JSON, CSV), /v2 infer and the Predictor', async () => {
    // Given all 344 penguins, some with missing values
    const file = dataset('penguins.csv')
    const names = ['island', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'sex', 'year']
    const {frame, records} = await direct('penguins@production', file, 'species')
    const rows = jsonRows(frame, names)
    // When
    const split = await post('/invocations', JSON.stringify({dataframe_split: {columns: names, data: rows}}))
    const csv = await post('/invocations', await readFile(file, 'utf8'), 'text/csv')
    const inputs = names.map((name, j) => ({
      name,
      shape: [rows.length],
      datatype: j === 0 || j === 5 ? 'BYTES' : 'FP64',
      data: rows.map(r => r[j]),
    }))
    const v2 = await post('/v2/models/penguins/infer', JSON.stringify({inputs}))
    // Then
    expectSamePredictions(split.predictions, records)
    expect(csv.predictions).toEqual(split.predictions)
    const byColumn = Object.fromEntries(
      (v2.outputs as Array<{name: string; data: unknown[]}>).map(o => [o.name, o.data]),
    )
    const v2Records = records.map((_, i) => Object.fromEntries(Object.keys(byColumn).map(k => [k, byColumn[k]![i]])))
    expect(v2Records).toEqual(split.predictions)
  })

  it('gives the accuracy that evaluate reports for the same file', async () => {
    const file = dataset('penguins.csv')
    const csv = await post('/invocations', await readFile(file, 'utf8'), 'text/csv')
    const {frame} = await direct('penguins@production', file, 'species')
    const truth = frame.columns.find(c => c.name === 'species')!
    const labels = (csv.predictions as Array<{predicted_species: string}>).map(p => p.predicted_species)
    const correct = labels.filter((label, i) => label === cellText(truth, i)).length
    const report = await evaluate({workspace: {explicit: ws.dir}, model: 'penguins@production', data: file, gates: []})
    expect(report.dataset.rows).toBe(labels.length)
    expect(correct / labels.length).toBe(report.metrics.accuracy)
  })

  it('gives the same regression predictions, and the RMSE that evaluate reports', async () => {
    const file = dataset('diabetes.csv')
    const {frame, records} = await direct('diabetes', file, 'progression')
    const csv = await post('/models/diabetes/invocations', await readFile(file, 'utf8'), 'text/csv')
    expectSamePredictions(csv.predictions, records)
    const truth = frame.columns.find(c => c.name === 'progression')!
    const predicted = (csv.predictions as Array<{predicted_progression: number}>).map(p => p.predicted_progression)
    const mse = predicted.reduce((a, p, i) => a + (p - Number(cellText(truth, i))) ** 2, 0) / predicted.length
    const report = await evaluate({workspace: {explicit: ws.dir}, model: 'diabetes', data: file, gates: []})
    // Same predictions, summed in the same order: equal up to the last bits of the square root.
    expect(Math.sqrt(mse)).toBeCloseTo(report.metrics.rmse!, 10)
  })
})
