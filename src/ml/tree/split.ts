// Split finding: the decrease of Σ_k G_k²/(H + λ) (XGBoost/LightGBM's gain; with g = −w·y or −w·onehot(y), h = w,
// λ = 0 it is CART's squared-error or Gini decrease) or of entropy. Missing values try both sides; categories are
// ordered by G/(H + smoothing) and split as a set (LightGBM); raw values route like bins (see keepMirrored).
import {type BinnedData, HIST_BINS, MISSING_BIN} from './binning.js'

/** CART impurities; gains are decreases of node weight × impurity. */
export type Criterion = 'gini' | 'entropy' | 'squared_error'

export interface SplitConstraints {
  readonly k: number
  readonly lambdaL2: number
  readonly minDataInLeaf: number
  readonly minSumHessian: number
  readonly minGainToSplit: number
  /** Added to H when ordering categories, so rare categories do not look extreme. */
  readonly catSmooth: number
  /**
   * A CART criterion instead of boosting's gain. 'gini' and 'squared_error' are Σ G²/H (λ must be 0) on
   * g = −w·onehot(y) (K = 1 for two classes: −w·y) or −w·y and h = w; 'entropy' uses the class weights −G_k
   * (K = 1: −G and H + G). Gains within rounding noise of the node's score count as no gain.
   */
  readonly criterion?: Criterion
}

export interface Split {
  readonly feature: number
  readonly gain: number
  /** Numeric: rows whose bin is <= this go left (nBins − 1: every non-missing row goes left). */
  readonly bin: number
  /** Numeric: the node has no rows in bins bin + 1 .. binHigh, so any threshold in that gap splits it alike. */
  readonly binHigh: number
  /** Categorical: bins (categories) that go left, never empty; null for numeric splits. */
  readonly leftBins: Uint8Array | null
  /** Always false for categorical splits: rare categories share the missing bin but are not NaN when raw. */
  readonly missingLeft: boolean
  /** K gradient sums, hessian sum and count of the left child (right = node − left). */
  readonly left: Float64Array
}

/** Σ_k G_k² / (H + λ): the node's "score"; gains are differences of it. */
export function nodeScore(stats: Float64Array, offset: number, k: number, lambda: number): number {
  const h = stats[offset + k]! + lambda
  if (h <= 0) return 0
  let s = 0
  for (let j = 0; j < k; j++) s += stats[offset + j]! * stats[offset + j]!
  return s / h
}

/** Σ_k c_k log2 c_k − N log2 N with class weights c_k = −G_k (K = 1: −G, H + G) and N = H: −N × entropy. */
function negEntropy(stats: Float64Array, offset: number, k: number): number {
  const n = stats[offset + k]!
  if (n <= 0) return 0
  const xlogx = (x: number) => (x > 0 ? x * Math.log2(x) : 0)
  let s = -xlogx(n)
  if (k === 1) return s + xlogx(-stats[offset]!) + xlogx(n + stats[offset]!)
  for (let j = 0; j < k; j++) s += xlogx(-stats[offset + j]!)
  return s
}

/** The node's score under the constraints' criterion: gains are children's scores minus the parent's. */
function criterionScore(stats: Float64Array, offset: number, cons: SplitConstraints): number {
  return cons.criterion === 'entropy'
    ? negEntropy(stats, offset, cons.k)
    : nodeScore(stats, offset, cons.k, cons.lambdaL2)
}

/**
 * A feature's statistics in one node, compacted: `order[0 .. nPresent)` are offsets into `stats` (K + 2 values
 * each) of the bins holding rows, by ascending bin, missing bin excluded; `bins[i]` is the bin of `order[i]`.
 */
interface FeatureStats {
  stats: Float64Array
  readonly order: Int32Array
  readonly bins: Uint8Array
  nPresent: number
  /** Offset of the missing bin's sums, or -1 when no row of the node is missing. */
  missing: number
}

