// The Predictor fetches only the probabilities of models whose label is classes[argmax(probabilities)] (mlproj's
// own graphs, marked in the signature) and derives the label itself: the labels must be the model's own, row for
// row, and a row with a NaN probability must fall back to the model's label output.
import {beforeAll, describe, expect, it} from 'vitest'
import {ALGORITHMS} from '../../src/ml/algorithms.js'
import {type Frame, numericColumn, takeRows} from '../../src/ml/frame.js'
import {resolveParams} from '../../src/ml/params.js'
import {fitPipeline} from '../../src/ml/pipeline.js'
import {encodeTarget, labelledRows, takeTarget} from '../../src/ml/target.js'
import {exportPipeline} from '../../src/onnx/export.js'
import type {Signature} from '../../src/onnx/signature.js'
import {Predictor} from '../../src/runtime/predictor.js'
import {SyncPredictor} from '../../src/runtime/udf.js'
import {damaged, loadDataset} from '../helpers/parity.js'

let exported: ReturnType<typeof exportPipeline>
let features: Frame

beforeAll(async () => {
  const data = await loadDataset('penguins.csv', 'species')
  features = data.features
  const target = encodeTarget(data.targetColumn, 'classification', 'penguins.csv')
  const rows = labelledRows(target)
  const algo = ALGORITHMS.logistic!
  const params = resolveParams('logistic', algo.params, [])
  exported = exportPipeline(fitPipeline(takeRows(features, rows), takeTarget(target, rows), algo, params, 1), 'test')
})

/** The same model, read as a model trained elsewhere would be: its label comes from the label output. */
function withoutRule(signature: Signature): Signature {
  const {labelFromProbabilities, ...outputs} = signature.outputs
  expect(labelFromProbabilities).toBe(true)
  return {...signature, outputs}
}

describe('labels derived from the probabilities', () => {
  it('equal the model’s label output on every row, also with missing values and unseen categories', async () => {
    const derived = await Predictor.load(exported.bytes, exported.signature, 'penguins')
    const fetched = await Predictor.load(exported.bytes, withoutRule(exported.signature), 'penguins')
    const sync = await SyncPredictor.load(exported.bytes, exported.signature, 'penguins')
    for (const frame of [features, damaged(features)]) {
      const a = await derived.predict(frame)
      const b = await fetched.predict(frame)
      expect(a.labels).toEqual(b.labels)
      expect(Array.from(a.classIndex!)).toEqual(Array.from(b.classIndex!))
      expect(Array.from(a.probabilities!)).toEqual(Array.from(b.probabilities!))
      expect(sync.predict(frame).labels).toEqual(b.labels)
    }
  })

  it('come from the model’s label output when a probability is NaN', async () => {
    // Infinite inputs give infinite scores, and softmax(∞ − ∞) is NaN.
    const frame: Frame = {
      nRows: 2,
      columns: features.columns.map(c =>
        c.kind === 'numeric'
          ? numericColumn(c.name, Float64Array.of(Number.POSITIVE_INFINITY, 40))
          : takeRows(features, Int32Array.of(0, 1)).columns.find(x => x.name === c.name)!,
      ),
    }
    const derived = await Predictor.load(exported.bytes, exported.signature, 'penguins')
    const fetched = await Predictor.load(exported.bytes, withoutRule(exported.signature), 'penguins')
    const b = await fetched.predict(frame)
    expect(Array.from(b.probabilities!.subarray(0, 3)).some(Number.isNaN)).toBe(true)
    const a = await derived.predict(frame)
    expect(a.labels).toEqual(b.labels)
    const sync = await SyncPredictor.load(exported.bytes, exported.signature, 'penguins')
    expect(sync.predict(frame).labels).toEqual(b.labels)
  })
})
