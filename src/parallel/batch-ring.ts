// The shared memory through which predict-batch's scoring workers (batch-worker.ts) hand predictions to the thread
// that writes the rows (batch-scores.ts): a ring of SLOTS slots of up to BATCH_ROWS rows each, the predictions
// and the hash of each scored row's inputs, and a small state array the threads wait on with Atomics.

export const SLOTS = 4
/** Rows per batch at most: ONNX Runtime walks trees about a third faster per row on 65,536 rows than on 2,048. */
export const BATCH_ROWS = 65_536

/** Indexes into the Int32 state array. */
export const STATE = {
  /** Batches the writer has taken in full. */
  consumed: 0,
  /** Batches the reader made, once it has read every row; -1 before. */
  total: 1,
  /** 1 once a worker failed: the error, as JSON, is in the error buffer. */
  failed: 2,
  /** 1 when the writer wants the workers to stop. */
  stop: 3,
  /** Bytes of the error's JSON. */
  errorLength: 4,
  /** + slot: 1 + the batch the slot holds, once it is written. */
  ready: 8,
  /** + slot: rows in the slot. */
  rows: 8 + SLOTS,
  length: 8 + 2 * SLOTS,
} as const

export interface RingBuffers {
  /** Int32 × STATE.length. */
  readonly state: SharedArrayBuffer
  /** Float64 × SLOTS × BATCH_ROWS × width: probabilities (classes in order) or values, row-major. */
  readonly values: SharedArrayBuffer
  /** Int32 × SLOTS × BATCH_ROWS: the class index (classifiers). */
  readonly classIndex: SharedArrayBuffer
  /** Int32 × 2 × SLOTS × BATCH_ROWS: each row's hash (rowHash in runtime/batch-udf.ts), as two words. */
  readonly hashes: SharedArrayBuffer
  /** UTF-8 JSON of a worker's error. */
  readonly error: SharedArrayBuffer
  /** Doubles per row in `values`. */
  readonly width: number
}

export function ringBuffers(width: number): RingBuffers {
  const state = new SharedArrayBuffer(4 * STATE.length)
  new Int32Array(state)[STATE.total] = -1
  return {
    state,
    values: new SharedArrayBuffer(8 * SLOTS * BATCH_ROWS * width),
    classIndex: new SharedArrayBuffer(4 * SLOTS * BATCH_ROWS),
    hashes: new SharedArrayBuffer(8 * SLOTS * BATCH_ROWS),
    error: new SharedArrayBuffer(4096),
    width,
  }
}

/** A worker's error as the writer rebuilds it: class name, code, message, hint. */
export interface WorkerError {
  readonly name: string
  readonly code?: string
  readonly message: string
  readonly hint?: string
}

/** Records a worker's error and wakes every thread waiting on the ring. */
export function failRing(ring: RingBuffers, error: unknown): void {
  const state = new Int32Array(ring.state)
  const e = error as Partial<WorkerError>
  const json: WorkerError = {
    name: e?.name ?? 'Error',
    code: e?.code,
    message: e?.message ?? String(error),
    hint: e?.hint,
  }
  const bytes = new TextEncoder().encode(JSON.stringify(json)).subarray(0, ring.error.byteLength)
  if (Atomics.compareExchange(state, STATE.failed, 0, 1) !== 0) return
  new Uint8Array(ring.error).set(bytes)
  Atomics.store(state, STATE.errorLength, bytes.length)
  wakeAll(state)
}

export function ringError(ring: RingBuffers): WorkerError {
  const state = new Int32Array(ring.state)
  const bytes = new Uint8Array(ring.error).slice(0, Atomics.load(state, STATE.errorLength))
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as WorkerError
  } catch {
    return {name: 'Error', message: 'a batch scoring worker failed'}
  }
}

export function wakeAll(state: Int32Array): void {
  for (let k = 0; k < STATE.length; k++) Atomics.notify(state, k)
}

/**
 * Waits (Atomics.wait, so on a worker or on the main thread alike) until `done()` holds, the ring failed, the
 * writer stopped it or `timeoutMs` passed; returns false in the last three cases. Wakes on any change of
 * state[index].
 */
export function waitFor(state: Int32Array, index: number, done: () => boolean, timeoutMs = Infinity): boolean {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (done()) return true
    if (Atomics.load(state, STATE.failed) || Atomics.load(state, STATE.stop) || Date.now() > deadline) return false
    Atomics.wait(state, index, Atomics.load(state, index), 100)
  }
}
