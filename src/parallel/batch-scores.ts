// Scoring ahead for predict-batch: while DuckDB reads, scores (through runtime/batch-udf.ts) and writes the rows on
// one thread, worker threads read the same rows again and run them through ONNX Runtime in batches of up to
// 65,536 rows (batch-worker.ts); the SQL function then takes each chunk's predictions from shared memory instead of
// running the model on DuckDB's 2,048-row vectors, one at a time, on the JavaScript thread. Tree ensembles, whose
// walk is most of a job's time, score about a third faster per row in large batches, and on every core.
//
// The writer must meet its rows in the order the reader read them: its query runs on one DuckDB thread, and each
// row is checked by the hash of its inputs (DuckDB's, computed in both queries) against the row that was scored.
// Should they ever differ, the job scores the rest of its rows itself, on the calling thread, and stays exact.
import {availableParallelism} from 'node:os'
import {MessageChannel, type MessagePort, type Worker} from 'node:worker_threads'
import {DataError, ModelError} from '../errors.js'
import type {Frame} from '../ml/frame.js'
import type {Signature} from '../onnx/signature.js'
import type {ChunkScorer} from '../runtime/batch-udf.js'
import type {ModelOutput} from '../runtime/predictor.js'
import {
  BATCH_ROWS,
  failRing,
  type RingBuffers,
  ringBuffers,
  ringError,
  SLOTS,
  STATE,
  waitFor,
  wakeAll,
} from './batch-ring.js'
import type {ReadJob, ReadMessage, ScoreJob} from './batch-worker.js'
import {configuredThreads, spawnWorker} from './spawn.js'

export interface SpawnOptions {
  readonly bytes: Uint8Array
  readonly signature: Signature
  /** Names the model in error messages. */
  readonly model: string
  /** Scoring threads. */
  readonly threads: number
}

export interface BeginOptions {
  /**
   * The reader's query: a STRUCT column of the model's inputs and a column of its rowHash (runtime/batch-udf.ts), one
   * row per row the writer will score, in its order.
   */
  readonly sql: string
  /** Scores what the workers did not: every row after a row's hash differed. */
  readonly fallback: ChunkScorer
  /** Told once, if the writer's rows stop matching the reader's. */
  readonly onFallback?: (reason: string) => void
}

/**
 * Scoring threads for large batch jobs: MLPROJ_THREADS when set, else one per CPU, at most 4; 0 (MLPROJ_THREADS=1)
 * when the calling thread is to score every chunk itself.
 */
export function batchThreads(): number {
  const threads = Math.min(4, configuredThreads() ?? availableParallelism())
  return threads < 2 ? 0 : threads
}

/**
 * How long the writer waits for a batch before it gives up: a batch takes well under a second; a worker that died
 * outside its own error handling (which the blocked writer cannot hear of) would otherwise hang the job.
 */
const STALL_MS = 120_000

/** How long close() lets a worker finish its step before terminating it. */
const CLOSE_TIMEOUT_MS = 30_000

export class PrefetchedScores implements ChunkScorer {
  private readonly state: Int32Array
  private readonly values: Float64Array
  private readonly classIndex: Int32Array
  private readonly hashes: Int32Array
  /** The batch the writer takes rows from, and how many of its rows it has taken. */
  private batch = 0
  private taken = 0
  private fallen = false
  /** Rows whose predictions came from the workers. */
  rowsAhead = 0

  /** Settles when each worker has exited. */
  private readonly exits: ReadonlyArray<Promise<void>>
  /** The reader's query and the fallback, once the job has them. */
  private begun: BeginOptions | undefined

  private constructor(
    private readonly options: SpawnOptions,
    private readonly ring: RingBuffers,
    private readonly workers: readonly Worker[],
    /** Where the reader takes its query from (null: stop without reading). */
    private readonly control: MessagePort,
  ) {
    this.exits = workers.map(w => new Promise<void>(resolve => w.once('exit', () => resolve())))
    // An error a worker could not record itself (its module failed to load, say) stops the job, not the process.
    for (const w of workers) w.on('error', error => failRing(ring, error))
    this.state = new Int32Array(ring.state)
    this.values = new Float64Array(ring.values)
    this.classIndex = new Int32Array(ring.classIndex)
    this.hashes = new Int32Array(ring.hashes)
  }

