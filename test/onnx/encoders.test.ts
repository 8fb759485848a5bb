// Categories encoded before the run (onnx/encoders.ts): the rewritten graph takes the LabelEncoder's output as an
// input, and must predict exactly what the model predicts from the strings, for known, unseen and missing values.
import {describe, expect, it} from 'vitest'
import {ALGORITHMS} from '../../src/ml/algorithms.js'
import {categoricalColumn, type Frame, numericColumn} from '../../src/ml/frame.js'
import {resolveParams} from '../../src/ml/params.js'
import {fitPipeline} from '../../src/ml/pipeline.js'
import {Rng} from '../../src/ml/rng.js'
import {encodeTarget} from '../../src/ml/target.js'
import {withEncodedInputs} from '../../src/onnx/encoders.js'
import {exportPipeline} from '../../src/onnx/export.js'
import {GraphBuilder} from '../../src/onnx/graph.js'
import {Predictor} from '../../src/runtime/predictor.js'

const REGIONS = ['north', 'south', 'east', 'west']
const PLANS = ['basic', 'premium']

/** n rows: x numeric; region and plan categorical (code -1: missing). */
function rows(n: number, seed: number, levels = REGIONS): Frame {
  const rng = new Rng(seed)
  const random = () => rng.nextFloat()
  const x = Float64Array.from({length: n}, () => random() * 10)
  const region = Int32Array.from({length: n}, () => Math.floor(random() * (levels.length + 1)) - 1)
  const plan = Int32Array.from({length: n}, () => Math.floor(random() * PLANS.length))
  return {
    nRows: n,
    columns: [
      numericColumn('x', x),
      categoricalColumn('region', region, levels),
      categoricalColumn('plan', plan, PLANS),
    ],
  }
}

async function bothWays(algo: 'gbdt' | 'logistic', task: 'classification' | 'regression') {
  const train = rows(600, 1)
  const region = train.columns[1]!
  const y = Float64Array.from({length: train.nRows}, (_, i) => {
    const code = region.kind === 'categorical' ? region.codes[i]! : 0
    const v = (train.columns[0]!.kind === 'numeric' ? train.columns[0]!.values[i]! : 0) + 3 * code
    return task === 'regression' ? v : Number(v > 6)
  })
  const spec = ALGORITHMS[algo]!
  const extra = algo === 'gbdt' ? ['nEstimators=8'] : []
  const pipeline = fitPipeline(
    train,
    encodeTarget(numericColumn('y', y), task, 'inline'),
    spec,
    resolveParams(algo, spec.params, extra),
    1,
  )
  const {bytes, signature} = exportPipeline(pipeline, 'test')
  return {
    bytes,
    signature,
    plain: await Predictor.load(bytes, signature, 'inline'),
    encoded: await Predictor.load(bytes, signature, 'inline', {}, true),
  }
}

describe('categories encoded before the run', () => {
  for (const [algo, task] of [
    ['gbdt', 'classification'],
    ['gbdt', 'regression'],
    ['logistic', 'classification'],
  ] as const) {
    it(`predicts what the strings predict: ${algo} ${task}, with unseen and missing categories`, async () => {
      const {bytes, plain, encoded} = await bothWays(algo, task)
      expect(encoded.bytes).not.toBe(bytes)
      expect(encoded.bytes.length).toBeLessThan(bytes.length)
      // "mars" and "" were never seen in training; code -1 is a missing value.
      const frame = rows(3000, 2, [...REGIONS, 'mars', ''])
      const a = await plain.predict(frame)
      const b = await encoded.predict(frame)
      expect(Array.from(b.probabilities ?? b.values!)).toEqual(Array.from(a.probabilities ?? a.values!))
      expect(b.labels).toEqual(a.labels)
    })
  }

  it('leaves a string input alone unless a LabelEncoder is all that reads it', () => {
    const g = new GraphBuilder()
    const x = g.input('c', 'string', ['N', 1])
    const codes = g.op(
      'LabelEncoder',
      [x],
      'codes',
      {keys_strings: ['a', 'b'], values_floats: {floats: [0, 1]}, default_float: {float: Number.NaN}},
      'ai.onnx.ml',
    )
    const same = g.op('Equal', [x, g.strings('b', ['b'], [1])], 'is_b')
    g.op('Cast', [codes], 'out', {to: 11})
    g.op('Cast', [same], 'flag', {to: 11})
    g.output('out', 'double', ['N', 1])
    g.output('flag', 'double', ['N', 1])
    expect(
      withEncodedInputs(g.encode({graphName: 'two readers', docString: '', metadata: {}, producerVersion: 'test'}), [
        'c',
      ]),
    ).toBeUndefined()
  })
})
