// The WebAssembly histogram kernel (histogram.wat) against the TypeScript one: the same sums in the same order,
// so the histograms are bit-identical, on one thread and split between the main thread and a worker; and the
// committed module is what the .wat source compiles to.
import {spawnSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {Rng} from '../../../src/ml/rng.js'
import {MISSING_BIN} from '../../../src/ml/tree/binning.js'
import {buildHistogram, histogramSize} from '../../../src/ml/tree/histogram.js'
import {WasmHistogram} from '../../../src/ml/tree/wasm-histogram.js'
import {TreeThreads} from '../../../src/parallel/histograms.js'

/** Skewed bins (many rows share the low ones) with missing values, gradients and hessians of any magnitude. */
function problem(nRows: number, nFeatures: number, seed: number) {
  const rng = new Rng(seed)
  const bins = Uint8Array.from({length: nRows * nFeatures}, () =>
    rng.nextInt(20) === 0 ? MISSING_BIN : Math.min(254, Math.floor(-Math.log(1 - rng.nextFloat()) * 30)),
  )
  const grad = Float64Array.from({length: nRows}, () => (rng.nextFloat() - 0.5) * 10 ** (rng.nextInt(7) - 3))
  const hess = Float64Array.from({length: nRows}, () => rng.nextFloat() * 0.25)
  const rows = Int32Array.from({length: nRows}, (_, i) => i)
  rng.shuffle(rows)
  return {bins, grad, hess, rows}
}

function reference(p: ReturnType<typeof problem>, nFeatures: number, start: number, end: number): Float64Array {
  const hist = new Float64Array(histogramSize(nFeatures, 1))
  buildHistogram(p.bins, nFeatures, p.rows, start, end, p.grad, p.hess, 1, hist, 0, nFeatures)
  return hist
}

describe('WasmHistogram', () => {
  it('gives buildHistogram’s histogram bit for bit, node after node, over a dirty buffer', () => {
    const nRows = 5000
    const nFeatures = 7
    const p = problem(nRows, nFeatures, 1)
    const wasm = WasmHistogram.create(p.bins, nRows, nFeatures)!
    expect(wasm).toBeDefined()
    wasm.setGradients(p.grad, p.hess)
    for (const [start, end] of [
      [0, nRows],
      [100, 2600],
      [4000, 4001],
      [17, 17],
    ] as const) {
      const hist = new Float64Array(histogramSize(nFeatures, 1)).fill(Number.NaN)
      wasm.build(p.rows, start, end, hist)
      expect(hist).toEqual(reference(p, nFeatures, start, end))
    }
  })

  it('sums a range of features only, leaving the others of the output as they were', () => {
    const p = problem(300, 5, 2)
    const wasm = WasmHistogram.create(p.bins, 300, 5)!
    wasm.setGradients(p.grad, p.hess)
    const hist = new Float64Array(histogramSize(5, 1)).fill(-1)
    wasm.run(wasm.loadRows(p.rows, 0, 300), 1, 3, wasm.target(hist))
    wasm.finish(hist, 1, 3)
    const full = reference(p, 5, 0, 300)
    const per = histogramSize(1, 1)
    expect(hist.subarray(per, 3 * per)).toEqual(full.subarray(per, 3 * per))
    expect(hist.subarray(0, per).every(v => v === -1)).toBe(true)
    expect(hist.subarray(3 * per).every(v => v === -1)).toBe(true)
  })

  it('fills its own buffers in place, as many as it has, then lends none until released', () => {
    const p = problem(2000, 4, 4)
    const wasm = WasmHistogram.create(p.bins, 2000, 4)!
    wasm.setGradients(p.grad, p.hess)
    const own: Float64Array[] = []
    for (let b = wasm.allocate(); b; b = wasm.allocate()) own.push(b)
    expect(own.length).toBe(64)
    for (const [i, hist] of [own[0]!, own[63]!].entries()) {
      hist.fill(Number.NaN)
      wasm.build(p.rows, i * 100, 1500, hist)
      expect(hist).toEqual(reference(p, 4, i * 100, 1500))
    }
    wasm.releaseAll()
    expect(wasm.allocate()!.byteOffset).toBe(own[0]!.byteOffset)
  })

  it('is refused for bins that do not match the shape, so that callers fall back to TypeScript', () => {
    expect(WasmHistogram.create(new Uint8Array(10), 3, 3)).toBeUndefined()
  })
})

describe('TreeThreads', () => {
  it('splits big nodes between the main thread and a worker with the same result as one thread', () => {
    // 40,000 rows × 12 features is above the cells a node needs to be shared.
    const nRows = 40_000
    const nFeatures = 12
    const p = problem(nRows, nFeatures, 3)
    const threads = new TreeThreads()
    try {
      const build = threads.histogram(p.bins, nRows, nFeatures, p.grad, p.hess, 1)!
      expect(build).toBeDefined()
      for (const [start, end, inPlace] of [
        [0, nRows, false],
        [5000, 35_000, true],
        [10, 900, true],
      ] as const) {
        const hist = (inPlace ? build.allocate!()! : new Float64Array(histogramSize(nFeatures, 1))).fill(Number.NaN)
        build(p.rows, start, end, hist)
        expect(hist).toEqual(reference(p, nFeatures, start, end))
      }
    } finally {
      threads.close()
    }
  })
})

describe('histogram-wasm.ts', () => {
  it('is what histogram.wat compiles to (npm run build:wasm)', () => {
    const check = spawnSync(process.execPath, ['scripts/build-wasm.mjs', '--check'], {encoding: 'utf8'})
    expect(check.stderr).toBe('')
    expect(check.status).toBe(0)
  })
})
