// The worker pool of serve: N worker threads, each with its own ONNX Runtime session per model version.
// Requests for the same model version that wait while every worker is busy are coalesced into one batch (one
// `run`), so throughput grows with load and cores; an idle worker takes a lone request at once (no added delay).
import {availableParallelism} from 'node:os'
import type {Worker} from 'node:worker_threads'
import {ModelError} from '../errors.js'
import type {Signature} from '../onnx/signature.js'
import {spawnWorker} from '../parallel/spawn.js'
import type {ModelOutput} from '../runtime/predictor.js'
import type {RowBlock} from './rows.js'

export type ToWorker =
  | {type: 'load'; id: number; key: string; bytes: Uint8Array; signature: Signature; where: string}
  | {type: 'unload'; key: string}
  | {type: 'predict'; id: number; key: string; batch: PackedBatch}

/**
 * The rows of a batch as sent to a worker: every numeric column in one buffer (transferred: one typed array
 * costs far less to send than one per column), text columns as lists.
 */
export interface PackedBatch {
  readonly nRows: number
  /** nNumeric × nRows, column-major, the numeric columns in signature order; NaN = missing. */
  readonly numbers: Float64Array
  /** The text columns in signature order; null = missing. */
  readonly texts: Array<Array<string | null>>
}

export interface WorkerError {
  readonly code: string
  readonly message: string
  readonly hint?: string
}

type FromWorker =
  | {type: 'ready'}
  | {type: 'loaded'; id: number}
  | {type: 'result'; id: number; output: ModelOutput}
  | {type: 'failed'; id: number; error: WorkerError}

export interface LoadSpec {
  readonly bytes: Uint8Array
  readonly signature: Signature
  /** Names the model in error messages. */
  readonly where: string
}

export interface PoolOptions {
  /** Worker threads; default: the machine's cores. */
  readonly size?: number
  /** Most rows coalesced into one batch (a single larger request still runs whole). */
  readonly maxBatchRows?: number
  /** Called for each batch run, with the model key and its rows (the batch-size metric). */
  readonly onBatch?: (key: string, rows: number) => void
  /** A worker died and was replaced. */
  readonly onWorkerExit?: (message: string) => void
}

interface Pending {
  readonly key: string
  readonly block: RowBlock
  readonly resolve: (output: ModelOutput) => void
  readonly reject: (error: Error) => void
}

interface Slot {
  worker: Worker
  /** Requests in the batch this worker runs now; undefined when idle. */
  batch?: readonly Pending[]
  ready: boolean
}

/** The worker next to this file (see spawnWorker). */
function spawn(): Worker {
  return spawnWorker('worker', import.meta.url)
}

export class WorkerPool {
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private readonly loaded = new Map<string, LoadSpec>()
  private readonly calls = new Map<number, {resolve: (m: FromWorker) => void}>()
  private nextId = 1
  private closing = false
  readonly size: number
  private readonly maxBatchRows: number

