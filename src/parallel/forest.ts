// Random-forest trees on two threads: the main thread and one worker take tree indices from a shared
// counter. Each tree depends only on the data and its seed, so the forest is identical to a one-thread fit.
// The main thread waits on shared memory and reads the worker's trees synchronously from a message port.
import {existsSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {fileURLToPath} from 'node:url'
import {MessageChannel, receiveMessageOnPort, Worker} from 'node:worker_threads'
import type {TreeData} from '../ml/tree/cart.js'
import {type ForestTreeParams, growForestTree} from '../ml/tree/forest.js'
import type {FlatTree} from '../ml/tree/tree.js'
import {configuredThreads} from './spawn.js'

export const FOREST_CONTROL = {next: 0, done: 1} as const

/**
 * Threads training may use: MLPROJ_THREADS when set (1 keeps everything on the main thread), else the
 * machine's cores, at most 2 (the trees and histograms are split between the main thread and one worker).
 */
export function trainingThreads(): number {
  return Math.min(2, configuredThreads() ?? availableParallelism())
}

/** Below this many binned cells × trees, a worker's start-up (~0.1 s) costs more than it saves. */
const MIN_PARALLEL_WORK = 20_000_000

/** What the worker needs, all in shared memory but the small bin descriptions and parameters. */
export interface ForestJob {
  readonly control: SharedArrayBuffer
  readonly seeds: SharedArrayBuffer
  readonly bins: SharedArrayBuffer
  readonly columns: SharedArrayBuffer
  readonly y: SharedArrayBuffer
  readonly nRows: number
  readonly nFeatures: number
  readonly nClasses: number
  readonly features: TreeData['data']['features']
  readonly hasMissing: Uint8Array
  readonly params: ForestTreeParams
}

export function forestData(job: ForestJob): TreeData {
  return {
    data: {
      nRows: job.nRows,
      nFeatures: job.nFeatures,
      bins: new Uint8Array(job.bins),
      columns: new Uint8Array(job.columns),
      features: job.features,
      hasMissing: job.hasMissing,
    },
    y: new Float64Array(job.y),
    nClasses: job.nClasses,
  }
}

function shared<T extends Uint8Array | Float64Array | Uint32Array>(array: T): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(array.byteLength)
  new Uint8Array(buffer).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength))
  return buffer
}

/** The compiled worker; absent when running from TypeScript sources (tests), where one thread is used. */
const WORKER = new URL('./forest-worker.js', import.meta.url)

export function growForestParallel(
  data: TreeData,
  params: ForestTreeParams,
  seeds: Uint32Array,
): FlatTree[] | undefined {
  const work = data.data.nRows * data.data.nFeatures * seeds.length
  if (trainingThreads() < 2 || seeds.length < 4 || work < MIN_PARALLEL_WORK) return undefined
  if (!existsSync(fileURLToPath(WORKER))) return undefined
  const control = new Int32Array(new SharedArrayBuffer(8))
  const {port1, port2} = new MessageChannel()
  const job: ForestJob = {
    control: control.buffer as SharedArrayBuffer,
    seeds: shared(seeds),
    bins: shared(data.data.bins),
    columns: shared(data.data.columns),
    y: shared(data.y),
    nRows: data.data.nRows,
    nFeatures: data.data.nFeatures,
    nClasses: data.nClasses,
    features: data.data.features,
    hasMissing: data.data.hasMissing,
    params,
  }
  const worker = new Worker(WORKER, {workerData: {...job, port: port2}, transferList: [port2]})
  worker.unref()
  try {
    const trees: Array<FlatTree | undefined> = new Array(seeds.length)
    for (
      let i = Atomics.add(control, FOREST_CONTROL.next, 1);
      i < seeds.length;
      i = Atomics.add(control, FOREST_CONTROL.next, 1)
    ) {
      trees[i] = growForestTree(data, params, seeds[i]!)
    }
    while (Atomics.load(control, FOREST_CONTROL.done) === 0) {
      if (Atomics.wait(control, FOREST_CONTROL.done, 0, 600_000) === 'timed-out')
        throw new Error('forest worker thread stopped answering')
    }
    const message = receiveMessageOnPort(port1)?.message as Array<[number, FlatTree]> | {error: string} | undefined
    if (!message || !Array.isArray(message))
      throw new Error(`forest worker thread failed: ${message?.error ?? 'no trees'}`)
    for (const [i, tree] of message) trees[i] = tree
    return trees as FlatTree[]
  } finally {
    port1.close()
    void worker.terminate()
  }
}
