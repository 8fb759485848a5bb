// ONNX parity of `--algo gbdt`: ONNX Runtime running the exported TreeEnsemble predicts what the in-memory trees
// predict — identical labels; probabilities and values within 1e-5 (thresholds, leaf weights and the sum are
// double precision in the graph, so real differences are the ~1e-13 of a different summation order) — on
// binary, multiclass and regression targets, including rows with missing values and categories never seen in
// training, and on ensembles of 500 trees or of trees with thousands of nodes. Same data and seed give
// byte-identical files. The data helpers follow test/onnx/parity.test.ts.
import {describe, expect, it} from 'vitest'
import {ALGORITHMS} from '../../src/ml/algorithms.js'
import {categoricalColumn, type Frame, numericColumn, takeRows} from '../../src/ml/frame.js'
import {resolveParams} from '../../src/ml/params.js'
import {fitPipeline} from '../../src/ml/pipeline.js'
import {Rng} from '../../src/ml/rng.js'
import {trainTestSplit} from '../../src/ml/split.js'
import {encodeTarget, inferTask, labelledRows, type Task, takeTarget} from '../../src/ml/target.js'
import {exportPipeline} from '../../src/onnx/export.js'
import {decodeModel} from '../../src/onnx/graph.js'
import {damaged, expectParity, loadDataset} from '../helpers/parity.js'

const GBDT = ALGORITHMS.gbdt!

async function fitCase(file: string, targetName: string, params: readonly string[] = [], seed = 42) {
  const {features, targetColumn} = await loadDataset(file, targetName)
  const task = inferTask(targetColumn)
  const encoded = encodeTarget(targetColumn, task, file)
  const rows = labelledRows(encoded)
  const target = takeTarget(encoded, rows)
  const frame = takeRows(features, rows)
  const split = trainTestSplit(frame.nRows, 0.25, seed, target.task === 'classification' ? target.y : undefined)
  const pipeline = fitPipeline(
    takeRows(frame, split.train),
    takeTarget(target, split.train),
    GBDT,
    resolveParams('gbdt', GBDT.params, params),
    seed,
  )
  return {pipeline, test: takeRows(frame, split.test), task}
}

const CASES: Array<{file: string; target: string; task: Task; kind: string}> = [
  {file: 'breast_cancer.csv', target: 'diagnosis', task: 'classification', kind: 'binary'},
  {file: 'penguins.csv', target: 'sex', task: 'classification', kind: 'binary'},
  {file: 'iris.csv', target: 'species', task: 'classification', kind: 'multiclass'},
  {file: 'penguins.csv', target: 'species', task: 'classification', kind: 'multiclass'},
  {file: 'diabetes.csv', target: 'progression', task: 'regression', kind: 'regression'},
  {file: 'penguins.csv', target: 'body_mass_g', task: 'regression', kind: 'regression'},
]

describe('ONNX Runtime reproduces gbdt', () => {
  for (const {file, target, task, kind} of CASES) {
    it(`agrees on ${kind} ${file} → ${target}, clean and damaged rows`, async () => {
      // minDataInLeaf 5 lets these small sets grow trees with many splits, on categories and missing values too
      const {pipeline, test, task: inferred} = await fitCase(file, target, ['minDataInLeaf=5', 'nEstimators=40'])
      expect(inferred).toBe(task)
      await expectParity(pipeline, [test, damaged(test)])
    })
  }

  it('agrees on a model whose categorical feature has predictive missing values', async () => {
    // Given a category (a, b, c) missing in every fourth row, and y ≈ −1 where missing, +1 elsewhere: the split
    // "missing | {a, b, c}" comes back in many trees, and whenever rounding let its form "only missing values on
    // the left" win by an ulp it was written with an empty category set (6 of 100 trees here), which ONNX
    // Runtime refuses to load ("membership node must have at least one membership value")
    const n = 200
    const rng = new Rng(1)
    const codes = Int32Array.from({length: n}, (_, i) => (i % 4 === 0 ? -1 : rng.nextInt(3)))
    const y = Float64Array.from(codes, c => (c < 0 ? -1 : 1) + 0.3 * rng.normal())
    const features: Frame = {nRows: n, columns: [categoricalColumn('c', codes, ['a', 'b', 'c'])]}
    const target = encodeTarget(numericColumn('y', y), 'regression', 'inline')
    // When
    const pipeline = fitPipeline(features, target, GBDT, resolveParams('gbdt', GBDT.params, []), 1)
    // Then
    await expectParity(pipeline, [features, damaged(features)])
  })
})