  /**
   * Starts the reader and `threads` scorers: the scorers load the model and the reader opens its DuckDB while the
   * job reads its input's schema; begin() then gives the reader its query.
   */
  static spawn(options: SpawnOptions): PrefetchedScores {
    const {signature} = options
    const width = signature.task === 'regression' ? 1 : (signature.classes?.length ?? 1)
    const ring = ringBuffers(width)
    const channels = Array.from({length: Math.max(1, options.threads)}, () => new MessageChannel())
    const workers = channels.map(({port2}) => {
      const job: ScoreJob = {role: 'score', bytes: options.bytes, signature, model: options.model, ring, port: port2}
      return spawnWorker('batch-worker', import.meta.url, {workerData: job, transferList: [port2]})
    })
    const ports = channels.map(c => c.port1)
    const control = new MessageChannel()
    const read: ReadJob = {role: 'read', control: control.port2, signature, model: options.model, ring, ports}
    const reader = spawnWorker('batch-worker', import.meta.url, {
      workerData: read,
      transferList: [...ports, control.port2],
    })
    workers.push(reader)
    return new PrefetchedScores(options, ring, workers, control.port1)
  }

  /** Has the reader run the job's query: the rows the writer will ask for, in its order. */
  begin(options: BeginOptions): void {
    if (this.begun) throw new Error('scoring ahead has begun already')
    this.begun = options
    this.control.postMessage(options.sql satisfies ReadMessage)
  }

  /** `hashes`: the rowHash of each of the frame's rows, two words a row, as the writer's query computed them. */
  predict(frame: Frame, hashes?: Int32Array): ModelOutput {
    const begun = this.begun
    if (!begun) throw new Error('scoring ahead was not given its query')
    if (this.fallen) return begun.fallback.predict(frame)
    if (!hashes) return this.fallBack(frame, 'the rows came without their hashes')
    const n = frame.nRows
    const width = this.ring.width
    const regression = this.options.signature.task === 'regression'
    const data = new Float64Array(n * width)
    const classIndex = new Int32Array(n)
    let done = 0
    while (done < n) {
      const slot = this.batch % SLOTS
      const b = this.batch
      const ready = waitFor(
        this.state,
        STATE.ready + slot,
        () =>
          Atomics.load(this.state, STATE.ready + slot) === b + 1 ||
          (Atomics.load(this.state, STATE.total) >= 0 && b >= Atomics.load(this.state, STATE.total)),
        STALL_MS,
      )
      if (!ready) throw this.workerError()
      if (Atomics.load(this.state, STATE.ready + slot) !== b + 1)
        return this.fallBack(frame, 'the reader ran out of rows first')
      const rows = Atomics.load(this.state, STATE.rows + slot)
      const take = Math.min(n - done, rows - this.taken)
      const at = slot * BATCH_ROWS + this.taken
      for (let i = 0; i < 2 * take; i++) {
        if (this.hashes[2 * at + i] !== hashes[2 * done + i])
          return this.fallBack(frame, `row ${this.rowsAhead + done + (i >> 1) + 1} differs`)
      }
      data.set(this.values.subarray(at * width, (at + take) * width), done * width)
      if (!regression) classIndex.set(this.classIndex.subarray(at, at + take), done)
      done += take
      this.taken += take
      if (this.taken === rows) {
        this.batch++
        this.taken = 0
        Atomics.add(this.state, STATE.consumed, 1)
        Atomics.notify(this.state, STATE.consumed)
      }
    }
    this.rowsAhead += n
    if (regression) return {nRows: n, values: data}
    // No label text: the SQL function turns class indexes into labels (only such models are scored ahead).
    return {nRows: n, probabilities: data, classIndex}
  }

  /**
   * Stops the workers and waits for them to exit: each finishes the step it is in (a DuckDB chunk, an ONNX Runtime
   * run) and closes what it opened. Terminating them in the middle of a native call can abort the process.
   */
  async close(): Promise<void> {
    Atomics.store(this.state, STATE.stop, 1)
    wakeAll(this.state)
    if (!this.begun) this.control.postMessage(null satisfies ReadMessage)
    await Promise.all(
      this.workers.map(async (worker, k) => {
        let timer: NodeJS.Timeout | undefined
        const late = new Promise<void>(resolve => {
          timer = setTimeout(() => void worker.terminate().then(() => resolve()), CLOSE_TIMEOUT_MS)
        })
        await Promise.race([this.exits[k], late])
        clearTimeout(timer)
      }),
    )
    this.control.close()
  }

  private fallBack(frame: Frame, reason: string): ModelOutput {
    this.fallen = true
    Atomics.store(this.state, STATE.stop, 1)
    wakeAll(this.state)
    this.begun!.onFallback?.(reason)
    return this.begun!.fallback.predict(frame)
  }

  private workerError(): Error {
    if (!Atomics.load(this.state, STATE.failed)) {
      return new Error(`the batch scoring threads gave no batch for ${STALL_MS / 1000} s (batch ${this.batch})`)
    }
    const e = ringError(this.ring)
    const options = {hint: e.hint}
    if (e.name === 'ModelError') return new ModelError(e.code ?? 'E_MODEL_RUN', e.message, options)
    if (e.name === 'DataError') return new DataError(e.code ?? 'E_DATA', e.message, options)
    return new Error(`a batch scoring thread failed: ${e.message}`)
  }
}
