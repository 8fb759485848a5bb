import {describe, expect, it} from 'vitest'
import {Rng} from '../../../src/ml/rng.js'
import {applyBinning, binData, MISSING_BIN, type NumericBins, sortDoubles} from '../../../src/ml/tree/binning.js'
import {allRows} from './helpers.js'

function numericSpec(spec: unknown): NumericBins {
  expect((spec as NumericBins).kind).toBe('numeric')
  return spec as NumericBins
}

function binCounts(bins: Uint8Array, nBins: number): number[] {
  const counts = new Array<number>(nBins).fill(0)
  for (const b of bins) counts[b] = counts[b]! + 1
  return counts
}

describe('binData on numeric features', () => {
  it('gives fewer distinct values than maxBins one bin each, split at the midpoints as scikit-learn does', () => {
    // Given 7 distinct values, two of them repeated, and a missing value
    const x = Float64Array.of(0.1, 0.2, 0.2, 0.7, 1.5, 1.5, 3.0, Number.NaN, -2.0, 10.0)
    // When
    const data = binData([x], [false], allRows(x.length), 255, 1)
    // Then: scikit-learn 1.2.1 gives the same thresholds and bins, to the last bit for these values:
    //   X = np.array([[0.1],[0.2],[0.2],[0.7],[1.5],[1.5],[3.0],[np.nan],[-2.0],[10.0]])
    //   m = _BinMapper(n_bins=256).fit(X); m.bin_thresholds_[0], m.transform(X).ravel()
    const spec = numericSpec(data.features[0])
    expect(Array.from(spec.thresholds)).toEqual([-0.95, 0.15000000000000002, 0.44999999999999996, 1.1, 2.25, 6.5])
    expect(spec.nBins).toBe(7)
    expect(Array.from(data.bins)).toEqual([1, 2, 2, 3, 4, 4, 5, 255, 0, 6])
  })

  it('cuts more distinct values than maxBins into maxBins bins of about equal counts', () => {
    // Given 10,000 distinct normal draws and 32 bins
    const rng = new Rng(3)
    const x = Float64Array.from({length: 10_000}, () => rng.normal())
    // When
    const data = binData([x], [false], allRows(x.length), 32, 1)
    // Then: quantile edges leave 10,000 / 32 = 312.5 rows per bin, give or take the one value an edge falls on
    const spec = numericSpec(data.features[0])
    expect(spec.nBins).toBe(32)
    for (const count of binCounts(data.bins, spec.nBins)) expect(Math.abs(count - 312.5)).toBeLessThanOrEqual(1.5)
  })

  it('cuts unevenly repeated values into maxBins bins of about equal counts', () => {
    // Given 40 distinct values where value v occurs v + 1 times (820 rows), and 8 bins
    const values: number[] = []
    for (let v = 0; v < 40; v++) for (let i = 0; i <= v; i++) values.push(v)
    const x = Float64Array.from(values)
    // When
    const data = binData([x], [false], allRows(x.length), 8, 1)
    // Then: 8 bins, each within one value's rows (at most 40) of its share 820 / 8 = 102.5, since an edge cannot
    // split the rows of one value
    const spec = numericSpec(data.features[0])
    expect(spec.nBins).toBe(8)
    for (const count of binCounts(data.bins, spec.nBins)) expect(Math.abs(count - 102.5)).toBeLessThanOrEqual(40)
  })

  it('puts missing values in MISSING_BIN (255) and flags only the features that had some', () => {
    const withNaN = Float64Array.of(1, Number.NaN, 2, Number.NaN)
    const complete = Float64Array.of(1, 2, 3, 4)
    const data = binData([withNaN, complete], [false, false], allRows(4), 255, 1)
    expect(MISSING_BIN).toBe(255)
    expect(Array.from(data.columns.subarray(0, 4))).toEqual([0, 255, 1, 255])
    expect(Array.from(data.hasMissing)).toEqual([1, 0])
  })
})

