// A worker thread that grows forest trees: it takes tree indices from a shared counter, grows each tree
// from its seed on the shared binned data, and hands the trees back on a message port.
import {type MessagePort, workerData} from 'node:worker_threads'
import type {TreeData} from '../ml/tree/cart.js'
import {type ForestTreeParams, growForestTree} from '../ml/tree/forest.js'
import type {FlatTree} from '../ml/tree/tree.js'
import {FOREST_CONTROL, type ForestJob, forestData} from './forest.js'

const job = workerData as ForestJob & {port: MessagePort}
const control = new Int32Array(job.control)
const data: TreeData = forestData(job)
const params: ForestTreeParams = job.params
const seeds = new Uint32Array(job.seeds)
const trees: Array<[number, FlatTree]> = []
try {
  for (
    let i = Atomics.add(control, FOREST_CONTROL.next, 1);
    i < seeds.length;
    i = Atomics.add(control, FOREST_CONTROL.next, 1)
  ) {
    trees.push([i, growForestTree(data, params, seeds[i]!)])
  }
  const buffers = trees.flatMap(([, t]) =>
    Object.values(t)
      .filter(v => ArrayBuffer.isView(v))
      .map(v => (v as Uint8Array).buffer),
  )
  job.port.postMessage(trees, buffers as ArrayBuffer[])
} catch (error) {
  job.port.postMessage({error: (error as Error).message})
}
Atomics.store(control, FOREST_CONTROL.done, 1)
Atomics.notify(control, FOREST_CONTROL.done)
