// Request bodies → the model's input columns. Reads the MLflow scoring forms (dataframe_split, dataframe_records,
// instances, inputs; CSV) and Open Inference Protocol V2 tensors, checked against the signature: a missing column
// or a wrong type is refused naming the column (and row); extra columns are ignored; unseen categories pass.
import {parse as parseCsv} from 'csv-parse/sync'
import {DataError} from '../errors.js'
import type {Signature} from '../onnx/signature.js'
import {RequestError} from './errors.js'

/** One input column of a request: numbers (NaN = missing) or text (null = missing). */
export type RawColumn = Float64Array | Array<string | null>

/** The rows of a request, one column per signature input, in signature order. */
export interface RowBlock {
  readonly nRows: number
  readonly columns: readonly RawColumn[]
}

/** What the decoders need to know of one signature input. */
export interface InputSpec {
  readonly name: string
  readonly kind: 'numeric' | 'categorical'
  /** Float, double and string tensors can hold a missing value (NaN, ''); integer and bool tensors cannot. */
  readonly missingOk: boolean
  /** int32 / int64 tensors: whole numbers only. */
  readonly integer: boolean
  readonly bool: boolean
  /** The ONNX input carrying this column, its position in it and the input's width (V2 2-D tensors). */
  readonly onnxName: string
  readonly index: number
  readonly width: number
}

export function inputSpecs(signature: Signature): InputSpec[] {
  const widths = new Map<string, number>()
  for (const input of signature.inputs) widths.set(input.onnxName, (widths.get(input.onnxName) ?? 0) + 1)
  return signature.inputs.map(input => ({
    name: input.name,
    kind: input.type,
    missingOk: input.type === 'categorical' || ['float', 'double', 'string'].includes(input.elemType),
    integer: input.elemType === 'int32' || input.elemType === 'int64',
    bool: input.elemType === 'bool',
    onnxName: input.onnxName,
    index: input.index ?? 0,
    width: widths.get(input.onnxName) ?? 1,
  }))
}

/** Text that means "missing" in CSV, as when files are read (README "Data input"); compared lower-case. */
const MISSING_TEXT = new Set(['', 'na', 'n/a', 'null', 'nan'])

const FORMS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const

const FORM_HINT =
  'send {"dataframe_split": {"columns": [...], "data": [[...]]}}, {"dataframe_records": [{...}]}, {"instances": [...]} or {"inputs": ...}'

/** Fills the columns of a block, converting each cell to its column's kind or naming the cell that cannot be. */
class BlockBuilder {
  readonly columns: RawColumn[]

  constructor(
    private readonly inputs: readonly InputSpec[],
    readonly nRows: number,
    private readonly csv: {lines: readonly number[]} | undefined,
  ) {
    this.columns = inputs.map(input =>
      input.kind === 'numeric' ? new Float64Array(nRows) : new Array<string | null>(nRows).fill(null),
    )
  }

  set(j: number, i: number, value: unknown): void {
    const input = this.inputs[j]!
    if (input.kind === 'numeric') (this.columns[j] as Float64Array)[i] = this.number(input, i, value)
    else (this.columns[j] as Array<string | null>)[i] = this.text(input, i, value)
  }

  block(): RowBlock {
    return {nRows: this.nRows, columns: this.columns}
  }

  private number(input: InputSpec, i: number, value: unknown): number {
    let n: number
    if (typeof value === 'number') n = value
    else if (value === null || value === undefined) return this.missing(input, i)
    else if (typeof value === 'string') {
      const s = value.trim()
      if (MISSING_TEXT.has(s.toLowerCase())) return this.missing(input, i)
      n = Number(s)
      if (Number.isNaN(n)) throw this.typeError(input, i, value, 'a number')
    } else if (typeof value === 'boolean' && input.bool) return value ? 1 : 0
    else throw this.typeError(input, i, value, input.bool ? 'true, false or a number' : 'a number')
    if (input.integer && !Number.isInteger(n)) throw this.typeError(input, i, value, 'a whole number')
    return n
  }

  private text(input: InputSpec, i: number, value: unknown): string | null {
    if (typeof value === 'string') {
      if (this.csv) return MISSING_TEXT.has(value.toLowerCase()) ? null : value
      return value === '' ? null : value
    }
    if (value === null || value === undefined) return null
    if (typeof value === 'number' || typeof value === 'boolean') return String(value)
    throw this.typeError(input, i, value, 'text (or a number)')
  }