function featureStats(stats: Float64Array): FeatureStats {
  return {stats, order: new Int32Array(HIST_BINS), bins: new Uint8Array(HIST_BINS), nPresent: 0, missing: -1}
}

/** Finds the best split over features one at a time; holds the scratch buffers of one tree's search. */
class SplitScan {
  private readonly left: Float64Array
  private readonly right: Float64Array
  private readonly keys = new Float64Array(HIST_BINS)
  private readonly byKey = new Int32Array(HIST_BINS)
  private readonly minCount: number
  private parentScore = 0
  private totals: Float64Array = new Float64Array(0)
  // The best split so far, kept in fields: a node's search improves on it many times.
  private bestGain = 0
  private bestFeature = -1
  private bestBin = -1
  private bestBinHigh = -1
  private bestLeftBins: Uint8Array | null = null
  private bestMissingLeft = false
  private readonly bestLeft: Float64Array

  constructor(
    private readonly data: BinnedData,
    private readonly cons: SplitConstraints,
  ) {
    this.left = new Float64Array(cons.k + 2)
    this.right = new Float64Array(cons.k + 2)
    this.bestLeft = new Float64Array(cons.k + 2)
    this.minCount = Math.max(1, cons.minDataInLeaf)
  }

  begin(totals: Float64Array): void {
    this.bestFeature = -1
    this.bestGain = 0
    this.totals = totals
    this.parentScore = criterionScore(totals, 0, this.cons)
  }

  best(): Split | undefined {
    if (this.bestFeature < 0) return undefined
    return {
      feature: this.bestFeature,
      gain: this.bestGain,
      bin: this.bestBin,
      binHigh: this.bestBinHigh,
      leftBins: this.bestLeftBins,
      missingLeft: this.bestMissingLeft,
      left: Float64Array.from(this.bestLeft),
    }
  }

  /** Gain of sending `left` to the left child, or NaN when a child breaks the constraints. */
  private gain(): number {
    const {left, right, totals, cons} = this
    const k = cons.k
    for (let j = 0; j < k + 2; j++) right[j] = totals[j]! - left[j]!
    if (left[k + 1]! < this.minCount || right[k + 1]! < this.minCount) return Number.NaN
    if (left[k]! < cons.minSumHessian || right[k]! < cons.minSumHessian) return Number.NaN
    const sl = criterionScore(left, 0, cons)
    const sr = criterionScore(right, 0, cons)
    const gain = sl + sr - this.parentScore
    if (cons.criterion === undefined) return gain
    // Pure nodes give gains of rounding noise, ~1e-16 of the scores; CART must not split them.
    const scale = cons.criterion === 'entropy' ? -this.parentScore : sl + sr
    return gain > 1e-12 * scale ? gain : 0
  }

  private better(gain: number): boolean {
    return gain > this.cons.minGainToSplit && gain > 1e-12 && (this.bestFeature < 0 || gain > this.bestGain)
  }

  private keep(f: number, gain: number, bin: number, binHigh: number, leftBins: Uint8Array | null, ml: boolean) {
    this.bestFeature = f
    this.bestGain = gain
    this.bestBin = bin
    this.bestBinHigh = binHigh
    this.bestLeftBins = leftBins
    this.bestMissingLeft = ml
    this.bestLeft.set(this.left)
  }

  /**
   * Keeps the split whose left child is `this.left`, written the other way round: left and right swapped, and
   * missing values on the right. A numeric "missing values alone on the left" becomes "every value left"
   * (bin nBins − 1, threshold +∞), since no threshold sends −∞ right; a categorical one lists the other
   * categories, as raw categories that share the missing bin (beyond maxBins) are no NaN and go right anyway.
   */
  private keepMirrored(f: number, gain: number, bin: number, leftBins: Uint8Array | null) {
    this.keep(f, gain, bin, bin, leftBins, false)
    const {bestLeft, totals} = this
    for (let j = 0; j < bestLeft.length; j++) bestLeft[j] = totals[j]! - bestLeft[j]!
  }

