// Binning: maps every feature to at most 255 bins plus one bin for missing values, so histograms have a
// fixed size and split finding scans bins instead of sorted values (LightGBM / scikit-learn HistGradientBoosting).
import type {Frame} from '../frame.js'
import type {Preprocessor} from '../preprocess.js'
import {levelMap} from '../preprocess.js'
import {Rng} from '../rng.js'
import type {TreeParallelism} from './parallel.js'

/** Bin index of missing values (and, for categories, of unseen or rare ones); 255 real bins sit below it. */
export const MISSING_BIN = 255
export const HIST_BINS = 256
/** Quantiles are computed on at most this many values, as scikit-learn does (subsample=2e5). */
const QUANTILE_SAMPLE = 200_000

export interface NumericBins {
  readonly kind: 'numeric'
  /** Upper edges: bin b holds values v with thresholds[b-1] < v <= thresholds[b]; the last bin is unbounded. */
  readonly thresholds: Float64Array
  readonly nBins: number
}

export interface CategoricalBins {
  readonly kind: 'categorical'
  /** Category (level index of the preprocessor) held by each bin. */
  readonly categories: Int32Array
  readonly nBins: number
}

export type FeatureBins = NumericBins | CategoricalBins

export interface BinnedData {
  readonly nRows: number
  readonly nFeatures: number
  /** nRows × nFeatures, row-major (row r, feature f at r × nFeatures + f); MISSING_BIN for missing. */
  readonly bins: Uint8Array
  /** The same bins nFeatures × nRows, column-major: partitioning a node reads one feature of many rows. */
  readonly columns: Uint8Array
  readonly features: readonly FeatureBins[]
  /** Whether any training row of the feature was missing. */
  readonly hasMissing: Uint8Array
}

/**
 * The feature values of `rows` of the frame as trees see them: numbers as they are, categories as the
 * preprocessor's level index, NaN for missing values and unseen categories. Column-major per feature.
 */
export function featureColumns(pre: Preprocessor, frame: Frame): Float64Array[] {
  return pre.inputs.map(input => {
    const column = frame.columns.find(c => c.name === input.name)!
    if (column.kind === 'numeric') return column.values
    if (input.kind !== 'categorical' || column.kind !== 'categorical')
      throw new Error(`column ${input.name} changed kind`)
    const map = levelMap(input, column)
    return Float64Array.from(column.codes, c => (c < 0 || map[c]! < 0 ? Number.NaN : map[c]!))
  })
}

/** What binning needs, for this thread or a worker: each feature is binned independently of the others. */
export interface BinJob {
  readonly columns: readonly Float64Array[]
  readonly categorical: readonly boolean[]
  readonly rows: Int32Array
  readonly maxBins: number
  /** The seed of each feature's quantile sample: the bins do not depend on which thread fits them. */
  readonly seeds: Uint32Array
}

/** Every feature's bins, column-major (feature f's rows at f × nRows). */
export interface BinnedColumns {
  readonly columns: Uint8Array
  readonly features: FeatureBins[]
  readonly hasMissing: Uint8Array
}

/** Fits feature f's bins on the job's rows and writes each row's bin into `out`. */
export function binFeature(job: BinJob, f: number, out: Uint8Array): {spec: FeatureBins; missing: number} {
  const column = job.columns[f]!
  const spec = job.categorical[f]
    ? fitCategorical(column, job.rows, job.maxBins)
    : fitNumeric(column, job.rows, job.maxBins, new Rng(job.seeds[f]!))
  return {spec, missing: applyBins(spec, column, job.rows, out)}
}

/**
 * Fits the bins on the given rows and bins them (rows in the given order become rows 0..n-1). `parallel` may
 * bin the features on several threads; the result is the same.
 */
