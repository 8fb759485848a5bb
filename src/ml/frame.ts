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