  private missing(input: InputSpec, i: number): number {
    if (input.missingOk) return Number.NaN
    throw new DataError('E_DATA_MISSING_VALUE', `column "${input.name}", ${this.row(i)}: the value is missing`, {
      hint: `this model's input for "${input.name}" holds ${input.integer ? 'whole numbers' : 'true/false values'} and cannot take a missing value: send one for every row`,
      details: {column: input.name, row: i},
    })
  }

  private typeError(input: InputSpec, i: number, value: unknown, expected: string): DataError {
    const shown = JSON.stringify(value) ?? String(value)
    return new DataError(
      'E_DATA_TYPE',
      `column "${input.name}", ${this.row(i)}: expected ${expected}, got ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`,
      {
        hint: `the model reads "${input.name}" as ${input.kind === 'numeric' ? 'numbers' : 'text'} (GET /models shows each model's columns)`,
        details: {column: input.name, row: i},
      },
    )
  }

  private row(i: number): string {
    const line = this.csv?.lines[i]
    return line === undefined ? `row ${i}` : `row ${i} (line ${line})`
  }
}

function missingColumns(missing: readonly string[], inputs: readonly InputSpec[]): DataError {
  return new DataError(
    'E_DATA_MISSING_COLUMN',
    `the request lacks ${missing.length === 1 ? 'column' : 'columns'} ${missing.map(m => `"${m}"`).join(', ')} that the model needs`,
    {hint: `the model reads: ${inputs.map(i => i.name).join(', ')}`, details: {missing}},
  )
}

