// How tree learners may use more than one thread, as an interface: ml/ stays free of Node APIs, and the
// training service passes in an implementation backed by worker threads (src/parallel/).
import type {BinJob, BinnedColumns} from './binning.js'
import type {TreeData} from './cart.js'
import type {ForestTreeParams} from './forest.js'
import type {HistogramFn} from './grower.js'
import type {FlatTree} from './tree.js'

export interface TreeParallelism {
  /** The job's features binned on several threads (binning.binFeature for each); undefined to bin on this one. */
  bin?(job: BinJob): BinnedColumns | undefined
  /** A histogram builder over these binned rows and gradients, or undefined to build on this thread. */
  histogram(
    bins: Uint8Array,
    nRows: number,
    nFeatures: number,
    grad: Float64Array,
    hess: Float64Array,
    k: number,
  ): HistogramFn | undefined
  /**
   * The forest trees for these seeds, in seed order, grown on several threads; undefined to grow them on
   * this thread. Each tree is a pure function of the data and its seed, so the forest is the same either way.
   */
  forest?(data: TreeData, params: ForestTreeParams, seeds: Uint32Array): FlatTree[] | undefined
}
