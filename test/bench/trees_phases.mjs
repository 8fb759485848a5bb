// Diagnostic for trees_speed.mjs --phases: replays `mlproj train`'s steps in one process on a build's dist/
// (read, split, fit, ONNX export, ONNX Runtime load, scoring ≤100k training rows and the test rows) and prints
// the seconds and memory of each, which the CLI's progress lines lump together as "training … finished".
// It imports internal modules of dist/ (services/inputs, ml/*, onnx/export, runtime/predictor,
// parallel/histograms), so it follows the build it is pointed at and may need updating when those change.
// Usage: node test/bench/trees_phases.mjs DIST_DIR DATA.csv TARGET ALGO [--test-size 0.2] [key=value ...]
// Prints one JSON document on stdout; phase lines on stderr.
import {parseArgs} from 'node:util'

const {values: opts, positionals} = parseArgs({
  allowPositionals: true,
  options: {'test-size': {type: 'string', default: '0.2'}, seed: {type: 'string', default: '42'}},
})
const [dist, data, targetName, algoName, ...assignments] = positionals
if (!algoName) {
  console.error(
    'usage: node test/bench/trees_phases.mjs DIST_DIR DATA.csv TARGET ALGO [--test-size 0.2] [key=value ...]',
  )
  process.exit(2)
}
const seed = Number(opts.seed)
const imp = path => import(new URL(`${dist.replace(/\/?$/, '/')}${path}`, 'file://').href)
const t0 = performance.now()
const {withSource, loadTable, chooseFeatures} = await imp('services/inputs.js')
const {encodeTarget, inferTask, labelledRows} = await imp('ml/target.js')
const {getAlgorithm} = await imp('ml/algorithms.js')
const {resolveParams} = await imp('ml/params.js')
const {fitPipeline, predictPipeline} = await imp('ml/pipeline.js')
const {takeRows} = await imp('ml/frame.js')
const {trainTestSplit} = await imp('ml/split.js')
const {exportPipeline} = await imp('onnx/export.js')
const {Predictor} = await imp('runtime/predictor.js')
const threadsModule = await imp('parallel/histograms.js')
const Threads = threadsModule.HistogramThreads ?? threadsModule.TreeThreads

const phases = {}
let t = t0
let peakRss = 0
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss())
}, 50)
function lap(name, extra = '') {
  const now = performance.now()
  const rss = process.memoryUsage.rss()
  peakRss = Math.max(peakRss, rss)
  phases[name] = {s: (now - t) / 1000, rssMb: rss / 2 ** 20}
  console.error(`${name}: ${((now - t) / 1000).toFixed(2)} s, rss ${(rss / 2 ** 20).toFixed(0)} MB${extra}`)
  t = now
}
lap('imports')

const gather = (values, idx) => Int32Array.from(idx, i => values[i])
await withSource(data, {}, async source => {
  const features = chooseFeatures(source, targetName, {}, () => {})
  const targetColumn = source.columns.find(c => c.name === targetName)
  const input = await loadTable(source, [...features, {name: targetName, kind: targetColumn.kind}])
  lap('read CSV (DuckDB) + sha256')
  const targetData = input.frame.columns.at(-1)
  const frame = {nRows: input.frame.nRows, columns: input.frame.columns.slice(0, -1)}
  const target = encodeTarget(targetData, inferTask(targetData), data)
  const labelled = labelledRows(target)
  const strata = target.task === 'classification' ? gather(target.y, labelled) : undefined
  const split = trainTestSplit(labelled.length, Number(opts['test-size']), seed, strata)
  const trainRows = gather(labelled, split.train)
  const testRows = gather(labelled, split.test)
  lap('target, split')
  const algo = getAlgorithm(algoName)
  const params = resolveParams(algo.name, algo.params, assignments)
  const threads = Threads ? new Threads() : undefined
  let pipeline
  try {
    pipeline = fitPipeline(frame, target, algo, params, seed, trainRows, threads)
  } finally {
    threads?.close()
  }
  lap('fit')
  const exported = exportPipeline(pipeline, '0')
  lap('ONNX export', ` (${(exported.bytes.length / 2 ** 20).toFixed(1)} MB)`)
  const predictor = await Predictor.load(exported.bytes, exported.signature, 'the exported model')
  lap('ONNX Runtime session')
  await predictor.predictRows(frame, trainRows.subarray(0, Math.min(trainRows.length, 100_000)))
  lap(`ORT scoring ${Math.min(trainRows.length, 100_000)} training rows`)
  if (testRows.length > 0) await predictor.predictRows(frame, testRows)
  lap(`ORT scoring ${testRows.length} test rows`)
  predictPipeline(pipeline, takeRows(frame, testRows.subarray(0, 10_000)))
  lap('parity check: in-memory model on ≤10,000 test rows')
  phases.onnxBytes = exported.bytes.length
})
clearInterval(sampler)
console.log(JSON.stringify({total: (performance.now() - t0) / 1000, peakRssMb: peakRss / 2 ** 20, phases}))