describe('binData on categorical features', () => {
  it('gives each category (level index) a bin of its own, in code order', () => {
    const codes = Float64Array.of(2, 0, 2, 5, 0, 2)
    const data = binData([codes], [true], allRows(6), 255, 1)
    const spec = data.features[0]!
    expect(spec.kind).toBe('categorical')
    if (spec.kind !== 'categorical') return
    expect(Array.from(spec.categories)).toEqual([0, 2, 5])
    expect(Array.from(data.bins)).toEqual([1, 0, 1, 2, 0, 1])
    expect(data.hasMissing[0]).toBe(0)
  })

  it('keeps the maxBins most frequent categories when there are more, and bins the rest as missing', () => {
    // Given category 0 five times, 2 four times, 3 three times and 1 once, and 2 bins
    const codes = Float64Array.of(0, 2, 3, 0, 1, 2, 0, 3, 2, 0, 3, 2, 0)
    // When
    const data = binData([codes], [true], allRows(codes.length), 2, 1)
    // Then: 0 and 2 have bins; 1 and 3 share the missing bin
    const spec = data.features[0]!
    if (spec.kind !== 'categorical') throw new Error('expected categorical bins')
    expect(Array.from(spec.categories)).toEqual([0, 2])
    expect(Array.from(data.bins)).toEqual([0, 1, 255, 0, 255, 1, 0, 255, 1, 0, 255, 1, 0])
    expect(data.hasMissing[0]).toBe(1)
  })
})

describe('binned layouts', () => {
  // 150 rows × 70 features crosses the 64 × 64 blocks of the transposition in both directions.
  const rng = new Rng(9)
  const nRows = 150
  const nFeatures = 70
  const columns = Array.from({length: nFeatures}, (_, f) =>
    Float64Array.from({length: nRows}, () => (rng.nextInt(10) === 0 ? Number.NaN : rng.nextInt(3 + f))),
  )
  const categorical = columns.map((_, f) => f % 5 === 0)

  it('holds the same bins row-major in `bins` and column-major in `columns`', () => {
    const data = binData(columns, categorical, allRows(nRows), 16, 1)
    for (let r = 0; r < nRows; r++)
      for (let f = 0; f < nFeatures; f++) expect(data.bins[r * nFeatures + f]).toBe(data.columns[f * nRows + r])
  })

  it('applyBinning bins the rows binData was fitted on exactly as binData did', () => {
    // Given a subset of the rows in shuffled order (row i of the binned data is rows[i] of the columns)
    const rows = allRows(nRows).filter(r => r % 3 !== 1)
    rng.shuffle(rows)
    // When
    const data = binData(columns, categorical, rows, 16, 1)
    // Then
    expect(Array.from(applyBinning(data.features, columns, rows))).toEqual(Array.from(data.bins))
  })

  it('applyBinning sends a value on a threshold to the lower bin and unseen categories to the missing bin', () => {
    // Given thresholds 0.5 and 1.5 (values 0, 1, 2) and categories 0 and 1
    const data = binData([Float64Array.of(0, 1, 2), Float64Array.of(0, 1, 0)], [false, true], allRows(3), 255, 1)
    const x = Float64Array.of(0.5, 0.5000001, -100, 100, Number.NaN)
    const c = Float64Array.of(1, 7, 0, Number.NaN, 1)
    // When
    const bins = applyBinning(data.features, [x, c], allRows(5))
    // Then (row-major: value bin, category bin)
    expect(Array.from(bins)).toEqual([0, 1, 1, 255, 0, 0, 2, 255, 255, 1])
  })
})

describe('sortDoubles', () => {
  it('orders as Float64Array.prototype.sort does: negatives, −0 before +0, infinities, repeats, tiny values', () => {
    const rng = new Rng(9)
    const special = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5e-324, -5e-324, Number.MAX_VALUE]
    for (const n of [10, 5000, 100_000]) {
      const values = Float64Array.from({length: n}, (_, i) =>
        i < special.length
          ? special[i]!
          : rng.nextInt(3) === 0
            ? rng.nextInt(7) - 3
            : (rng.nextFloat() - 0.5) * 10 ** rng.nextInt(40),
      )
      const expected = Float64Array.from(values).sort()
      sortDoubles(values)
      expect(Array.from(values, v => (Object.is(v, -0) ? '-0' : v))).toEqual(
        Array.from(expected, v => (Object.is(v, -0) ? '-0' : v)),
      )
    }
  })
})
