// A tree ensemble scores its rows sorted so that alike rows are next to each other (row-order.ts), which changes how
// fast ONNX Runtime walks the trees and nothing else: each row's outputs must be those it gets in file order.
import {describe, expect, it} from 'vitest'
import {ALGORITHMS} from '../../src/ml/algorithms.js'
import {
  type CategoricalColumn,
  type Column,
  categoricalColumn,
  type Frame,
  numericColumn,
  takeRows,
} from '../../src/ml/frame.js'
import {resolveParams} from '../../src/ml/params.js'
import {fitPipeline} from '../../src/ml/pipeline.js'
import {encodeTarget, labelledRows, takeTarget} from '../../src/ml/target.js'
import {exportPipeline} from '../../src/onnx/export.js'
import {type ModelOutput, Predictor} from '../../src/runtime/predictor.js'
import {alikeOrder, inFrameOrder} from '../../src/runtime/row-order.js'
import {SyncPredictor} from '../../src/runtime/udf.js'
import {damaged, loadDataset} from '../helpers/parity.js'

describe('alikeOrder', () => {
  it('sorts by the columns with fewest distinct values first, missing first, ties in their order', () => {
    const frame: Frame = {
      nRows: 7,
      columns: [
        numericColumn('charges', Float64Array.of(10.5, 99.25, 10.5, 50, 3.75, Number.NaN, 50)),
        numericColumn('calls', Float64Array.of(3, 1, 2, 1, Number.NaN, 1, 1)),
        categoricalColumn('plan', Int32Array.of(1, 0, 1, -1, 0, 1, 1), ['basic', 'premium']),
      ],
    }
    // plan (3 codes with missing) first, then calls (4), then charges (a range of numbers).
    expect(Array.from(alikeOrder(frame))).toEqual([3, 4, 1, 5, 6, 2, 0])
  })

  it('gives a permutation of the rows, whatever the columns hold', () => {
    const n = 5000
    const values = Float64Array.from({length: n}, (_, i) => (i % 7 === 0 ? Number.NaN : Math.sin(i) * 1e6))
    const huge = Float64Array.from({length: n}, (_, i) => (i % 2 ? Number.MAX_VALUE : -Number.MAX_VALUE))
    const frame: Frame = {
      nRows: n,
      columns: [
        numericColumn('x', values),
        numericColumn('huge', huge),
        numericColumn('none', new Float64Array(n).fill(Number.NaN)),
        categoricalColumn(
          'c',
          Int32Array.from({length: n}, (_, i) => (i % 7) - 1),
          ['a', 'b', 'c', 'd', 'e', 'f'],
        ),
      ],
    }
    const order = alikeOrder(frame)
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({length: n}, (_, i) => i))
  })
})

describe('inFrameOrder', () => {
  it('puts each scored row back where its order says it came from', () => {
    const scored: ModelOutput = {
      nRows: 3,
      labels: ['c', 'a', 'b'],
      classIndex: Int32Array.of(2, 0, 1),
      probabilities: Float64Array.of(0.1, 0.9, 0.8, 0.2, 0.4, 0.6),
      values: Float64Array.of(30, 10, 20),
    }
    const back = inFrameOrder(scored, Int32Array.of(2, 0, 1))
    expect(back.labels).toEqual(['a', 'b', 'c'])
    expect(Array.from(back.classIndex!)).toEqual([0, 1, 2])
    expect(Array.from(back.probabilities!)).toEqual([0.8, 0.2, 0.4, 0.6, 0.1, 0.9])
    expect(Array.from(back.values!)).toEqual([10, 20, 30])
  })
})

/** The dataset's rows, whole and damaged (missing values, unseen categories), repeated to `n` rows, shuffled. */
function manyRows(features: Frame, n: number): Frame {
  const both = [features, damaged(features)]
  const rows = Int32Array.from({length: n}, (_, i) => (i * 7919) % features.nRows)
  const parts = both.map(f => takeRows(f, rows.subarray(0, n / 2)))
  const columns = parts[0]!.columns.map((c, k): Column => {
    const other = parts[1]!.columns[k]!
    if (c.kind === 'numeric') {
      const values = new Float64Array(n)
      values.set(c.values)
      values.set((other as typeof c).values, n / 2)
      return numericColumn(c.name, values)
    }
    const o = other as CategoricalColumn
    const codes = new Int32Array(n)
    codes.set(c.codes)
    // The damaged column's levels extend the whole one's, so its codes mean the same.
    codes.set(o.codes, n / 2)
    return categoricalColumn(c.name, codes, o.levels)
  })
  return {nRows: n, columns}
}

/** Scores the frame in slices too small to be sorted, in file order, and joins the outputs. */
async function inFileOrder(predictor: Predictor, frame: Frame): Promise<ModelOutput> {
  const slice = 500
  const parts: ModelOutput[] = []
  for (let s = 0; s < frame.nRows; s += slice) {
    const rows = Int32Array.from({length: Math.min(slice, frame.nRows - s)}, (_, i) => s + i)
    parts.push(await predictor.predict(takeRows(frame, rows)))
  }
  const join = (pick: (o: ModelOutput) => Float64Array | Int32Array | undefined) =>
    parts.flatMap(p => Array.from(pick(p) ?? []))
  return {
    nRows: frame.nRows,
    labels: parts.flatMap(p => p.labels ?? []),
    classIndex: Int32Array.from(join(p => p.classIndex)),
    probabilities: Float64Array.from(join(p => p.probabilities)),
    values: Float64Array.from(join(p => p.values)),
  }
}

describe('a tree ensemble scored in alike order', () => {
  for (const {file, target, task} of [
    {file: 'penguins.csv', target: 'species', task: 'classification' as const},
    {file: 'diabetes.csv', target: 'progression', task: 'regression' as const},
  ]) {
    it(`gives every row the outputs it gets in file order (${file} → ${target}, gbdt)`, async () => {
      const data = await loadDataset(file, target)
      const encoded = encodeTarget(data.targetColumn, task, file)
      const labelled = labelledRows(encoded)
      const algo = ALGORITHMS.gbdt!
      const params = resolveParams('gbdt', algo.params, ['nEstimators=30'])
      const model = fitPipeline(takeRows(data.features, labelled), takeTarget(encoded, labelled), algo, params, 1)
      const {bytes, signature} = exportPipeline(model, 'test')
      const frame = manyRows(data.features, 4096)
      const predictor = await Predictor.load(bytes, signature, file)
      const expected = await inFileOrder(predictor, frame)
      const sync = await SyncPredictor.load(bytes, signature, file)
      for (const got of [await predictor.predict(frame), sync.predict(frame)]) {
        if (task === 'regression') {
          expect(Array.from(got.values!)).toEqual(Array.from(expected.values!))
          continue
        }
        expect(got.labels).toEqual(expected.labels)
        expect(Array.from(got.classIndex!)).toEqual(Array.from(expected.classIndex!))
        expect(Array.from(got.probabilities!)).toEqual(Array.from(expected.probabilities!))
      }
      // The frame is not in alike order already: the test compares two different orders.
      expect(Array.from(alikeOrder(frame).subarray(0, 50))).not.toEqual(Array.from({length: 50}, (_, i) => i))
    })
  }
})
