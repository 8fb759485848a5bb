// Gradient boosting's histograms on two threads: each thread sums the node's rows for its own share of the
// features, with the WebAssembly kernel (ml/tree/wasm-histogram.ts) over one shared memory, so results are
// bit-identical to one thread. The main thread waits on shared memory (Atomics), which keeps tree growth
// synchronous and simple. Small nodes, and MLPROJ_THREADS=1, stay on the main thread.
import {MessageChannel, type MessagePort, Worker} from 'node:worker_threads'
import {type HistogramFn, partitionHalf, type RowPartition} from '../ml/tree/grower.js'
import type {TreeParallelism} from '../ml/tree/parallel.js'
import {histogramKernel, histogramModule, WasmHistogram} from '../ml/tree/wasm-histogram.js'
import {binParallel} from './bins.js'
import {growForestParallel, trainingThreads} from './forest.js'

/** Below this many row × feature cells a node's histogram is faster on one thread than handed out. */
const MIN_PARALLEL_CELLS = 200_000
/** Below this many rows a node's partition is faster on one thread than handed out. */
const MIN_PARALLEL_ROWS = 16_384

const CONTROL = {
  job: 0,
  done: 1,
  m: 2,
  from: 3,
  to: 4,
  hist: 5,
  stop: 6,
  failed: 7,
  /** 0: histogram of features [from, to); 1: partition of rows [from, to). */
  kind: 8,
  offset: 9,
  /** 1 when new partition buffers wait on the port. */
  buffers: 10,
  result: 11,
} as const
/** A worker that has not answered in this long has died: fail the fit instead of hanging. */
const WAIT_MS = 120_000

const WORKER_SOURCE = `
const {workerData, receiveMessageOnPort} = require('node:worker_threads')
const histogramKernel = ${histogramKernel.toString()}
const partitionHalf = ${partitionHalf.toString()}
let run
try {
  run = histogramKernel(workerData.module, workerData.memory, workerData.layout)
} catch {}
const control = new Int32Array(workerData.control)
const goesLeft = new Uint8Array(workerData.goesLeft)
let part
let seen = 0
for (;;) {
  Atomics.wait(control, ${CONTROL.job}, seen)
  seen = Atomics.load(control, ${CONTROL.job})
  if (Atomics.load(control, ${CONTROL.stop}) === 1) break
  try {
    if (control[${CONTROL.kind}] === 1) {
      if (control[${CONTROL.buffers}] === 1) part = receiveMessageOnPort(workerData.port).message
      control[${CONTROL.result}] = partitionHalf(part.columns, control[${CONTROL.offset}], part.rows, part.scratch,
        control[${CONTROL.from}], control[${CONTROL.to}], goesLeft)
    } else {
      if (!run) throw new Error('no kernel')
      run(control[${CONTROL.m}], control[${CONTROL.from}], control[${CONTROL.to}], control[${CONTROL.hist}])
    }
  } catch {
    Atomics.store(control, ${CONTROL.failed}, 1)
  }
  Atomics.store(control, ${CONTROL.done}, seen)
  Atomics.notify(control, ${CONTROL.done})
}
`

/**
 * One helper thread beside the main thread (this machine class has 2 cores). The memory is sized for one
 * dataset: made on the first `histogram` call of a fit, kept for its other trees.
 */
