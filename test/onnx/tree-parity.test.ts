// ONNX parity for CART trees and random forests: ONNX Runtime running the exported file predicts what the
// in-memory model predicts — identical labels; probabilities and values within 1e-5 (the graph runs in double
// precision and sums the trees in the same order: measured differences are 0, or ~4e-16 relative where ONNX Runtime
// sums trees on two threads) — on clean rows and on rows with missing values and categories never seen in
// training. Same data and seed give byte-identical files.
import {describe, expect, it} from 'vitest'
import {loadFrame} from '../../src/data/load.js'
import {openSource} from '../../src/data/source.js'
import {ALGORITHMS} from '../../src/ml/algorithms.js'
import {type Frame, takeRows} from '../../src/ml/frame.js'
import {resolveParams} from '../../src/ml/params.js'
import {fitPipeline} from '../../src/ml/pipeline.js'
import {trainTestSplit} from '../../src/ml/split.js'
import {encodeTarget, inferTask, labelledRows, takeTarget} from '../../src/ml/target.js'
import {exportPipeline} from '../../src/onnx/export.js'
import {decodeModel} from '../../src/onnx/graph.js'
import {ENSEMBLE_NODES} from '../../src/onnx/trees.js'
import {dataset} from '../helpers/cli.js'
import {damaged, expectParity} from '../helpers/parity.js'

async function fitCase(
  file: string,
  targetName: string,
  algoName: string,
  params: string[] = [],
  seed = 42,
  splitSeed = 42,
) {
  const source = await openSource(dataset(file))
  const frame = await loadFrame(
    source,
    source.columns.map(c => ({
      name: c.name,
      kind: c.kind === 'numeric' ? ('numeric' as const) : ('categorical' as const),
    })),
  )
  await source.release()
  const targetColumn = frame.columns.find(c => c.name === targetName)!
  const features: Frame = {nRows: frame.nRows, columns: frame.columns.filter(c => c.name !== targetName)}
  const encoded = encodeTarget(targetColumn, inferTask(targetColumn), file)
  const rows = labelledRows(encoded)
  const target = takeTarget(encoded, rows)
  const labelled = takeRows(features, rows)
  const split = trainTestSplit(labelled.nRows, 0.25, splitSeed, target.task === 'classification' ? target.y : undefined)
  const algo = ALGORITHMS[algoName]!
  const pipeline = fitPipeline(
    takeRows(labelled, split.train),
    takeTarget(target, split.train),
    algo,
    resolveParams(algo.name, algo.params, params),
    seed,
  )
  return {pipeline, test: takeRows(labelled, split.test), task: target.task}
}

const CASES: Array<{file: string; target: string; algo: string; params?: string[]}> = [
  {file: 'breast_cancer.csv', target: 'diagnosis', algo: 'forest'},
  {file: 'penguins.csv', target: 'species', algo: 'forest'},
  {file: 'penguins.csv', target: 'sex', algo: 'forest', params: ['criterion=entropy']},
  {file: 'wine.csv', target: 'cultivar', algo: 'forest', params: ['criterion=entropy', 'maxFeatures=0.5']},
  {file: 'diabetes.csv', target: 'progression', algo: 'forest'},
  {file: 'penguins.csv', target: 'body_mass_g', algo: 'forest', params: ['maxDepth=6', 'nEstimators=30']},
  {file: 'breast_cancer.csv', target: 'diagnosis', algo: 'tree'},
  {file: 'iris.csv', target: 'species', algo: 'tree', params: ['criterion=entropy']},
  {file: 'penguins.csv', target: 'species', algo: 'tree', params: ['maxLeafNodes=6']},
  {file: 'diabetes.csv', target: 'progression', algo: 'tree', params: ['minSamplesLeaf=5']},
  {file: 'penguins.csv', target: 'body_mass_g', algo: 'tree'},
]

describe('ONNX Runtime reproduces trees and forests', () => {
  for (const {file, target, algo, params = []} of CASES) {
    it(`agrees with ${[algo, ...params].join(' ')} on ${file} → ${target}, clean and damaged rows`, async () => {
      const {pipeline, test} = await fitCase(file, target, algo, params)
      await expectParity(pipeline, [test, damaged(test)])
    })
  }
})

describe('tree and forest export is deterministic', () => {
  it('writes byte-identical forests for the same data and seed, and another forest for another seed', async () => {
    // The same training rows every time: only the forest's seed changes.
    const exportFit = async (seed: number) =>
      exportPipeline((await fitCase('penguins.csv', 'species', 'forest', ['nEstimators=20'], seed)).pipeline, 'test')
        .bytes
    const a = await exportFit(7)
    const b = await exportFit(7)
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
    expect(Buffer.from(a).equals(Buffer.from(await exportFit(8)))).toBe(false)
  })

  it('writes byte-identical trees for the same data and seed', async () => {
    const exportFit = async () =>
      exportPipeline((await fitCase('diabetes.csv', 'progression', 'tree', [], 7)).pipeline, 'test').bytes
    expect(Buffer.from(await exportFit()).equals(Buffer.from(await exportFit()))).toBe(true)
  })
})

describe('forests bigger than one TreeEnsemble node', () => {
  /** Each TreeEnsemble node's output and size (splits + leaves). */
  const ensembles = (bytes: Uint8Array) =>
    decodeModel(bytes)
      .graph!.node!.filter(n => n.opType === 'TreeEnsemble')
      .map(n => {
        const attr = (name: string) => n.attribute!.find(a => a.name === name)!
        return {
          output: n.output![0]!,
          size: attr('nodes_featureids').ints!.length + Number(attr('leaf_weights').t!.dims![0]),
        }
      })
  const cases = [
    {file: 'diabetes.csv', target: 'progression', params: ['nEstimators=300']},
    {file: 'penguins.csv', target: 'sex', params: ['nEstimators=1200']},
  ]
  for (const {file, target, params} of cases) {
    it(`split into parts of at most ${ENSEMBLE_NODES} nodes added by a Sum, and agree (${file} → ${target})`, async () => {
      const {pipeline, test} = await fitCase(file, target, 'forest', params)
      const model = pipeline.model as Extract<typeof pipeline.model, {kind: 'forest'}>
      const nodes = model.trees.reduce((n, t) => n + t.nNodes * t.nOutputs, 0)
      expect(nodes).toBeGreaterThan(ENSEMBLE_NODES)
      const exported = await expectParity(pipeline, [test, damaged(test)])
      const parts = ensembles(exported.bytes)
      expect(parts.length).toBeGreaterThanOrEqual(2)
      expect(parts.reduce((n, p) => n + p.size, 0)).toBe(nodes)
      for (const part of parts) expect(part.size).toBeLessThanOrEqual(ENSEMBLE_NODES)
      const sum = decodeModel(exported.bytes).graph!.node!.find(n => n.opType === 'Sum')!
      expect(sum.input).toEqual(parts.map(p => p.output))
    })
  }
})
