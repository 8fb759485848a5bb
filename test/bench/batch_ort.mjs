// Diagnostic for batch.mjs: how long ONNX Runtime alone takes to score a file's rows with a model, on one and on two
// intra-op threads, in 2,048-row chunks (DuckDB's vector, what predict-batch hands the model) and in 65,536-row ones.
// It loads the whole file first and times only Predictor.predict (tensors in, ONNX Runtime, labels and probabilities
// out), so the figures are a floor for predict-batch's scoring: reading and writing the files come on top.
// It imports internal modules of a build's dist/ (data/source, data/load, runtime/predictor).
//
//   node test/bench/batch_ort.mjs DIST WORKSPACE_ARTIFACT_DIR DATA.csv [--chunks 2048,65536] [--threads 1,2]
//   e.g. node test/bench/batch_ort.mjs /tmp/snap/dist /tmp/w/.mlproj/artifacts/0123abcd4567 /tmp/w/big.csv
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

const {values: opts, positionals} = parseArgs({
  allowPositionals: true,
  options: {chunks: {type: 'string', default: '2048,65536'}, threads: {type: 'string', default: '1,2'}},
})
if (positionals.length !== 3) {
  console.error('usage: node test/bench/batch_ort.mjs DIST ARTIFACT_DIR DATA.csv [--chunks 2048,65536] [--threads 1,2]')
  process.exit(2)
}
const [dist, artifact, data] = positionals
const imp = path => import(new URL(`${dist.replace(/\/?$/, '/')}${path}`, 'file://').href)
const {openSource} = await imp('data/source.js')
const {loadFrame} = await imp('data/load.js')
const {Predictor} = await imp('runtime/predictor.js')
const {takeRows} = await imp('ml/frame.js')

const bytes = readFileSync(join(artifact, 'model.onnx'))
const signature = JSON.parse(readFileSync(join(artifact, 'signature.json'), 'utf8'))
const source = await openSource(data)
const probe = await Predictor.load(bytes, signature, 'model')
const frame = await loadFrame(source, probe.columns)
await source.release()
const n = frame.nRows
console.log(`${n.toLocaleString('en-US')} rows of ${data}; model ${artifact}`)
console.log('\n| intra-op threads | chunk rows | wall s | CPU s | µs per row (wall) | CPU µs per row |')
console.log('|---:|---:|---:|---:|---:|---:|')
for (const threads of opts.threads.split(',').map(Number)) {
  const predictor = await Predictor.load(bytes, signature, 'model', {
    intraOpNumThreads: threads,
    extra: {session: {intra_op: {allow_spinning: '0'}}},
  })
  for (const chunk of opts.chunks.split(',').map(Number)) {
    const parts = []
    for (let s = 0; s < n; s += chunk)
      parts.push(
        takeRows(
          frame,
          Int32Array.from({length: Math.min(chunk, n - s)}, (_, i) => s + i),
        ),
      )
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (const part of parts) await predictor.predict(part)
    const wall = (performance.now() - t0) / 1000
    const used = process.cpuUsage(cpu0)
    const cpu = (used.user + used.system) / 1e6
    console.log(
      `| ${threads} | ${chunk.toLocaleString('en-US')} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} | ${((wall / n) * 1e6).toFixed(2)} | ${((cpu / n) * 1e6).toFixed(2)} |`,
    )
  }
}