  constructor(private readonly options: PoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism())
    this.maxBatchRows = options.maxBatchRows ?? 512
  }

  /** Starts the workers and waits until each can take work. */
  async start(): Promise<void> {
    await Promise.all(Array.from({length: this.size}, () => this.startSlot()))
  }

  private startSlot(): Promise<Slot> {
    const slot: Slot = {worker: spawn(), ready: false}
    this.slots.push(slot)
    return new Promise((resolve, reject) => {
      slot.worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          slot.ready = true
          resolve(slot)
          return
        }
        this.onMessage(slot, message)
      })
      slot.worker.on('error', error => {
        if (!slot.ready) reject(error)
      })
      slot.worker.on('exit', code => {
        if (!slot.ready) reject(new Error(`a serving worker exited with code ${code} while starting`))
        else void this.replace(slot, code)
      })
    })
  }

  /** A worker died (out of memory, native crash): fail its batch, start another with the same models. */
  private async replace(slot: Slot, code: number): Promise<void> {
    this.slots.splice(this.slots.indexOf(slot), 1)
    for (const p of slot.batch ?? []) p.reject(workerError({code: 'E_WORKER', message: 'the worker running it exited'}))
    if (this.closing) return
    this.options.onWorkerExit?.(`a serving worker exited (code ${code}); starting another`)
    const next = await this.startSlot()
    next.ready = false
    for (const [key, spec] of this.loaded) await this.call(next, id => ({type: 'load', id, key, ...spec}))
    next.ready = true
    this.pump()
  }

  private call(slot: Slot, message: (id: number) => ToWorker): Promise<FromWorker> {
    const id = this.nextId++
    return new Promise(resolve => {
      this.calls.set(id, {resolve})
      slot.worker.postMessage(message(id))
    })
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    if (message.type === 'ready') return
    const call = this.calls.get(message.id)
    if (call) {
      this.calls.delete(message.id)
      call.resolve(message)
      return
    }
    const batch = slot.batch
    slot.batch = undefined
    if (batch) {
      if (message.type === 'result') splitOutput(message.output, batch)
      else if (message.type === 'failed') for (const p of batch) p.reject(workerError(message.error))
    }
    this.pump()
  }

  /** Loads a model version into every worker; on failure, into none. */
  async load(key: string, spec: LoadSpec): Promise<void> {
    const replies = await Promise.all(this.slots.map(slot => this.call(slot, id => ({type: 'load', id, key, ...spec}))))
    const failed = replies.find(r => r.type === 'failed')
    if (failed?.type === 'failed') {
      for (const slot of this.slots) slot.worker.postMessage({type: 'unload', key} satisfies ToWorker)
      throw new ModelError(failed.error.code, failed.error.message, {hint: failed.error.hint})
    }
    this.loaded.set(key, spec)
  }

  unload(key: string): void {
    this.loaded.delete(key)
    for (const slot of this.slots) slot.worker.postMessage({type: 'unload', key} satisfies ToWorker)
  }

  predict(key: string, block: RowBlock): Promise<ModelOutput> {
    return new Promise((resolve, reject) => {
      this.queue.push({key, block, resolve, reject})
      this.pump()
    })
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.queue.length
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find(s => s.ready && !s.batch)
      if (!slot) return
      const key = this.queue[0]!.key
      const batch: Pending[] = []
      let rows = 0
      for (let i = 0; i < this.queue.length; ) {
        const p = this.queue[i]!
        if (p.key === key && (batch.length === 0 || rows + p.block.nRows <= this.maxBatchRows)) {
          batch.push(p)
          rows += p.block.nRows
          this.queue.splice(i, 1)
        } else i++
      }
      slot.batch = batch
      this.options.onBatch?.(key, rows)
      const packed = pack(batch, rows)
      slot.worker.postMessage({type: 'predict', id: 0, key, batch: packed} satisfies ToWorker, [
        packed.numbers.buffer as ArrayBuffer,
      ])
    }
  }

  async close(): Promise<void> {
    this.closing = true
    for (const p of this.queue.splice(0)) p.reject(workerError({code: 'E_WORKER', message: 'the server is stopping'}))
    await Promise.all(this.slots.map(s => s.worker.terminate()))
    this.slots.length = 0
  }
}

function workerError(error: WorkerError): ModelError {
  return new ModelError(error.code === 'E_MODEL_SIGNATURE' ? error.code : 'E_MODEL_RUN', error.message, {
    hint: error.hint,
  })
}

/** Concatenates the requests' rows into one packed batch. */
function pack(batch: readonly Pending[], nRows: number): PackedBatch {
  const first = batch[0]!.block.columns
  const nNumeric = first.filter(c => c instanceof Float64Array).length
  const numbers = new Float64Array(nNumeric * nRows)
  const texts: Array<Array<string | null>> = []
  let k = 0
  first.forEach((column, j) => {
    if (column instanceof Float64Array) {
      let o = k * nRows
      for (const p of batch) {
        numbers.set(p.block.columns[j] as Float64Array, o)
        o += p.block.nRows
      }
      k++
    } else texts.push(batch.length === 1 ? column : batch.flatMap(p => p.block.columns[j] as Array<string | null>))
  })
  return {nRows, numbers, texts}
}

/** Hands each request of a batch its own rows of the batch's output (views, no copies). */
function splitOutput(output: ModelOutput, batch: readonly Pending[]): void {
  if (batch.length === 1) {
    batch[0]!.resolve(output)
    return
  }
  const k = output.probabilities ? output.probabilities.length / output.nRows : 0
  let o = 0
  for (const p of batch) {
    const n = p.block.nRows
    p.resolve({
      nRows: n,
      labels: output.labels?.slice(o, o + n),
      classIndex: output.classIndex?.subarray(o, o + n),
      probabilities: output.probabilities?.subarray(o * k, (o + n) * k),
      values: output.values?.subarray(o, o + n),
    })
    o += n
  }
}
