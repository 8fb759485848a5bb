// predict-batch predicts what evaluate and the model's own parity tests predict (issue #4, "what must hold" 4): for
// models of each kind saved in a workspace, the CLI's output on a dataset — clean, and with missing values and
// categories never seen in training — equals ONNX Runtime run the way evaluate runs it (Predictor on loadFrame)
// exactly, equals the in-memory TypeScript model within the parity tests' 1e-5, and gives evaluate's metrics.
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {loadFrame} from '../../src/data/load.js'
import {openSource} from '../../src/data/source.js'
import {ALGORITHMS} from '../../src/ml/algorithms.js'
import {cellText, type Frame} from '../../src/ml/frame.js'
import {resolveParams} from '../../src/ml/params.js'
import {type FittedPipeline, fitPipeline, predictPipeline} from '../../src/ml/pipeline.js'
import {encodeTarget, inferTask, labelledRows, takeTarget} from '../../src/ml/target.js'
import {exportPipeline} from '../../src/onnx/export.js'
import type {Signature} from '../../src/onnx/signature.js'
import {predictionColumns} from '../../src/runtime/outputs.js'
import {type ModelOutput, Predictor} from '../../src/runtime/predictor.js'
import {dataset, mlproj, mlprojJson, tempDir} from '../helpers/cli.js'
import {foreignIrisModel} from '../helpers/foreign-model.js'
import {damaged, loadDataset, maxAbsDiff, TOLERANCE} from '../helpers/parity.js'
import {predictBatch, readCsv} from './helpers.js'

let dir: string

beforeAll(async () => {
  dir = await tempDir('mlproj-batch-parity-')
  expect((await mlproj(['init'], {cwd: dir})).code).toBe(0)
})

/** Fits `algo` on every labelled row of the dataset, exports it and saves it in the workspace as `name`. */
async function savedModel(name: string, file: string, target: string, algo: string) {
  const {features, targetColumn} = await loadDataset(file, target)
  const encoded = encodeTarget(targetColumn, inferTask(targetColumn), file)
  const rows = labelledRows(encoded)
  const spec = ALGORITHMS[algo]!
  const pipeline = fitPipeline(
    {nRows: rows.length, columns: features.columns.map(c => takeColumnRows(c, rows))},
    takeTarget(encoded, rows),
    spec,
    resolveParams(algo, spec.params, algo === 'gbdt' || algo === 'forest' ? ['nEstimators=20'] : []),
    7,
  )
  const exported = exportPipeline(pipeline, 'test')
  const path = join(dir, `${name}.onnx`)
  await writeFile(path, exported.bytes)
  const saved = await mlproj(['save', '--onnx', path, '--name', name], {cwd: dir})
  expect(saved.code, saved.stderr).toBe(0)
  return {pipeline, exported}
}

function takeColumnRows<C extends Frame['columns'][number]>(column: C, rows: Int32Array): C {
  if (column.kind === 'numeric') return {...column, values: Float64Array.from(rows, i => column.values[i]!)}
  return {...column, codes: Int32Array.from(rows, i => column.codes[i]!)}
}

/** Writes a frame as CSV (numbers in full precision, missing as empty), for the rows that predict-batch reads. */
async function frameCsv(frame: Frame, path: string): Promise<void> {
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)
  const lines = [frame.columns.map(c => quote(c.name)).join(',')]
  for (let i = 0; i < frame.nRows; i++) lines.push(frame.columns.map(c => quote(cellText(c, i) ?? '')).join(','))
  await writeFile(path, `${lines.join('\n')}\n`)
}

/** ONNX Runtime the way evaluate runs it: the Predictor on the columns loadFrame reads from the file. */
async function evaluatePath(bytes: Uint8Array, signature: Signature, file: string) {
  const predictor = await Predictor.load(bytes, signature, 'test')
  const source = await openSource(file)
  try {
    const frame = await loadFrame(source, predictor.columns)
    return {frame, output: await predictor.predict(frame)}
  } finally {
    await source.release()
  }
}

/** The prediction columns of a predict-batch CSV output, checked against a ModelOutput. */
function expectSameAsOutput(rows: Record<string, string>[], output: ModelOutput, signature: Signature) {
  const k = signature.classes?.length ?? 0
  for (const column of predictionColumns(signature)) {
    const got = rows.map(r => r[column.name]!)
    if (column.kind === 'label') expect(got).toEqual(output.labels)
    // Exactly equal: same graph, same inputs, and CSV holds doubles in shortest round-trip form.
    else if (column.kind === 'value') expect(got.map(Number)).toEqual(Array.from(output.values!))
    else expect(got.map(Number)).toEqual(rows.map((_, i) => output.probabilities![i * k + column.classIndex]!))
  }
}