  /** Considers every split of feature `f` described by `fs`. */
  scan(f: number, fs: FeatureStats): void {
    const spec = this.data.features[f]!
    if (spec.kind === 'categorical') this.scanCategorical(f, fs)
    else if (this.cons.k === 1) this.scanNumericScalar(f, fs, spec.nBins)
    else this.scanNumeric(f, fs, spec.nBins)
  }

  private scanNumeric(f: number, fs: FeatureStats, nBins: number): void {
    const {cons, left, totals} = this
    const k = cons.k
    const c = k + 2
    const {stats, order, nPresent, missing} = fs
    const hasMissing = missing >= 0
    // Two scans: missing values with the right child, then with the left one.
    for (let pass = 0; pass < (hasMissing ? 2 : 1); pass++) {
      const missingLeft = pass === 1
      if (missingLeft) {
        for (let j = 0; j < c; j++) left[j] = stats[missing + j]!
        const gain = this.gain()
        if (this.better(gain)) this.keepMirrored(f, gain, nBins - 1, null)
      } else left.fill(0)
      for (let i = 0; i < nPresent; i++) {
        const o = order[i]!
        const b = fs.bins[i]!
        if (b >= nBins - 1) break
        for (let j = 0; j < c; j++) left[j] = left[j]! + stats[o + j]!
        const gain = this.gain()
        if (this.better(gain)) {
          const ml = missingLeft || (!hasMissing && left[k + 1]! >= totals[k + 1]! / 2)
          this.keep(f, gain, b, binHigh(fs, i, c), null, ml)
        }
      }
    }
  }

  /**
   * scanNumeric for one channel (gradient boosting; CART on two classes or regression): the same sums, gains and
   * choices, on scalars instead of through the K-channel buffers (2× faster).
   */
  private scanNumericScalar(f: number, fs: FeatureStats, nBins: number): void {
    const {totals, minCount, left} = this
    const {criterion, lambdaL2} = this.cons
    const entropy = criterion === 'entropy'
    const minHess = this.cons.minSumHessian
    const {stats, order, bins, nPresent, missing} = fs
    const tg = totals[0]!
    const th = totals[1]!
    const tn = totals[2]!
    const parent = this.parentScore
    const hasMissing = missing >= 0
    for (let pass = 0; pass < (hasMissing ? 2 : 1); pass++) {
      let g = 0
      let h = 0
      let n = 0
      if (pass === 1) {
        g = stats[missing]!
        h = stats[missing + 1]!
        n = stats[missing + 2]!
      }
      for (let i = pass === 1 ? -1 : 0; i < nPresent; i++) {
        let b = -1
        if (i >= 0) {
          const o = order[i]!
          b = bins[i]!
          if (b >= nBins - 1) break
          g += stats[o]!
          h += stats[o + 1]!
          n += stats[o + 2]!
        }
        if (n < minCount) continue
        if (tn - n < minCount) break
        if (h < minHess || th - h < minHess) continue
        let gain: number
        if (criterion === undefined) {
          // nodeScore of each side: G² / (H + λ), 0 when H + λ ≤ 0.
          const hl = h + lambdaL2
          const hr = th - h + lambdaL2
          gain = (hl <= 0 ? 0 : (g * g) / hl) + (hr <= 0 ? 0 : ((tg - g) * (tg - g)) / hr) - parent
        } else if (entropy) {
          gain = binaryNegEntropy(g, h) + binaryNegEntropy(tg - g, th - h) - parent
          if (!(gain > -1e-12 * parent)) continue
        } else {
          const sl = (g * g) / h
          const sr = ((tg - g) * (tg - g)) / (th - h)
          gain = sl + sr - parent
          if (!(gain > 1e-12 * (sl + sr))) continue
        }
        if (this.better(gain)) {
          left[0] = g
          left[1] = h
          left[2] = n
          if (i < 0) this.keepMirrored(f, gain, nBins - 1, null)
          else this.keep(f, gain, b, binHigh(fs, i, 3), null, pass === 1 || (!hasMissing && n >= tn / 2))
        }
      }
    }
  }

