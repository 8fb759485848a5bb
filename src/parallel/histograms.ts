// Histograms on two (or more) threads: each thread sums the node's rows for its own share of the features,
// so results are bit-identical to one thread. Worker threads run the same buildHistogram source; the main
// thread waits on shared memory (Atomics), which keeps tree growth synchronous and simple.
import {Worker} from 'node:worker_threads'
import type {HistogramFn} from '../ml/tree/grower.js'
import {buildHistogram, histogramSize} from '../ml/tree/histogram.js'
import type {TreeParallelism} from '../ml/tree/parallel.js'
import {growForestParallel, trainingThreads} from './forest.js'

/** Below this many row × feature cells a node's histogram is faster on one thread than handed out. */
const MIN_PARALLEL_CELLS = 200_000

const CONTROL = {job: 0, done: 1, m: 2, from: 3, to: 4, k: 5, nFeatures: 6, stop: 7, failed: 8} as const
/** A worker that has not answered in this long has died: fail the fit instead of hanging. */
const WAIT_MS = 120_000

const WORKER_SOURCE = `
const {workerData} = require('node:worker_threads')
const buildHistogram = ${buildHistogram.toString()}
const control = new Int32Array(workerData.control)
let seen = 0
for (;;) {
  Atomics.wait(control, ${CONTROL.job}, seen)
  seen = Atomics.load(control, ${CONTROL.job})
  if (Atomics.load(control, ${CONTROL.stop}) === 1) break
  const s = workerData.shared
  try {
    buildHistogram(new Uint8Array(s.bins), control[${CONTROL.nFeatures}], new Int32Array(s.rows), 0, control[${CONTROL.m}],
      new Float64Array(s.grad), new Float64Array(s.hess), control[${CONTROL.k}], new Float64Array(s.hist),
      control[${CONTROL.from}], control[${CONTROL.to}])
  } catch {
    Atomics.store(control, ${CONTROL.failed}, 1)
  }
  Atomics.store(control, ${CONTROL.done}, seen)
  Atomics.notify(control, ${CONTROL.done})
}
`

interface Shared {
  bins: SharedArrayBuffer
  rows: SharedArrayBuffer
  grad: SharedArrayBuffer
  hess: SharedArrayBuffer
  hist: SharedArrayBuffer
}

/**
 * One helper thread beside the main thread (this machine class has 2 cores). The pool is sized for one
 * dataset: call `prepare` once per fit with the binned data, then `histogram` per tree.
 */
export class TreeThreads implements TreeParallelism {
  private control = new Int32Array(new SharedArrayBuffer(16 * 4))
  private worker: Worker | undefined
  private shared: Shared | undefined
  private sequence = 0
  private binsSource: Uint8Array | undefined

  /** Threads worth using here: 1 means stay on the main thread. */
  static threads(): number {
    return trainingThreads()
  }

  histogram(
    bins: Uint8Array,
    nRows: number,
    nFeatures: number,
    grad: Float64Array,
    hess: Float64Array,
    k: number,
  ): HistogramFn | undefined {
    if (TreeThreads.threads() < 2 || nRows * nFeatures < MIN_PARALLEL_CELLS) return undefined
    const shared = this.ensure(bins, nRows, nFeatures, k)
    new Float64Array(shared.grad).set(grad)
    new Float64Array(shared.hess).set(hess)
    const split = Math.ceil(nFeatures / 2)
    const stride = histogramSize(1, k)
    const sharedRows = new Int32Array(shared.rows)
    const sharedHist = new Float64Array(shared.hist)
    return (rows, start, end, hist) => {
      const m = end - start
      if (m * nFeatures < MIN_PARALLEL_CELLS) {
        buildHistogram(bins, nFeatures, rows, start, end, grad, hess, k, hist, 0, nFeatures)
        return
      }
      sharedRows.set(rows.subarray(start, end))
      const c = this.control
      c[CONTROL.m] = m
      c[CONTROL.from] = split
      c[CONTROL.to] = nFeatures
      c[CONTROL.k] = k
      c[CONTROL.nFeatures] = nFeatures
      const job = ++this.sequence
      Atomics.store(c, CONTROL.job, job)
      Atomics.notify(c, CONTROL.job)
      buildHistogram(bins, nFeatures, rows, start, end, grad, hess, k, hist, 0, split)
      for (let done = Atomics.load(c, CONTROL.done); done !== job; done = Atomics.load(c, CONTROL.done)) {
        if (Atomics.wait(c, CONTROL.done, done, WAIT_MS) === 'timed-out')
          throw new Error('histogram worker thread stopped answering')
      }
      if (c[CONTROL.failed]) throw new Error('histogram worker thread failed')
      hist.set(sharedHist.subarray(split * stride, nFeatures * stride), split * stride)
    }
  }

  forest = growForestParallel

  close(): void {
    if (!this.worker) return
    Atomics.store(this.control, CONTROL.stop, 1)
    Atomics.store(this.control, CONTROL.job, ++this.sequence)
    Atomics.notify(this.control, CONTROL.job)
    void this.worker.terminate()
    this.worker = undefined
  }

  private ensure(bins: Uint8Array, nRows: number, nFeatures: number, k: number): Shared {
    if (!this.shared || this.binsSource !== bins) {
      const sharedBins = new SharedArrayBuffer(bins.length)
      new Uint8Array(sharedBins).set(bins)
      this.shared = {
        bins: sharedBins,
        rows: new SharedArrayBuffer(nRows * 4),
        grad: new SharedArrayBuffer(nRows * k * 8),
        hess: new SharedArrayBuffer(nRows * 8),
        hist: new SharedArrayBuffer(histogramSize(nFeatures, k) * 8),
      }
      this.binsSource = bins
      this.close()
      this.control = new Int32Array(new SharedArrayBuffer(16 * 4))
      this.sequence = 0
      this.worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {control: this.control.buffer, shared: this.shared},
      })
      this.worker.unref()
    }
    return this.shared
  }
}