export class TreeThreads implements TreeParallelism {
  private control = new Int32Array(new SharedArrayBuffer(16 * 4))
  private worker: Worker | undefined
  private port: MessagePort | undefined
  private readonly goesLeft = new Uint8Array(new SharedArrayBuffer(256))
  /** The partition buffers the worker holds. */
  private partBuffers: {columns: Uint8Array; rows: Int32Array; scratch: Int32Array} | undefined
  private wasm: WasmHistogram | undefined
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
    if (k !== 1) return undefined
    const wasm = this.ensure(bins, nRows, nFeatures)
    if (!wasm) return undefined
    wasm.setGradients(grad, hess)
    // A new tree: the last one's histograms are free again.
    wasm.releaseAll()
    const threads = TreeThreads.threads()
    const split = Math.ceil(nFeatures / 2)
    const build = (rows: Int32Array, start: number, end: number, hist: Float64Array) => {
      if (threads < 2 || (end - start) * nFeatures < MIN_PARALLEL_CELLS) {
        wasm.build(rows, start, end, hist)
        return
      }
      const m = wasm.loadRows(rows, start, end)
      const target = wasm.target(hist)
      this.startWorker(wasm)
      const c = this.control
      c[CONTROL.kind] = 0
      c[CONTROL.m] = m
      c[CONTROL.from] = split
      c[CONTROL.to] = nFeatures
      c[CONTROL.hist] = target
      const job = this.post()
      wasm.run(m, 0, split, target)
      this.await(job)
      wasm.finish(hist, 0, nFeatures)
    }
    const partition: RowPartition<number | undefined> = (...args) =>
      threads < 2 || args[5] - args[4] < MIN_PARALLEL_ROWS ? undefined : this.partition(...args)
    return Object.assign(build, {allocate: () => wasm.allocate(), partition})
  }

  /**
   * The worker partitions the upper half of the rows while this thread does the lower; then the halves are
   * joined: left rows of both, then right rows of both, as one pass would leave them. Needs the arrays in shared
   * memory and a started worker; undefined otherwise.
   */
  private readonly partition: RowPartition<number | undefined> = (
    columns,
    offset,
    rows,
    scratch,
    start,
    end,
    goesLeft,
  ) => {
    const shared = (a: Uint8Array | Int32Array) => a.buffer instanceof SharedArrayBuffer
    if (!this.worker || !this.port || !shared(columns) || !shared(rows) || !shared(scratch)) return undefined
    const c = this.control
    const held = this.partBuffers
    const fresh = !held || held.columns !== columns || held.rows !== rows || held.scratch !== scratch
    if (fresh) {
      this.partBuffers = {columns, rows, scratch}
      this.port.postMessage(this.partBuffers)
    }
    this.goesLeft.set(goesLeft)
    const mid = (start + end) >>> 1
    c[CONTROL.kind] = 1
    c[CONTROL.buffers] = fresh ? 1 : 0
    c[CONTROL.offset] = offset
    c[CONTROL.from] = mid
    c[CONTROL.to] = end
    const job = this.post()
    const lower = partitionHalf(columns, offset, rows, scratch, start, mid, goesLeft)
    this.await(job)
    const upper = c[CONTROL.result]!
    // [L1 R1→scratch][L2 R2→scratch] → [L1 L2 R1 R2]
    rows.copyWithin(start + lower, mid, mid + upper)
    const r1 = mid - start - lower
    rows.set(scratch.subarray(start, start + r1), start + lower + upper)
    rows.set(scratch.subarray(mid, end - upper), start + lower + upper + r1)
    return lower + upper
  }

  /** Hands the job in the control block to the worker; returns its number. */
  private post(): number {
    const job = ++this.sequence
    Atomics.store(this.control, CONTROL.job, job)
    Atomics.notify(this.control, CONTROL.job)
    return job
  }

  private await(job: number): void {
    const c = this.control
    for (let done = Atomics.load(c, CONTROL.done); done !== job; done = Atomics.load(c, CONTROL.done)) {
      if (Atomics.wait(c, CONTROL.done, done, WAIT_MS) === 'timed-out')
        throw new Error('histogram worker thread stopped answering')
    }
    if (c[CONTROL.failed]) throw new Error('histogram worker thread failed')
  }

  bin = binParallel
  forest = growForestParallel

  close(): void {
    // The memory goes with the fit: scoring and export follow in the same process.
    this.wasm = undefined
    this.binsSource = undefined
    if (!this.worker) return
    Atomics.store(this.control, CONTROL.stop, 1)
    Atomics.store(this.control, CONTROL.job, ++this.sequence)
    Atomics.notify(this.control, CONTROL.job)
    void this.worker.terminate()
    this.worker = undefined
    this.port?.close()
    this.port = undefined
    this.partBuffers = undefined
  }

  /** The memory for these binned rows (a new one for new data). */
  private ensure(bins: Uint8Array, nRows: number, nFeatures: number): WasmHistogram | undefined {
    if (this.binsSource !== bins) {
      this.close()
      this.wasm = WasmHistogram.create(bins, nRows, nFeatures)
      this.binsSource = bins
    }
    return this.wasm
  }

  /** The helper thread over this memory, started on the first node big enough to share. */
  private startWorker(wasm: WasmHistogram): void {
    if (this.worker) return
    this.control = new Int32Array(new SharedArrayBuffer(16 * 4))
    this.sequence = 0
    const {port1, port2} = new MessageChannel()
    this.port = port1
    this.port.unref()
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        control: this.control.buffer,
        goesLeft: this.goesLeft.buffer,
        port: port2,
        module: histogramModule(),
        memory: wasm.memory,
        layout: wasm.layout,
      },
      transferList: [port2],
    })
    this.worker.unref()
  }
}