  private scanCategorical(f: number, fs: FeatureStats): void {
    const {cons, left, keys, byKey} = this
    const k = cons.k
    const c = k + 2
    const {stats, order, nPresent, missing} = fs
    const hasMissing = missing >= 0
    const nBins = this.data.features[f]!.nBins
    // Order the bins present in the node by G/(H + smoothing) (K = 1), or by the weight of each class in turn
    // (K > 1: one ordering per class), and scan prefixes as the left set.
    if (nPresent < (hasMissing ? 1 : 2)) return
    for (let cls = 0; cls < (k === 1 ? 1 : k); cls++) {
      for (let i = 0; i < nPresent; i++) {
        const o = order[i]!
        byKey[i] = i
        keys[i] = stats[o + cls]! / (stats[o + k]! + cons.catSmooth)
      }
      const sorted = byKey.subarray(0, nPresent).sort((a, b) => keys[a]! - keys[b]! || a - b)
      for (let pass = 0; pass < (hasMissing ? 2 : 1); pass++) {
        const missingLeft = pass === 1
        if (missingLeft) for (let j = 0; j < c; j++) left[j] = stats[missing + j]!
        else left.fill(0)
        // Children must stay non-empty: the constraints refuse a count below minDataInLeaf (>= 1).
        for (let p = missingLeft ? -1 : 0; p < nPresent; p++) {
          if (p >= 0) {
            const o = order[sorted[p]!]!
            for (let j = 0; j < c; j++) left[j] = left[j]! + stats[o + j]!
          }
          const gain = this.gain()
          if (!this.better(gain)) continue
          const leftBins = Uint8Array.from(sorted.subarray(0, p + 1), i => fs.bins[i]!).sort()
          // Without missing values in the node, unseen ones go right, with the categories beyond maxBins.
          if (missingLeft) {
            // Missing values go left: keep the mirror image, the other categories left and missing ones right.
            const inLeft = new Uint8Array(HIST_BINS)
            for (const b of leftBins) inLeft[b] = 1
            const others: number[] = []
            for (let b = 0; b < nBins; b++) if (!inLeft[b]) others.push(b)
            this.keepMirrored(f, gain, -1, Uint8Array.from(others))
          } else this.keep(f, gain, -1, -1, leftBins, false)
        }
      }
    }
  }
}

/** negEntropy of two classes with class-1 weight −g and total h. */
function binaryNegEntropy(g: number, h: number): number {
  if (h <= 0) return 0
  const c1 = -g
  const c0 = h + g
  return (c1 > 0 ? c1 * Math.log2(c1) : 0) + (c0 > 0 ? c0 * Math.log2(c0) : 0) - h * Math.log2(h)
}

/** The last bin before the next one (after present index i) that holds rows, or bin i itself at the end. */
function binHigh(fs: FeatureStats, i: number, c: number): number {
  let next = i + 1
  while (next < fs.nPresent && !(fs.stats[fs.order[next]! + c - 1]! > 0)) next++
  return next < fs.nPresent ? fs.bins[next]! - 1 : fs.bins[i]!
}

/**
 * Best split of a node over `features` (or all), given its histogram and its totals (K + 2 values).
 * Returns undefined when no split satisfies the constraints with a positive gain.
 */
export function findBestSplit(
  data: BinnedData,
  hist: Float64Array,
  totals: Float64Array,
  features: Int32Array | null,
  cons: SplitConstraints,
): Split | undefined {
  const c = cons.k + 2
  const scan = new SplitScan(data, cons)
  scan.begin(totals)
  const fs = featureStats(hist)
  const nF = features ? features.length : data.nFeatures
  for (let fi = 0; fi < nF; fi++) {
    const f = features ? features[fi]! : fi
    compactHistogram(hist, f * HIST_BINS * c, c, fs, data.features[f]!.kind === 'numeric')
    scan.scan(f, fs)
  }
  return scan.best()
}

