// A worker thread of predict-batch's scoring ahead (batch-scores.ts), in one of two roles:
// - read: runs the job's input query on a DuckDB of its own, in file order, turns the rows into frames exactly as
//   the writer's SQL function does (StructReader), and sends batches of up to BATCH_ROWS rows, with their
//   hashes, to the scorers in turn;
// - score: runs its batches through ONNX Runtime on one thread and writes the predictions into the ring.
import {type MessagePort, workerData} from 'node:worker_threads'
import type {DuckDBStructVector} from '@duckdb/node-api'
import {loadDuckDB} from '../cjs.js'
import {concatFrames, type Frame} from '../ml/frame.js'
import type {Signature} from '../onnx/signature.js'
import {hashWords} from '../runtime/batch-udf.js'
import {Predictor} from '../runtime/predictor.js'
import {StructReader} from '../runtime/udf.js'
import {BATCH_ROWS, failRing, type RingBuffers, SLOTS, STATE, waitFor, wakeAll} from './batch-ring.js'

export interface ReadJob {
  readonly role: 'read'
  /** Gives the reader its query once the job has it (ReadMessage). */
  readonly control: MessagePort
  readonly signature: Signature
  /** Names the model in error messages. */
  readonly model: string
  readonly ring: RingBuffers
  /** One port per scorer. */
  readonly ports: readonly MessagePort[]
}

export interface ScoreJob {
  readonly role: 'score'
  readonly bytes: Uint8Array
  readonly signature: Signature
  readonly model: string
  readonly ring: RingBuffers
  readonly port: MessagePort
}

/**
 * The reader's query: SELECT of a STRUCT column holding the model's inputs and a UBIGINT column of its rowHash, one
 * row per row the writer scores, in its order; null to stop without reading.
 */
export type ReadMessage = string | null

/** What the reader sends a scorer: batch b, its rows and their hashes (two words a row); null: no more batches. */
export type ScoreMessage = {readonly batch: number; readonly frame: Frame; readonly hashes: Int32Array} | null

const job = workerData as ReadJob | ScoreJob
if (job.role === 'read') await read(job)
else await score(job)

async function read(job: ReadJob): Promise<void> {
  const state = new Int32Array(job.ring.state)
  const reader = new StructReader(job.signature)
  let batches = 0
  try {
    const {DuckDBInstance} = loadDuckDB()
    const instance = await DuckDBInstance.create(':memory:', {threads: '1'})
    const con = await instance.connect()
    try {
      const sql = await new Promise<ReadMessage>(resolve => {
        job.control.once('message', resolve)
        job.control.once('close', () => resolve(null))
      })
      job.control.close()
      if (sql === null || Atomics.load(state, STATE.stop)) return
      const result = await con.stream(sql)
      let pending: Frame[] = []
      let hashes = new Int32Array(2 * BATCH_ROWS)
      let rows = 0
      const send = (): boolean => {
        // At most SLOTS + 1 batches ahead of the writer, so memory stays bounded whatever the input's size.
        const b = batches
        if (!waitFor(state, STATE.consumed, () => b - Atomics.load(state, STATE.consumed) <= SLOTS)) return false
        const frame = concatFrames(pending)
        const message: ScoreMessage = {batch: b, frame, hashes: hashes.subarray(0, 2 * rows)}
        job.ports[b % job.ports.length]!.postMessage(message, [hashes.buffer])
        batches++
        pending = []
        hashes = new Int32Array(2 * BATCH_ROWS)
        rows = 0
        return true
      }
      for (;;) {
        if (Atomics.load(state, STATE.stop)) return
        const chunk = await result.fetchChunk()
        if (!chunk || chunk.rowCount === 0) break
        const n = chunk.rowCount
        // The first batches are small, so that the writer starts soon; then BATCH_ROWS.
        if (rows + n > Math.min(BATCH_ROWS, 8192 * 2 ** batches) && rows > 0 && !send()) return
        pending.push(reader.frame(chunk.getColumnVector(0) as DuckDBStructVector, n, job.model))
        hashes.set(hashWords(chunk.getColumnVector(1), n), 2 * rows)
        rows += n
      }
      if (rows > 0 && !send()) return
      Atomics.store(state, STATE.total, batches)
      wakeAll(state)
    } finally {
      con.closeSync()
      instance.closeSync()
    }
  } catch (error) {
    failRing(job.ring, error)
  } finally {
    for (const port of job.ports) port.postMessage(null satisfies ScoreMessage)
  }
}

async function score(job: ScoreJob): Promise<void> {
  const state = new Int32Array(job.ring.state)
  const {width} = job.ring
  const values = new Float64Array(job.ring.values)
  const classIndex = new Int32Array(job.ring.classIndex)
  const hashes = new Int32Array(job.ring.hashes)
  let predictor: Predictor
  try {
    predictor = await Predictor.load(
      job.bytes,
      job.signature,
      job.model,
      {intraOpNumThreads: 1, extra: {session: {intra_op: {allow_spinning: '0'}}}},
      true,
    )
  } catch (error) {
    failRing(job.ring, error)
    job.port.close()
    return
  }
  let queue = Promise.resolve()
  const write = async (message: NonNullable<ScoreMessage>): Promise<void> => {
    if (Atomics.load(state, STATE.stop) || Atomics.load(state, STATE.failed)) return
    const {batch, frame} = message
    const output = await predictor.predict(frame)
    const slot = batch % SLOTS
    // The slot is free once the writer has taken the batch SLOTS before this one.
    if (!waitFor(state, STATE.consumed, () => Atomics.load(state, STATE.consumed) >= batch - SLOTS + 1)) return
    const at = slot * BATCH_ROWS
    const data = output.probabilities ?? output.values!
    values.set(data.subarray(0, frame.nRows * width), at * width)
    if (output.classIndex) classIndex.set(output.classIndex, at)
    hashes.set(message.hashes, 2 * at)
    Atomics.store(state, STATE.rows + slot, frame.nRows)
    Atomics.store(state, STATE.ready + slot, batch + 1)
    Atomics.notify(state, STATE.ready + slot)
  }
  job.port.on('message', (message: ScoreMessage) => {
    if (message === null) {
      queue = queue.then(() => job.port.close())
      return
    }
    queue = queue.then(() => write(message)).catch(error => failRing(job.ring, error))
  })
}
