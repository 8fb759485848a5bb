// A worker thread that bins features: it takes feature indices from a shared counter, writes their bins into
// shared memory and hands their bin edges back on a message port.
import {type MessagePort, workerData} from 'node:worker_threads'
import {type BinJob, binFeature} from '../ml/tree/binning.js'
import {BIN_CONTROL, type BinnedFeature, type BinWorkerData} from './bins.js'

const data = workerData as BinWorkerData & {port: MessagePort}
const control = new Int32Array(data.control)
const job: BinJob = data
const n = job.rows.length
const out = new Uint8Array(data.out)
const binned: BinnedFeature[] = []
try {
  for (
    let f = Atomics.add(control, BIN_CONTROL.next, 1);
    f < job.columns.length;
    f = Atomics.add(control, BIN_CONTROL.next, 1)
  ) {
    const {spec, missing} = binFeature(job, f, out.subarray(f * n, (f + 1) * n))
    binned.push([f, spec, missing])
  }
  data.port.postMessage(binned)
} catch (error) {
  data.port.postMessage({error: (error as Error).message})
}
Atomics.store(control, BIN_CONTROL.done, 1)
Atomics.notify(control, BIN_CONTROL.done)
