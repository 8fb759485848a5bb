// A serving worker thread: one ONNX Runtime session per loaded model version, running the batches the pool
// sends. ONNX Runtime's `run` blocks the thread that calls it, so it runs here and never on the HTTP thread.
import {parentPort} from 'node:worker_threads'
import {loadOnnxRuntime} from '../cjs.js'
import {type Column, categoricalFromStrings, numericColumn} from '../ml/frame.js'
import {Predictor} from '../runtime/predictor.js'
import type {ToWorker, WorkerError} from './pool.js'

const port = parentPort!
const predictors = new Map<string, Predictor>()
// Load ONNX Runtime now (~0.05 s), while the main thread opens the workspace: Predictor.load reuses it.
loadOnnxRuntime()

function errorOf(error: unknown): WorkerError {
  const e = error as {code?: string; message?: string; hint?: string}
  return {code: e.code ?? 'E_WORKER', message: e.message ?? String(error), hint: e.hint}
}

port.on('message', async (message: ToWorker) => {
  if (message.type === 'load') {
    try {
      // One intra-op thread per session: the pool runs one worker per core, each with its own sessions.
      const predictor = await Predictor.load(message.bytes, message.signature, message.where, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      })
      predictors.set(message.key, predictor)
      port.postMessage({type: 'loaded', id: message.id})
    } catch (error) {
      port.postMessage({type: 'failed', id: message.id, error: errorOf(error)})
    }
    return
  }
  if (message.type === 'unload') {
    predictors.delete(message.key)
    return
  }
  const predictor = predictors.get(message.key)
  try {
    if (!predictor) throw new Error(`model ${message.key} is not loaded in this worker`)
    const {nRows, numbers, texts} = message.batch
    let k = 0
    let t = 0
    const columns: Column[] = predictor.signature.inputs.map(input =>
      input.type === 'numeric'
        ? numericColumn(input.name, numbers.subarray(k * nRows, ++k * nRows))
        : categoricalFromStrings(input.name, texts[t++]!),
    )
    const output = await predictor.predict({nRows, columns})
    const transfer = [output.classIndex, output.probabilities, output.values]
      .filter(a => a !== undefined)
      .map(a => a.buffer as ArrayBuffer)
    port.postMessage({type: 'result', id: message.id, output}, transfer)
  } catch (error) {
    port.postMessage({type: 'failed', id: message.id, error: errorOf(error)})
  }
})

port.postMessage({type: 'ready'})