function checkRows(n: number, maxRows: number): void {
  if (n === 0) {
    throw new DataError('E_DATA_NO_ROWS', 'the request holds no rows', {hint: 'send at least one row to predict'})
  }
  if (n > maxRows) {
    throw new RequestError(413, 'E_REQUEST_TOO_MANY_ROWS', `the request holds ${n} rows; the limit is ${maxRows}`, {
      hint: 'split the rows over several requests, or start serve with a larger --max-rows',
      details: {rows: n, maxRows},
    })
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function malformed(message: string, hint = FORM_HINT): DataError {
  return new DataError('E_REQUEST_FORMAT', message, {hint})
}

/** The MLflow scoring server's JSON forms (also a bare list of records, as MLflow 1's pandas-records). */
export function decodeMlflowJson(body: unknown, inputs: readonly InputSpec[], maxRows: number): RowBlock {
  if (Array.isArray(body)) return fromList(body, inputs, maxRows, 'the body')
  if (!isRecord(body)) throw malformed('the JSON body must be an object')
  const present = FORMS.filter(f => Object.hasOwn(body, f))
  if (present.length !== 1) {
    throw malformed(
      present.length === 0
        ? `the JSON body must hold one of ${FORMS.map(f => `"${f}"`).join(', ')}`
        : `the JSON body holds ${present.map(f => `"${f}"`).join(' and ')}: send exactly one`,
    )
  }
  const form = present[0]!
  const value = body[form]
  if (form === 'dataframe_split') {
    if (!isRecord(value) || !Array.isArray(value.data))
      throw malformed('"dataframe_split" must be an object with "columns" and "data"')
    return fromSplit(value.columns, value.data, inputs, maxRows)
  }
  if (form === 'dataframe_records') {
    if (!Array.isArray(value)) throw malformed('"dataframe_records" must be a list of objects')
    return fromRecords(value, inputs, maxRows)
  }
  if (isRecord(value)) return fromColumnar(value, inputs, maxRows, form)
  if (!Array.isArray(value)) throw malformed(`"${form}" must be a list of records or rows, or an object of columns`)
  return fromList(value, inputs, maxRows, `"${form}"`)
}

/** A list of records (objects), of rows (arrays, in the signature's column order), or of values (one column). */
function fromList(list: unknown[], inputs: readonly InputSpec[], maxRows: number, what: string): RowBlock {
  if (list.length === 0 || isRecord(list[0])) return fromRecords(list, inputs, maxRows)
  if (Array.isArray(list[0])) return fromSplit(undefined, list, inputs, maxRows)
  if (inputs.length === 1)
    return fromSplit(
      undefined,
      list.map(v => [v]),
      inputs,
      maxRows,
    )
  throw malformed(`${what} must be a list of records (objects) or rows (arrays)`)
}

function fromRecords(records: unknown[], inputs: readonly InputSpec[], maxRows: number): RowBlock {
  checkRows(records.length, maxRows)
  for (const [i, r] of records.entries()) {
    if (!isRecord(r)) throw malformed(`record ${i} is not a JSON object`, 'each record maps column names to values')
  }
  const rows = records as Array<Record<string, unknown>>
  const missing = inputs.filter(input => !rows.some(r => Object.hasOwn(r, input.name))).map(input => input.name)
  if (missing.length > 0) throw missingColumns(missing, inputs)
  const b = new BlockBuilder(inputs, rows.length, undefined)
  for (let j = 0; j < inputs.length; j++) {
    const name = inputs[j]!.name
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!
      b.set(j, i, Object.hasOwn(r, name) ? r[name] : undefined)
    }
  }
  return b.block()
}

/** Rows as arrays, with the column names given (`dataframe_split`) or in the signature's order. */
function fromSplit(columns: unknown, data: unknown[], inputs: readonly InputSpec[], maxRows: number): RowBlock {
  checkRows(data.length, maxRows)
  let positions: number[]
  if (columns === undefined) positions = inputs.map((_, j) => j)
  else {
    if (!Array.isArray(columns)) throw malformed('"columns" must be a list of column names')
    const index = new Map(columns.map((c, k) => [String(c), k]))
    const missing = inputs.filter(input => !index.has(input.name)).map(input => input.name)
    if (missing.length > 0) throw missingColumns(missing, inputs)
    positions = inputs.map(input => index.get(input.name)!)
  }
  const width = columns === undefined ? inputs.length : (columns as unknown[]).length
  const b = new BlockBuilder(inputs, data.length, undefined)
  for (let i = 0; i < data.length; i++) {
    const row = data[i]
    if (!Array.isArray(row) || row.length !== width) {
      throw malformed(
        `row ${i} ${Array.isArray(row) ? `has ${row.length} values` : 'is not a list'}; expected ${width} values${columns === undefined ? ` (${inputs.map(input => input.name).join(', ')})` : ''}`,
        columns === undefined
          ? 'rows without column names list every model column in signature order; or send records with names'
          : 'each row lists one value per entry of "columns"',
      )
    }
    for (let j = 0; j < inputs.length; j++) b.set(j, i, row[positions[j]!])
  }
  return b.block()
}

/** TF-serving's columnar form: {"column": [values...]} (or one value per column for a single row). */
function fromColumnar(
  columns: Record<string, unknown>,
  inputs: readonly InputSpec[],
  maxRows: number,
  form: string,
): RowBlock {
  const missing = inputs.filter(input => !Object.hasOwn(columns, input.name)).map(input => input.name)
  if (missing.length > 0) throw missingColumns(missing, inputs)
  const values = inputs.map(input => columns[input.name])
  const n = Array.isArray(values[0]) ? values[0].length : 1
  for (const [j, v] of values.entries()) {
    if ((Array.isArray(v) ? v.length : 1) !== n || Array.isArray(v) !== Array.isArray(values[0])) {
      throw malformed(
        `"${form}": column "${inputs[j]!.name}" has ${Array.isArray(v) ? v.length : 1} values, column "${inputs[0]!.name}" has ${n}`,
        'every column of the columnar form holds the same number of values',
      )
    }
  }
  checkRows(n, maxRows)
  const b = new BlockBuilder(inputs, n, undefined)
  for (let j = 0; j < inputs.length; j++) {
    const v = values[j]
    if (Array.isArray(v)) for (let i = 0; i < n; i++) b.set(j, i, v[i])
    else b.set(j, 0, v)
  }
  return b.block()
}

/** text/csv: a header row naming the columns, then one row per record (MLflow reads it with pandas.read_csv). */
export function decodeCsv(text: string, inputs: readonly InputSpec[], maxRows: number): RowBlock {
  let records: Array<{record: string[]; info: {lines: number}}>
  try {
    records = parseCsv(text, {bom: true, skip_empty_lines: true, info: true}) as unknown as typeof records
  } catch (error) {
    throw new DataError('E_REQUEST_CSV', `the CSV body cannot be read: ${(error as Error).message}`, {
      hint: 'send comma-separated values with a header row; quote fields holding commas',
    })
  }
  const header = records[0]?.record
  if (!header) throw new DataError('E_DATA_NO_ROWS', 'the CSV body is empty', {hint: 'send a header row and data rows'})
  const index = new Map(header.map((name, k) => [name.trim(), k]))
  const missing = inputs.filter(input => !index.has(input.name)).map(input => input.name)
  if (missing.length > 0) throw missingColumns(missing, inputs)
  const rows = records.slice(1)
  checkRows(rows.length, maxRows)
  const positions = inputs.map(input => index.get(input.name)!)
  const b = new BlockBuilder(inputs, rows.length, {lines: rows.map(r => r.info.lines)})
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!.record
    for (let j = 0; j < inputs.length; j++) b.set(j, i, row[positions[j]!])
  }
  return b.block()
}