export function binData(
  columns: readonly Float64Array[],
  categorical: readonly boolean[],
  rows: Int32Array,
  maxBins: number,
  seed: number,
  parallel?: TreeParallelism,
): BinnedData {
  const n = rows.length
  const p = columns.length
  const rng = new Rng(seed)
  const job: BinJob = {
    columns,
    categorical,
    rows,
    maxBins,
    seeds: Uint32Array.from({length: p}, () => rng.nextUint32()),
  }
  const binned = parallel?.bin?.(job) ?? binColumns(job)
  const bins = new Uint8Array(p * n)
  transpose(binned.columns, p, n, bins)
  return {nRows: n, nFeatures: p, bins, ...binned}
}

function binColumns(job: BinJob): BinnedColumns {
  const n = job.rows.length
  const p = job.columns.length
  const columns = new Uint8Array(p * n)
  const hasMissing = new Uint8Array(p)
  const features: FeatureBins[] = []
  for (let f = 0; f < p; f++) {
    const {spec, missing} = binFeature(job, f, columns.subarray(f * n, (f + 1) * n))
    features.push(spec)
    hasMissing[f] = missing
  }
  return {columns, features, hasMissing}
}

/** out (cols × rows) = in (rows × cols) transposed, in cache-sized blocks. */
function transpose(input: Uint8Array, rows: number, cols: number, out: Uint8Array): void {
  const B = 64
  for (let r0 = 0; r0 < rows; r0 += B) {
    for (let c0 = 0; c0 < cols; c0 += B) {
      const r1 = Math.min(rows, r0 + B)
      const c1 = Math.min(cols, c0 + B)
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = input[r * cols + c]!
    }
  }
}

function fitNumeric(column: Float64Array, rows: Int32Array, maxBins: number, rng: Rng): NumericBins {
  let values = new Float64Array(rows.length)
  let m = 0
  for (let i = 0; i < rows.length; i++) {
    const v = column[rows[i]!]!
    if (!Number.isNaN(v)) values[m++] = v
  }
  values = values.subarray(0, m)
  if (m > QUANTILE_SAMPLE) {
    // A seeded sample (with replacement) is enough for quantile edges and avoids shuffling every value.
    const sample = new Float64Array(QUANTILE_SAMPLE)
    for (let i = 0; i < QUANTILE_SAMPLE; i++) sample[i] = values[rng.nextInt(m)]!
    values = sample
  }
  sortDoubles(values)
  const distinct: number[] = []
  for (let i = 0; i < values.length; i++) if (i === 0 || values[i] !== values[i - 1]) distinct.push(values[i]!)
  const thresholds: number[] = []
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) thresholds.push(midpoint(distinct[i]!, distinct[i + 1]!))
  } else {
    // Quantile edges over the (sub)sample, deduplicated; midpoints keep each edge between two observed values.
    for (let b = 1; b < maxBins; b++) {
      const q = (b / maxBins) * (values.length - 1)
      const lo = values[Math.floor(q)]!
      const hi = values[Math.min(values.length - 1, Math.floor(q) + 1)]!
      const edge = lo === hi ? lo : midpoint(lo, hi)
      if (thresholds.length === 0 || edge > thresholds[thresholds.length - 1]!) thresholds.push(edge)
    }
    if (thresholds[thresholds.length - 1]! >= values[values.length - 1]!) thresholds.pop()
  }
  return {kind: 'numeric', thresholds: Float64Array.from(thresholds), nBins: thresholds.length + 1}
}

/**
 * Sorts doubles (no NaN) ascending in place, as Float64Array.prototype.sort does (−0 before +0), by a radix sort
 * on their bits: four passes of 16 bits, 2.3× faster than the built-in sort on the 200,000-value quantile sample.
 */
