// Gradient boosting's histograms (k = 1) in WebAssembly (histogram.wat): the binned data, the node's rows, the
// gradients and the histogram live in one shared WebAssembly memory, so that a worker thread can run the same
// kernel over the same memory for its share of the features (src/parallel/histograms.ts). Sums are those of
// buildHistogram, in the same order: the trees are bit-identical to the ones the TypeScript kernel grows.
import {HIST_BINS} from './binning.js'
import {HISTOGRAM_WASM} from './histogram-wasm.js'

/** Bytes of one feature's histogram: 256 bins × (gradient, hessian, count) f64. */
const FEATURE_BYTES = HIST_BINS * 3 * 8
const PAGE = 65_536
/** WebAssembly memory is addressed with 32 bits. */
const MAX_PAGES = 65_536

/** Histograms a tree may hold in the memory at once (fewer for wide data, within SLOT_BYTES); others are copies. */
const SLOTS = 64
const SLOT_BYTES = 32 * 2 ** 20

/** Byte offsets of the regions of the memory (what a worker needs to run the kernel on it). */
export interface HistogramLayout {
  readonly bins: number
  readonly rows: number
  readonly grad: number
  readonly hess: number
  /** slots + 1 histograms: the first is where results to copy out go. */
  readonly hist: number
  readonly slots: number
  readonly nRows: number
  readonly nFeatures: number
}

type Hist1 = (
  bins: number,
  nFeatures: number,
  rows: number,
  start: number,
  end: number,
  grad: number,
  hess: number,
  hist: number,
  from: number,
  to: number,
) => void

let compiled: WebAssembly.Module | undefined

/** The compiled kernel (compiled once per thread). */
export function histogramModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(base64Bytes(HISTOGRAM_WASM))
  return compiled
}

/** The kernel bound to a memory: sums the first m rows of the rows region into the histogram at byte `hist`. */
export function histogramKernel(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  layout: HistogramLayout,
): (m: number, from: number, to: number, hist: number) => void {
  const hist1 = new WebAssembly.Instance(module, {env: {memory}}).exports.hist1 as Hist1
  const {bins, nFeatures, rows, grad, hess} = layout
  return (m, from, to, hist) => hist1(bins, nFeatures, rows, 0, m, grad, hess, hist, from, to)
}

export class WasmHistogram {
  private readonly rows: Int32Array
  private readonly grad: Float64Array
  private readonly hess: Float64Array
  private readonly hist: Float64Array
  private readonly kernel: (m: number, from: number, to: number, hist: number) => void
  private slotsUsed = 0

  private constructor(
    readonly memory: WebAssembly.Memory,
    readonly layout: HistogramLayout,
  ) {
    const {buffer} = memory
    this.rows = new Int32Array(buffer, layout.rows, layout.nRows)
    this.grad = new Float64Array(buffer, layout.grad, layout.nRows)
    this.hess = new Float64Array(buffer, layout.hess, layout.nRows)
    this.hist = new Float64Array(buffer, layout.hist, (layout.nFeatures * FEATURE_BYTES) / 8)
    this.kernel = histogramKernel(histogramModule(), memory, layout)
  }

  /** A memory holding a copy of the binned data (nRows × nFeatures); undefined when it would not fit in 4 GiB. */
  static create(bins: Uint8Array, nRows: number, nFeatures: number): WasmHistogram | undefined {
    if (typeof WebAssembly === 'undefined' || bins.length !== nRows * nFeatures) return undefined
    const slots = Math.min(SLOTS, Math.floor(SLOT_BYTES / (nFeatures * FEATURE_BYTES)))
    let top = 0
    const region = (bytes: number) => {
      const at = top
      top += Math.ceil(bytes / 64) * 64
      return at
    }
    const layout: HistogramLayout = {
      bins: region(bins.length),
      rows: region(nRows * 4),
      grad: region(nRows * 8),
      hess: region(nRows * 8),
      hist: region((slots + 1) * nFeatures * FEATURE_BYTES),
      slots,
      nRows,
      nFeatures,
    }
    const pages = Math.max(1, Math.ceil(top / PAGE))
    if (pages > MAX_PAGES) return undefined
    let memory: WebAssembly.Memory
    try {
      memory = new WebAssembly.Memory({initial: pages, maximum: pages, shared: true})
    } catch {
      return undefined
    }
    new Uint8Array(memory.buffer, layout.bins, bins.length).set(bins)
    return new WasmHistogram(memory, layout)
  }

  /** The gradients and hessians of the tree being grown, by row. */
  setGradients(grad: Float64Array, hess: Float64Array): void {
    this.grad.set(grad)
    this.hess.set(hess)
  }

  /** Puts rows[start..end) in the memory's rows region; returns how many. */
  loadRows(rows: Int32Array, start: number, end: number): number {
    this.rows.set(rows.subarray(start, end))
    return end - start
  }

  /**
   * A histogram buffer in the memory, which the kernel fills in place; undefined once all are handed out until
   * `releaseAll` (callers then pass their own buffers, filled by copy).
   */
  allocate(): Float64Array | undefined {
    if (this.slotsUsed >= this.layout.slots) return undefined
    const size = this.layout.nFeatures * (FEATURE_BYTES / 8)
    this.slotsUsed++
    return new Float64Array(this.memory.buffer, this.layout.hist + this.slotsUsed * size * 8, size)
  }

  /** The allocated buffers are no longer used (a new tree starts). */
  releaseAll(): void {
    this.slotsUsed = 0
  }

  /** Where the kernel writes `hist`: in place when it is in the memory, else the copy-out histogram. */
  target(hist: Float64Array): number {
    return hist.buffer === this.memory.buffer ? hist.byteOffset : this.layout.hist
  }

  /** Sums the first m loaded rows into the histogram at byte `target`, for features [from, to). */
  run(m: number, from: number, to: number, target: number): void {
    this.kernel(m, from, to, target)
  }

  /** After run(…, target(hist)): copies features [from, to) into `hist` unless they are there already. */
  finish(hist: Float64Array, from: number, to: number): void {
    if (hist.buffer === this.memory.buffer) return
    const per = FEATURE_BYTES / 8
    hist.set(this.hist.subarray(from * per, to * per), from * per)
  }

  /** buildHistogram(bins, nFeatures, rows, start, end, grad, hess, 1, hist, 0, nFeatures) on this thread. */
  build(rows: Int32Array, start: number, end: number, hist: Float64Array): void {
    const {nFeatures} = this.layout
    this.run(this.loadRows(rows, start, end), 0, nFeatures, this.target(hist))
    this.finish(hist, 0, nFeatures)
  }
}

function base64Bytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), c => c.charCodeAt(0))
}
