// The in-memory table every estimator, metric and exporter works on: one typed array per column.
// Numeric columns hold float64 with NaN for missing; categorical columns hold level codes with -1 for missing.

export interface NumericColumn {
  readonly kind: 'numeric'
  readonly name: string
  /** nRows values, NaN = missing. */
  readonly values: Float64Array
}

export interface CategoricalColumn {
  readonly kind: 'categorical'
  readonly name: string
  /** nRows codes into `levels`, -1 = missing. */
  readonly codes: Int32Array
  /** Distinct non-missing values, in order of first appearance unless stated otherwise. */
  readonly levels: readonly string[]
}

export type Column = NumericColumn | CategoricalColumn

export interface Frame {
  readonly nRows: number
  readonly columns: readonly Column[]
}

export function numericColumn(name: string, values: Float64Array): NumericColumn {
  return {kind: 'numeric', name, values}
}

export function categoricalColumn(name: string, codes: Int32Array, levels: readonly string[]): CategoricalColumn {
  return {kind: 'categorical', name, codes, levels}
}

/** Builds a categorical column from raw strings; null, undefined and '' are missing. */
export function categoricalFromStrings(
  name: string,
  values: ReadonlyArray<string | null | undefined>,
): CategoricalColumn {
  const index = new Map<string, number>()
  const levels: string[] = []
  const codes = new Int32Array(values.length)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null || v === undefined || v === '') {
      codes[i] = -1
      continue
    }
    let code = index.get(v)
    if (code === undefined) {
      code = levels.length
      index.set(v, code)
      levels.push(v)
    }
    codes[i] = code
  }
  return categoricalColumn(name, codes, levels)
}

export function findColumn(frame: Frame, name: string): Column | undefined {
  return frame.columns.find(c => c.name === name)
}

/** The value of row `i` as a string, or null when missing (for messages and label output). */
export function cellText(column: Column, i: number): string | null {
  if (column.kind === 'numeric') {
    const v = column.values[i]!
    return Number.isNaN(v) ? null : String(v)
  }
  const code = column.codes[i]!
  return code < 0 ? null : column.levels[code]!
}

/** A new frame holding the given rows, in the given order. */
export function takeRows(frame: Frame, rows: Int32Array): Frame {
  return {nRows: rows.length, columns: frame.columns.map(c => takeColumn(c, rows))}
}

export function takeColumn<C extends Column>(column: C, rows: Int32Array): C {
  if (column.kind === 'numeric') {
    const values = new Float64Array(rows.length)
    for (let i = 0; i < rows.length; i++) values[i] = column.values[rows[i]!]!
    return {...column, values}
  }
  const codes = new Int32Array(rows.length)
  for (let i = 0; i < rows.length; i++) codes[i] = column.codes[rows[i]!]!
  return {...column, codes}
}

export function selectColumns(frame: Frame, names: readonly string[]): Frame {
  const byName = new Map(frame.columns.map(c => [c.name, c]))
  return {nRows: frame.nRows, columns: names.map(n => byName.get(n)!).filter(Boolean)}
}

/**
 * The frames' rows one after the other. Every frame has the same columns in the same order; a categorical
 * column's levels are those of the first frame, then each new one in order of appearance.
 */
export function concatFrames(frames: readonly Frame[]): Frame {
  if (frames.length === 1) return frames[0]!
  const nRows = frames.reduce((n, f) => n + f.nRows, 0)
  const columns = frames[0]!.columns.map((first, k): Column => {
    if (first.kind === 'numeric') {
      const values = new Float64Array(nRows)
      let at = 0
      for (const f of frames) {
        values.set((f.columns[k] as NumericColumn).values, at)
        at += f.nRows
      }
      return numericColumn(first.name, values)
    }
    const codes = new Int32Array(nRows)
    const levels: string[] = []
    const index = new Map<string, number>()
    let at = 0
    for (const f of frames) {
      const column = f.columns[k] as CategoricalColumn
      const map = column.levels.map(level => {
        let code = index.get(level)
        if (code === undefined) {
          code = levels.length
          index.set(level, code)
          levels.push(level)
        }
        return code
      })
      for (let i = 0; i < f.nRows; i++) {
        const c = column.codes[i]!
        codes[at + i] = c < 0 ? -1 : map[c]!
      }
      at += f.nRows
    }
    return categoricalColumn(first.name, codes, levels)
  })
  return {nRows, columns}
}