export function sortDoubles(values: Float64Array): void {
  const n = values.length
  if (n < 4096) {
    values.sort()
    return
  }
  // As unsigned 64-bit keys in two words: negatives with every bit flipped, the others with the sign bit set.
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n)
  let lo = new Uint32Array(n)
  let hi = new Uint32Array(n)
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1]!
    const l = words[2 * i]!
    const negative = h >>> 31 === 1
    hi[i] = negative ? ~h >>> 0 : (h | 0x80000000) >>> 0
    lo[i] = negative ? ~l >>> 0 : l
  }
  let lo2 = new Uint32Array(n)
  let hi2 = new Uint32Array(n)
  const count = new Int32Array(65_536)
  for (let pass = 0; pass < 4; pass++) {
    const shift = (pass & 1) * 16
    const digits = pass < 2 ? lo : hi
    count.fill(0)
    for (let i = 0; i < n; i++) count[(digits[i]! >>> shift) & 0xffff]!++
    for (let d = 0, sum = 0; d < 65_536; d++) {
      const c = count[d]!
      count[d] = sum
      sum += c
    }
    for (let i = 0; i < n; i++) {
      const at = count[(digits[i]! >>> shift) & 0xffff]!++
      lo2[at] = lo[i]!
      hi2[at] = hi[i]!
    }
    ;[lo, lo2] = [lo2, lo]
    ;[hi, hi2] = [hi2, hi]
  }
  for (let i = 0; i < n; i++) {
    const h = hi[i]!
    const negative = h >>> 31 === 0
    words[2 * i + 1] = negative ? ~h >>> 0 : (h & 0x7fffffff) >>> 0
    words[2 * i] = negative ? ~lo[i]! >>> 0 : lo[i]!
  }
}

/** Halfway between two doubles, exactly representable and strictly below `b` (so `a <= t < b`). */
function midpoint(a: number, b: number): number {
  const m = a + (b - a) / 2
  return m < b ? m : a
}

function fitCategorical(column: Float64Array, rows: Int32Array, maxBins: number): CategoricalBins {
  const counts = new Map<number, number>()
  for (let i = 0; i < rows.length; i++) {
    const v = column[rows[i]!]!
    if (!Number.isNaN(v)) counts.set(v, (counts.get(v) ?? 0) + 1)
  }
  // More categories than bins: keep the most frequent; the rest share the missing bin.
  const kept = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, maxBins)
  const categories = Int32Array.from(kept.map(([c]) => c)).sort()
  return {kind: 'categorical', categories, nBins: categories.length}
}

/** Bins other rows (validation, prediction) with bins fitted elsewhere; same layout as BinnedData.bins. */
export function applyBinning(
  features: readonly FeatureBins[],
  columns: readonly Float64Array[],
  rows: Int32Array,
): Uint8Array {
  const n = rows.length
  const byColumn = new Uint8Array(features.length * n)
  features.forEach((spec, f) => {
    applyBins(spec, columns[f]!, rows, byColumn.subarray(f * n, (f + 1) * n))
  })
  const bins = new Uint8Array(features.length * n)
  transpose(byColumn, features.length, n, bins)
  return bins
}

/** Writes the bin of each row; returns 1 when a row landed in the missing bin. */
function applyBins(spec: FeatureBins, column: Float64Array, rows: Int32Array, out: Uint8Array): number {
  let missing = 0
  if (spec.kind === 'numeric') {
    // Thresholds padded to 256 with +Infinity allow a fixed 8-step, branch-free binary search (2× faster).
    const t = new Float64Array(HIST_BINS).fill(Number.POSITIVE_INFINITY)
    t.set(spec.thresholds)
    for (let i = 0; i < rows.length; i++) {
      const v = column[rows[i]!]!
      if (Number.isNaN(v)) {
        out[i] = MISSING_BIN
        missing = 1
        continue
      }
      let b = v > t[127]! ? 128 : 0
      b += v > t[b + 63]! ? 64 : 0
      b += v > t[b + 31]! ? 32 : 0
      b += v > t[b + 15]! ? 16 : 0
      b += v > t[b + 7]! ? 8 : 0
      b += v > t[b + 3]! ? 4 : 0
      b += v > t[b + 1]! ? 2 : 0
      b += v > t[b]! ? 1 : 0
      out[i] = b
    }
    return missing
  }
  const binOf = new Map<number, number>()
  spec.categories.forEach((c, b) => {
    binOf.set(c, b)
  })
  for (let i = 0; i < rows.length; i++) {
    const v = column[rows[i]!]!
    const b = Number.isNaN(v) ? undefined : binOf.get(v)
    if (b === undefined) {
      out[i] = MISSING_BIN
      missing = 1
    } else out[i] = b
  }
  return missing
}