/**
 * Points `fs` at the bins of one feature's histogram (at `base`) that hold rows, or at every bin when `all`;
 * returns how many bins hold rows, missing included. Boosting scans every numeric bin: bins emptied by
 * histogram subtraction keep ~1e-17 of rounding, and skipping them would change its trees in the last bits.
 */
function compactHistogram(hist: Float64Array, base: number, c: number, fs: FeatureStats, all: boolean): number {
  let n = 0
  let distinct = 0
  for (let b = 0, o = base + c - 1; b < MISSING_BIN; b++, o += c) {
    const held = hist[o]! > 0
    if (held) distinct++
    if (held || all) {
      fs.order[n] = o - c + 1
      fs.bins[n++] = b
    }
  }
  fs.nPresent = n
  fs.missing = hist[base + MISSING_BIN * c + c - 1]! > 0 ? base + MISSING_BIN * c : -1
  fs.stats = hist
  return distinct + (fs.missing >= 0 ? 1 : 0)
}

/**
 * Split search straight from a node's rows, one feature at a time, for trees that sample features per node
 * (random forests): large nodes sum a 256-bin histogram of the feature, small ones (below `smallNode` rows)
 * sum only the bins they hold and list those in order from a 256-bit set, so a tiny node costs O(rows), not
 * O(bins).
 */
export class RowSplitFinder {
  private readonly scanner: SplitScan
  private readonly hist: Float64Array
  private readonly slotOf = new Int32Array(HIST_BINS).fill(-1)
  private readonly held = new Int32Array(HIST_BINS / 32)
  // A small node's rows gathered once for all its features: row offsets into data.bins, gradients, hessians.
  private readonly rowBase: Int32Array
  private readonly nodeGrad: Float64Array
  private readonly nodeHess: Float64Array
  private readonly fs: FeatureStats

  constructor(
    private readonly data: BinnedData,
    private readonly grad: Float64Array,
    private readonly hess: Float64Array,
    private readonly cons: SplitConstraints,
    private readonly smallNode: number,
  ) {
    this.scanner = new SplitScan(data, cons)
    this.hist = new Float64Array(HIST_BINS * (cons.k + 2))
    this.fs = featureStats(this.hist)
    this.rowBase = new Int32Array(smallNode)
    this.nodeGrad = new Float64Array(smallNode * cons.k)
    this.nodeHess = new Float64Array(smallNode)
  }

  /**
   * Best split of rows[start..end) (totals: their K + 2 sums). Features are visited in the given order until
   * `maxFeatures` of them were not constant in the node, as scikit-learn's splitter does; with `draw` (a
   * random integer below its argument) the order is shuffled as it is visited, a Fisher–Yates shuffle that
   * stops once enough features were seen.
   */
  find(
    rows: Int32Array,
    start: number,
    end: number,
    totals: Float64Array,
    features: Int32Array | null,
    maxFeatures: number,
    draw?: (n: number) => number,
  ): Split | undefined {
    const {data, scanner, fs} = this
    scanner.begin(totals)
    const nF = features ? features.length : data.nFeatures
    const m = end - start
    const small = m < this.smallNode
    if (small) this.gather(rows, start, end)
    let visited = 0
    for (let fi = 0; fi < nF && visited < maxFeatures; fi++) {
      if (features && draw) {
        const j = fi + draw(nF - fi)
        const t = features[fi]!
        features[fi] = features[j]!
        features[j] = t
      }
      const f = features ? features[fi]! : fi
      const distinct = small ? this.slots(f, m) : this.histogram(f * data.nRows, rows, start, end)
      if (distinct < 2) continue
      visited++
      scanner.scan(f, fs)
    }
    return scanner.best()
  }

