// Scoring ahead for predict-batch: while DuckDB reads, scores (through runtime/batch-udf.ts) and writes the rows on
// one thread, worker threads read the same rows again and run them through ONNX Runtime in batches of up to
// 65,536 rows (batch-worker.ts); the SQL function then takes each chunk's predictions from shared memory instead of
// running the model on DuckDB's 2,048-row vectors, one at a time, on the JavaScript thread. Tree ensembles, whose
// walk is most of a job's time, score about a third faster per row in large batches, and on every core.
//
// The writer must meet its rows in the order the reader read them: its query runs on one DuckDB thread, and
// each row's inputs are checked against a fingerprint of the row that was scored. Should they ever differ, the
// job scores the rest of its rows itself, on the calling thread, and stays exact.
import {availableParallelism} from 'node:os'
import {MessageChannel, type Worker} from 'node:worker_threads'
import {DataError, ModelError} from '../errors.js'
import type {Frame} from '../ml/frame.js'
import type {Signature} from '../onnx/signature.js'
import type {ChunkScorer} from '../runtime/batch-udf.js'
import type {ModelOutput} from '../runtime/predictor.js'
import {
  BATCH_ROWS,
  failRing,
  fingerprints,
  type RingBuffers,
  ringBuffers,
  ringError,
  SLOTS,
  STATE,
  waitFor,
  wakeAll,
} from './batch-ring.js'
import type {ReadJob, ScoreJob} from './batch-worker.js'
import {configuredThreads, spawnWorker} from './spawn.js'

export interface PrefetchOptions {
  /** The reader's query: one STRUCT column of the model's inputs per row the writer will score, in its order. */
  readonly sql: string
  readonly bytes: Uint8Array
  readonly signature: Signature
  /** Names the model in error messages. */
  readonly model: string
  /** Scores what the workers did not: every row after a fingerprint differed. */
  readonly fallback: ChunkScorer
  /** Scoring threads. */
  readonly threads: number
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
  private readonly prints: Int32Array
  /** The batch the writer takes rows from, and how many of its rows it has taken. */
  private batch = 0
  private taken = 0
  private fallen = false
  /** Rows whose predictions came from the workers. */
  rowsAhead = 0

  /** Settles when each worker has exited. */
  private readonly exits: ReadonlyArray<Promise<void>>

  private constructor(
    private readonly options: PrefetchOptions,
    private readonly ring: RingBuffers,
    private readonly workers: readonly Worker[],
  ) {
    this.exits = workers.map(w => new Promise<void>(resolve => w.once('exit', () => resolve())))
    // An error a worker could not record itself (its module failed to load, say) stops the job, not the process.
    for (const w of workers) w.on('error', error => failRing(ring, error))
    this.state = new Int32Array(ring.state)
    this.values = new Float64Array(ring.values)
    this.classIndex = new Int32Array(ring.classIndex)
    this.prints = new Int32Array(ring.prints)
  }

  /** Starts the reader and `threads` scorers; they work while the caller's query starts. */
  static start(options: PrefetchOptions): PrefetchedScores {
    const {signature} = options
    const width = signature.task === 'regression' ? 1 : (signature.classes?.length ?? 1)
    const ring = ringBuffers(width)
    const channels = Array.from({length: Math.max(1, options.threads)}, () => new MessageChannel())
    const workers = channels.map(({port2}) => {
      const job: ScoreJob = {role: 'score', bytes: options.bytes, signature, model: options.model, ring, port: port2}
      return spawnWorker('batch-worker', import.meta.url, {workerData: job, transferList: [port2]})
    })
    const ports = channels.map(c => c.port1)
    const read: ReadJob = {role: 'read', sql: options.sql, signature, model: options.model, ring, ports}
    workers.push(spawnWorker('batch-worker', import.meta.url, {workerData: read, transferList: ports}))
    return new PrefetchedScores(options, ring, workers)
  }

  predict(frame: Frame): ModelOutput {
    if (this.fallen) return this.options.fallback.predict(frame)
    const n = frame.nRows
    const width = this.ring.width
    const regression = this.options.signature.task === 'regression'
    const data = new Float64Array(n * width)
    const classIndex = new Int32Array(n)
    const mine = new Int32Array(n)
    fingerprints(frame, mine, 0)
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
      for (let i = 0; i < take; i++) {
        if (this.prints[at + i] !== mine[done + i])
          return this.fallBack(frame, `row ${this.rowsAhead + done + i + 1} differs`)
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
  }

  private fallBack(frame: Frame, reason: string): ModelOutput {
    this.fallen = true
    Atomics.store(this.state, STATE.stop, 1)
    wakeAll(this.state)
    this.options.onFallback?.(reason)
    return this.options.fallback.predict(frame)
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