/** An Open Inference Protocol V2 input tensor. */
export interface V2Tensor {
  readonly name: string
  readonly shape: readonly number[]
  readonly datatype: string
  readonly data: unknown[]
}

/**
 * V2 inputs: one tensor per column (named as the column, shape [N] or [N, 1]; MLServer's pandas codec), or one
 * tensor per ONNX input (its name, shape [N, k]) for models whose columns share a 2-D input (skl2onnx's
 * float_input). Nested data is flattened in row-major order, as the protocol allows.
 */
export function decodeV2(tensors: readonly V2Tensor[], inputs: readonly InputSpec[], maxRows: number): RowBlock {
  const byName = new Map<string, {tensor: V2Tensor; flat: unknown[]}>()
  for (const tensor of tensors) {
    if (byName.has(tensor.name)) throw malformed(`input "${tensor.name}" is given twice`, 'name each input once')
    const flat = tensor.data.some(Array.isArray)
      ? (tensor.data.flat(Number.POSITIVE_INFINITY) as unknown[])
      : tensor.data
    const size = tensor.shape.reduce((a, d) => a * d, 1)
    if (size !== flat.length) {
      throw malformed(
        `input "${tensor.name}": shape [${tensor.shape.join(', ')}] holds ${size} values but "data" has ${flat.length}`,
        'the product of "shape" is the number of values in "data"',
      )
    }
    byName.set(tensor.name, {tensor, flat})
  }
  const readers: Array<(i: number) => unknown> = []
  const missing: string[] = []
  let n: number | undefined
  let first = ''
  for (const input of inputs) {
    const own = byName.get(input.name)
    const group = own ? undefined : byName.get(input.onnxName)
    const found = own ?? group
    if (!found) {
      missing.push(input.name)
      continue
    }
    const {shape, name} = found.tensor
    const width = own ? 1 : input.width
    const rank2 = shape.length === 2 && shape[1] === width
    if (!(rank2 || (width === 1 && shape.length === 1))) {
      throw malformed(
        `input "${name}": shape [${shape.join(', ')}] does not fit; expected [N]${width === 1 ? ' or [N, 1]' : ''}${width > 1 ? ` [N, ${width}]` : ''}`,
        'GET /v2/models/<name> lists the inputs and their shapes',
      )
    }
    const rows = shape[0]!
    if (n === undefined) {
      n = rows
      first = name
    } else if (rows !== n) {
      throw malformed(
        `input "${name}" has ${rows} rows but input "${first}" has ${n}`,
        'every input holds the same rows',
      )
    }
    const {flat} = found
    const k = input.index
    readers.push(own ? i => flat[i] : i => flat[i * width + k])
  }
  if (missing.length > 0) throw missingColumns(missing, inputs)
  checkRows(n ?? 0, maxRows)
  const b = new BlockBuilder(inputs, n!, undefined)
  for (let j = 0; j < inputs.length; j++) {
    const read = readers[j]!
    for (let i = 0; i < n!; i++) b.set(j, i, read(i))
  }
  return b.block()
}

/** The rows of a block as JSON objects (for the prediction log): column → value, null for missing. */
export function blockRecord(block: RowBlock, inputs: readonly InputSpec[], i: number): Record<string, unknown> {
  const record: Record<string, unknown> = {}
  for (let j = 0; j < inputs.length; j++) {
    const column = block.columns[j]!
    const v = column[i]
    record[inputs[j]!.name] = typeof v === 'number' ? (Number.isFinite(v) ? v : null) : (v ?? null)
  }
  return record
}

/**
 * JSON.parse, also accepting the bare NaN, Infinity and -Infinity that Python's json.dumps writes (MLflow's
 * server reads them): NaN becomes null (missing); the infinities become numbers.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') {
    throw new DataError('E_REQUEST_JSON', 'the request body is empty', {hint: FORM_HINT})
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    if (/NaN|Infinity/.test(text)) {
      try {
        return JSON.parse(replaceNonFinite(text))
      } catch {}
    }
    throw new DataError('E_REQUEST_JSON', `the request body is not valid JSON: ${(error as Error).message}`, {
      hint: FORM_HINT,
    })
  }
}

function replaceNonFinite(text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inString) {
      out += c
      if (c === '\\') out += text[++i] ?? ''
      else if (c === '"') inString = false
    } else if (c === '"') {
      inString = true
      out += c
    } else if (text.startsWith('NaN', i)) {
      out += 'null'
      i += 2
    } else if (text.startsWith('Infinity', i)) {
      out += '1e999'
      i += 7
    } else out += c
  }
  return out
}
