// Binning on two threads: the main thread and one worker take features from a shared counter and write each
// feature's bins into shared memory. A feature's bins depend only on its column, the rows and its seed, so the
// result is identical to one thread. The worker hands the bin edges back on a message port.
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {MessageChannel, receiveMessageOnPort, Worker} from 'node:worker_threads'
import {type BinJob, type BinnedColumns, binFeature, type FeatureBins} from '../ml/tree/binning.js'
import {trainingThreads} from './forest.js'

/** Below this many cells a worker's start-up (~0.05 s) costs more than it saves (binning: ~0.15 µs a cell). */
const MIN_PARALLEL_CELLS = 1_000_000

export const BIN_CONTROL = {next: 0, done: 1} as const

/** What the worker gets: the job, its arrays in shared memory (a view of shared memory is passed, not copied). */
export interface BinWorkerData extends BinJob {
  readonly control: SharedArrayBuffer
  readonly out: SharedArrayBuffer
}

/** The array itself when it lies in shared memory (columns loaded by data/load.ts do), else a shared copy. */
function sharedView<T extends Float64Array | Int32Array>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array
  const copy = new (array.constructor as {new (buffer: SharedArrayBuffer): T})(new SharedArrayBuffer(array.byteLength))
  copy.set(array as never)
  return copy
}

/** A feature the worker binned: its index, its bins and whether a row was missing. */
export type BinnedFeature = [number, FeatureBins, number]

/** The compiled worker; absent when running from TypeScript sources (tests), where one thread is used. */
const WORKER = new URL('./bin-worker.js', import.meta.url)

export function binParallel(job: BinJob): BinnedColumns | undefined {
  const n = job.rows.length
  const p = job.columns.length
  if (trainingThreads() < 2 || p < 2 || n * p < MIN_PARALLEL_CELLS) return undefined
  if (!existsSync(fileURLToPath(WORKER))) return undefined
  const control = new Int32Array(new SharedArrayBuffer(8))
  const out = new Uint8Array(new SharedArrayBuffer(p * n))
  const {port1, port2} = new MessageChannel()
  const workerData: BinWorkerData = {
    control: control.buffer as SharedArrayBuffer,
    columns: job.columns.map(sharedView),
    categorical: job.categorical,
    rows: sharedView(job.rows),
    maxBins: job.maxBins,
    seeds: job.seeds,
    out: out.buffer as SharedArrayBuffer,
  }
  const worker = new Worker(WORKER, {workerData: {...workerData, port: port2}, transferList: [port2]})
  worker.unref()
  try {
    const features: FeatureBins[] = new Array(p)
    const hasMissing = new Uint8Array(p)
    for (let f = Atomics.add(control, BIN_CONTROL.next, 1); f < p; f = Atomics.add(control, BIN_CONTROL.next, 1)) {
      const {spec, missing} = binFeature(job, f, out.subarray(f * n, (f + 1) * n))
      features[f] = spec
      hasMissing[f] = missing
    }
    while (Atomics.load(control, BIN_CONTROL.done) === 0) {
      if (Atomics.wait(control, BIN_CONTROL.done, 0, 120_000) === 'timed-out')
        throw new Error('binning worker thread stopped answering')
    }
    const message = receiveMessageOnPort(port1)?.message as BinnedFeature[] | {error: string} | undefined
    if (!message || !Array.isArray(message))
      throw new Error(`binning worker thread failed: ${message?.error ?? 'no bins'}`)
    for (const [f, spec, missing] of message) {
      features[f] = spec
      hasMissing[f] = missing
    }
    return {columns: out, features, hasMissing}
  } finally {
    port1.close()
    void worker.terminate()
  }
}