  private gather(rows: Int32Array, start: number, end: number): void {
    const {grad, hess, rowBase, nodeGrad, nodeHess} = this
    const k = this.cons.k
    const nF = this.data.nFeatures
    for (let i = start; i < end; i++) {
      const r = rows[i]!
      const l = i - start
      rowBase[l] = r * nF
      nodeHess[l] = hess[r]!
      if (k === 1) nodeGrad[l] = grad[r]!
      else for (let j = 0; j < k; j++) nodeGrad[l * k + j] = grad[r * k + j]!
    }
  }

  private histogram(base: number, rows: Int32Array, start: number, end: number): number {
    const {grad, hess, hist, fs} = this
    const col = this.data.columns
    const k = this.cons.k
    const c = k + 2
    hist.fill(0)
    if (k === 1) {
      for (let i = start; i < end; i++) {
        const r = rows[i]!
        const o = col[base + r]! * 3
        hist[o] = hist[o]! + grad[r]!
        hist[o + 1] = hist[o + 1]! + hess[r]!
        hist[o + 2] = hist[o + 2]! + 1
      }
    } else {
      for (let i = start; i < end; i++) {
        const r = rows[i]!
        const o = col[base + r]! * c
        for (let j = 0; j < k; j++) hist[o + j] = hist[o + j]! + grad[r * k + j]!
        hist[o + k] = hist[o + k]! + hess[r]!
        hist[o + k + 1] = hist[o + k + 1]! + 1
      }
    }
    return compactHistogram(hist, 0, c, fs, false)
  }

  /** Sums the gathered rows per bin of feature f into compact slots (in order of appearance). */
  private slots(f: number, m: number): number {
    const {nodeGrad, nodeHess, rowBase, hist, slotOf, held, fs} = this
    const bins = this.data.bins
    const k = this.cons.k
    const c = k + 2
    let n = 0
    if (k === 1) {
      for (let i = 0; i < m; i++) {
        const b = bins[rowBase[i]! + f]!
        let o = slotOf[b]!
        if (o < 0) {
          held[b >> 5] = held[b >> 5]! | (1 << (b & 31))
          o = n++ * 3
          slotOf[b] = o
          hist[o] = nodeGrad[i]!
          hist[o + 1] = nodeHess[i]!
          hist[o + 2] = 1
        } else {
          hist[o] = hist[o]! + nodeGrad[i]!
          hist[o + 1] = hist[o + 1]! + nodeHess[i]!
          hist[o + 2] = hist[o + 2]! + 1
        }
      }
    } else {
      for (let i = 0; i < m; i++) {
        const b = bins[rowBase[i]! + f]!
        let o = slotOf[b]!
        if (o < 0) {
          held[b >> 5] = held[b >> 5]! | (1 << (b & 31))
          o = n++ * c
          slotOf[b] = o
          for (let j = 0; j < c; j++) hist[o + j] = 0
        }
        for (let j = 0; j < k; j++) hist[o + j] = hist[o + j]! + nodeGrad[i * k + j]!
        hist[o + k] = hist[o + k]! + nodeHess[i]!
        hist[o + k + 1] = hist[o + k + 1]! + 1
      }
    }
    // Held bins in ascending order: lowest set bit first, word by word; the missing bin is the very last bit.
    let present = 0
    fs.missing = -1
    for (let w = 0; w < held.length; w++) {
      let word = held[w]!
      held[w] = 0
      while (word !== 0) {
        const low = word & -word
        word ^= low
        const b = w * 32 + 31 - Math.clz32(low)
        if (b === MISSING_BIN) fs.missing = slotOf[b]!
        else {
          fs.order[present] = slotOf[b]!
          fs.bins[present++] = b
        }
        slotOf[b] = -1
      }
    }
    fs.nPresent = present
    fs.stats = hist
    return n
  }
}
