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

/** Byte offsets of the regions of the memory (what a worker needs to run the kernel on it). */
export interface HistogramLayout {
  readonly bins: number
  readonly rows: number
  readonly grad: number
  readonly hess: number
  readonly hist: number
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

/** The kernel bound to a memory: hist1(layout, m, from, to) sums the first m rows of the rows region. */
export function histogramKernel(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  layout: HistogramLayout,
): (m: number, from: number, to: number) => void {
  const hist1 = new WebAssembly.Instance(module, {env: {memory}}).exports.hist1 as Hist1
  const {bins, nFeatures, rows, grad, hess, hist} = layout
  return (m, from, to) => hist1(bins, nFeatures, rows, 0, m, grad, hess, hist, from, to)
}

export class WasmHistogram {
  private readonly rows: Int32Array
  private readonly grad: Float64Array
  private readonly hess: Float64Array
  private readonly hist: Float64Array
  private readonly kernel: (m: number, from: number, to: number) => void

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
      hist: region(nFeatures * FEATURE_BYTES),
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

  /** Sums the first m loaded rows into the memory's histogram, for features [from, to). */
  run(m: number, from: number, to: number): void {
    this.kernel(m, from, to)
  }

  /** Copies the memory's histogram of features [from, to) into `hist` (histogram.ts's layout, k = 1). */
  readHistogram(hist: Float64Array, from: number, to: number): void {
    const per = FEATURE_BYTES / 8
    hist.set(this.hist.subarray(from * per, to * per), from * per)
  }

  /** buildHistogram(bins, nFeatures, rows, start, end, grad, hess, 1, hist, 0, nFeatures) on this thread. */
  build(rows: Int32Array, start: number, end: number, hist: Float64Array): void {
    const {nFeatures} = this.layout
    this.run(this.loadRows(rows, start, end), 0, nFeatures)
    this.readHistogram(hist, 0, nFeatures)
  }
}

function base64Bytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), c => c.charCodeAt(0))
}