/** n rows of 4 numeric features (5% missing) and a category of 12 levels; y a smooth function plus noise. */
function generated(n: number, seed: number) {
  const rng = new Rng(seed)
  const columns = Array.from({length: 4}, (_, j) =>
    numericColumn(
      `x${j}`,
      Float64Array.from({length: n}, () => (rng.nextInt(20) === 0 ? Number.NaN : rng.normal())),
    ),
  )
  const levels = Array.from({length: 12}, (_, i) => `level${i}`)
  const codes = Int32Array.from({length: n}, () => rng.nextInt(12))
  const value = (i: number, j: number) => {
    const v = columns[j]!.values[i]!
    return Number.isNaN(v) ? 0 : v
  }
  const y = Float64Array.from(
    {length: n},
    (_, i) => Math.sin(2 * value(i, 0)) + value(i, 1) * value(i, 2) + (codes[i]! % 3) + 0.3 * rng.normal(),
  )
  const features: Frame = {nRows: n, columns: [...columns, categoricalColumn('c', codes, levels)]}
  return {features, target: encodeTarget(numericColumn('y', y), 'regression', 'generated')}
}

describe('large gbdt ensembles export and load', () => {
  // maxBins=32 keeps fitting quick (split search scans every bin of every feature in every leaf); the exported
  // graph's size depends only on the node count.
  it('exports, loads and predicts 500 trees of 31 leaves (30,500 nodes)', async () => {
    const {features, target} = generated(2000, 3)
    const params = resolveParams('gbdt', GBDT.params, [
      'nEstimators=500',
      'numLeaves=31',
      'minDataInLeaf=5',
      'maxBins=32',
    ])
    const pipeline = fitPipeline(features, target, GBDT, params, 1)
    const model = pipeline.model
    if (model.kind !== 'gbdt') throw new Error('expected a gbdt model')
    expect(model.trees).toHaveLength(500)
    expect(model.trees.reduce((s, t) => s + t.nNodes, 0)).toBe(500 * 61)
    const rows = Int32Array.from({length: 500}, (_, i) => i * 4)
    await expectParity(pipeline, [takeRows(features, rows), damaged(takeRows(features, rows))])
  })

  it('exports, loads and predicts trees of thousands of nodes', async () => {
    const {features, target} = generated(4000, 4)
    const params = resolveParams('gbdt', GBDT.params, [
      'nEstimators=2',
      'numLeaves=1500',
      'minDataInLeaf=1',
      'maxBins=32',
    ])
    const pipeline = fitPipeline(features, target, GBDT, params, 1)
    const model = pipeline.model
    if (model.kind !== 'gbdt') throw new Error('expected a gbdt model')
    for (const tree of model.trees) expect(tree.nNodes).toBe(2999)
    const rows = Int32Array.from({length: 500}, (_, i) => i * 8)
    await expectParity(pipeline, [takeRows(features, rows), damaged(takeRows(features, rows))])
  })
})

/** The split modes of the exported TreeEnsemble: 0 for <=, 6 for set membership. */
function splitModes(bytes: Uint8Array): Set<number> {
  const node = decodeModel(bytes).graph!.node!.find(n => n.opType === 'TreeEnsemble')!
  const modes = node.attribute!.find(a => a.name === 'nodes_modes')!.t!.rawData!
  return new Set(modes)
}

describe('gbdt categorical splits in ONNX', () => {
  it('compare indicator columns when the trees test few category sets, and stay membership sets when many', async () => {
    // Penguins' island and sex give a handful of sets: every split compares with <=, indicators built by Gather.
    const few = await expectParity((await fitCase('penguins.csv', 'species', ['minDataInLeaf=5'])).pipeline, [])
    expect(splitModes(few.bytes)).toEqual(new Set([0]))
    expect(decodeModel(few.bytes).graph!.node!.some(n => n.opType === 'Gather')).toBe(true)
    // 300 trees on a 12-level category test far more than 64 distinct sets: membership splits, same predictions.
    const {features, target} = generated(2000, 3)
    const params = resolveParams('gbdt', GBDT.params, ['nEstimators=300', 'minDataInLeaf=5', 'maxBins=32'])
    const many = fitPipeline(features, target, GBDT, params, 1)
    const rows = takeRows(
      features,
      Int32Array.from({length: 500}, (_, i) => i * 4),
    )
    const exported = await expectParity(many, [rows, damaged(rows)])
    expect(splitModes(exported.bytes)).toEqual(new Set([0, 6]))
    // Written as several TreeEnsemble operators, each with its own membership sets.
    const parts = await expectParity(many, [rows, damaged(rows)], {ensembleNodes: 2_000})
    const ensembles = decodeModel(parts.bytes).graph!.node!.filter(n => n.opType === 'TreeEnsemble')
    expect(ensembles.length).toBeGreaterThan(3)
    expect(ensembles.filter(n => n.attribute!.some(a => a.name === 'membership_values')).length).toBeGreaterThan(1)
  })
})

describe('gbdt export is deterministic', () => {
  it('writes byte-identical files for the same data and seed, different ones for another seed', async () => {
    // baggingFraction < 1 makes the seed matter beyond the train/test split
    const params = ['baggingFraction=0.7', 'featureFraction=0.8', 'nEstimators=30']
    const a = exportPipeline((await fitCase('penguins.csv', 'species', params, 7)).pipeline, 'test').bytes
    const b = exportPipeline((await fitCase('penguins.csv', 'species', params, 7)).pipeline, 'test').bytes
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
    const c = exportPipeline((await fitCase('penguins.csv', 'species', params, 8)).pipeline, 'test').bytes
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false)
  })
})
