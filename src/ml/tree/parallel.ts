// How tree learners may use more than one thread, as an interface: ml/ stays free of Node APIs, and the
// training service passes in an implementation backed by worker threads (src/parallel/).
import type {HistogramFn} from './grower.js'

export interface TreeParallelism {
  /** A histogram builder over these binned rows and gradients, or undefined to build on this thread. */
  histogram(
    bins: Uint8Array,
    nRows: number,
    nFeatures: number,
    grad: Float64Array,
    hess: Float64Array,
    k: number,
  ): HistogramFn | undefined
}