/** The in-memory model's predictions against the batch output: same labels, values within the parity tolerance. */
function expectSameAsPipeline(rows: Record<string, string>[], pipeline: FittedPipeline, frame: Frame) {
  const expected = predictPipeline(pipeline, frame)
  const columns = predictionColumns(exportPipeline(pipeline, 'test').signature)
  if (pipeline.target.task === 'regression') {
    expect(
      maxAbsDiff(
        rows.map(r => Number(r[columns[0]!.name])),
        expected.values!,
      ),
    ).toBeLessThan(TOLERANCE)
    return
  }
  const classes = pipeline.target.classes!
  expect(rows.map(r => r[columns[0]!.name])).toEqual(Array.from(expected.labels!, i => classes[i]))
  const k = classes.length
  for (const column of columns.slice(1)) {
    if (column.kind !== 'probability') continue
    const want = Array.from({length: frame.nRows}, (_, i) => expected.probabilities![i * k + column.classIndex]!)
    expect(
      maxAbsDiff(
        rows.map(r => Number(r[column.name])),
        want,
      ),
    ).toBeLessThan(TOLERANCE)
  }
}

const CASES = [
  {name: 'penguins-species', file: 'penguins.csv', target: 'species', algo: 'logistic', metric: 'accuracy'},
  {name: 'cancer-gbdt', file: 'breast_cancer.csv', target: 'diagnosis', algo: 'gbdt', metric: 'accuracy'},
  {name: 'penguins-sex-forest', file: 'penguins.csv', target: 'sex', algo: 'forest', metric: 'accuracy'},
  {name: 'diabetes-linear', file: 'diabetes.csv', target: 'progression', algo: 'linear', metric: 'rmse'},
  {name: 'penguins-mass-gbdt', file: 'penguins.csv', target: 'body_mass_g', algo: 'gbdt', metric: 'rmse'},
]

describe('predict-batch predicts what evaluate and the in-memory model predict', () => {
  for (const c of CASES) {
    it(`for ${c.algo} on ${c.file} → ${c.target}, clean and damaged rows`, async () => {
      const {pipeline, exported} = await savedModel(c.name, c.file, c.target, c.algo)
      const clean = dataset(c.file)
      // Damaged: every third numeric cell blank, categories replaced by one never seen or left out.
      const {features} = await loadDataset(c.file, c.target)
      const damagedFile = join(dir, `${c.name}-damaged-input.csv`)
      await frameCsv(damaged(features), damagedFile)
      for (const file of [clean, damagedFile]) {
        const out = join(dir, `${c.name}-${file === clean ? 'clean' : 'damaged'}.csv`)
        const r = await predictBatch([c.name, '--input', file, '--output', out], dir)
        expect(r.code, r.stderr).toBe(0)
        const rows = await readCsv(out)
        const {frame, output} = await evaluatePath(exported.bytes, exported.signature, file)
        expect(rows).toHaveLength(frame.nRows)
        expectSameAsOutput(rows, output, exported.signature)
        expectSameAsPipeline(rows, pipeline, frame)
      }
    })
  }

  it('gives the metrics evaluate reports, computed from its output', async () => {
    for (const c of CASES.slice(0, 1).concat(CASES.slice(3, 4))) {
      const evaluation = await mlprojJson<{metrics: Record<string, number>}>(['evaluate', c.name, dataset(c.file)], {
        cwd: dir,
      })
      expect(evaluation.code, evaluation.stderr).toBe(0)
      const rows = (await readCsv(join(dir, `${c.name}-clean.csv`))).filter(r => r[c.target] !== '')
      const predicted = `predicted_${c.target}`
      const ours =
        c.metric === 'accuracy'
          ? rows.filter(r => r[predicted] === r[c.target]).length / rows.length
          : Math.sqrt(rows.reduce((s, r) => s + (Number(r[predicted]) - Number(r[c.target])) ** 2, 0) / rows.length)
      // Summation order differs between evaluate's metric code and this one: 1e-12 relative.
      expect(Math.abs(ours - evaluation.json.metrics[c.metric]!)).toBeLessThan(1e-12 * Math.max(1, ours))
    }
  })

  it('for a model trained elsewhere: one [N, 4] float input, int64 labels, float probabilities', async () => {
    const path = join(dir, 'foreign.onnx')
    await writeFile(path, foreignIrisModel())
    const columns = 'sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)'
    const saved = await mlproj(
      ['save', '--onnx', path, '--name', 'foreign', '--columns', columns, '--target', 'species_code'],
      {cwd: dir},
    )
    expect(saved.code, saved.stderr).toBe(0)
    const out = join(dir, 'foreign.csv')
    const r = await predictBatch(['foreign', '--input', dataset('iris.csv'), '--output', out], dir)
    expect(r.code, r.stderr).toBe(0)
    const show = await mlprojJson<{versions: Array<{signature: Signature}>}>(['models', 'show', 'foreign'], {cwd: dir})
    const signature = show.json.versions[0]!.signature
    const {output} = await evaluatePath(foreignIrisModel(), signature, dataset('iris.csv'))
    const rows = await readCsv(out)
    expect(Object.keys(rows[0]!).slice(-4)).toEqual([
      'predicted_species_code',
      'probability_0',
      'probability_1',
      'probability_2',
    ])
    expectSameAsOutput(rows, output, signature)
  })
})
