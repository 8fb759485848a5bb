// A model as one DuckDB scalar function returning every prediction column at once: `fn({'age': …, 'plan': …})`
// gives a STRUCT with a field per column of outputs.ts (predicted_<target>, probability / probability_<class>),
// scored by udf.ts's SyncPredictor (the Predictor's tensors and decoding around ONNX Runtime's synchronous run).
// With it, `COPY (SELECT *, unnest(fn(...)) FROM read_csv(...)) TO ...` streams a whole batch job inside DuckDB:
// parallel read, predict 2048 rows at a time on the JS thread, parallel write, in bounded memory. Where every label
// is one of the model's classes, the label field holds the class's index and SQL turns it into the label (`select`):
// filling a vector with numbers is much cheaper than with strings or BIGINTs built one by one.
import type {DuckDBConnection, DuckDBStructVector, DuckDBType, DuckDBVector} from '@duckdb/node-api'
import {loadDuckDB} from '../cjs.js'
import {ident, literal} from '../data/duckdb.js'
import {UsageError} from '../errors.js'
import type {Frame} from '../ml/frame.js'
import type {Signature} from '../onnx/signature.js'
import {type PredictionColumn, predictionColumns} from './outputs.js'
import type {ModelOutput} from './predictor.js'
import type {SyncPredictor} from './udf.js'

/** What scores a chunk of rows synchronously: a SyncPredictor, or predictions made ahead in front of one. */
export interface ChunkScorer {
  /** `hashes`: each row's rowHash as two int32 words, where the function was registered with rowHashes. */
  predict(frame: Frame, hashes?: Int32Array): ModelOutput
}

export interface BatchFunctionOptions {
  /** SQL name of the function: letters, digits and "_". */
  readonly name: string
  readonly predictor: SyncPredictor
  /** Scores each chunk instead of the predictor (parallel/batch-scores.ts: predictions made ahead). */
  readonly scorer?: ChunkScorer
  /** The function also takes each row's rowHash and hands it to the scorer (which checks its rows by it). */
  readonly rowHashes?: boolean
  /** Names the model in error messages (e.g. churn:3). */
  readonly model: string
  /** Sees each chunk after it was scored: its input frame and the predictions. */
  readonly onChunk?: (frame: Frame, output: ModelOutput) => void
}

export interface BatchFunction {
  readonly name: string
  /** The fields of the returned STRUCT, in order. */
  readonly columns: readonly PredictionColumn[]
  /**
   * A call on one SQL expression per model input (by input name; numbers as DOUBLE, categories as VARCHAR).
   * `unnest(call)` in a SELECT list spreads the result into its fields, which `select` turns into the columns.
   */
  call(args: Readonly<Record<string, string>>): string
  /**
   * The prediction columns as a SELECT list (`expression AS "name"`), given SQL for each field of a call's
   * result by field name (e.g. the column `unnest(call)` gave it, in a query around that one).
   */
  select(field: (name: string) => string): string[]
  /** Rows predicted so far. */
  readonly rows: number
  /** The error a call raised, if any: DuckDB only passes its message on, this keeps its class and hint. */
  readonly error: unknown
}

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export async function registerBatchFunction(
  con: DuckDBConnection,
  options: BatchFunctionOptions,
): Promise<BatchFunction> {
  if (!NAME_PATTERN.test(options.name)) {
    throw new UsageError('E_USAGE_FUNCTION_NAME', `"${options.name}" cannot name an SQL function`, {
      hint: 'use letters, digits and "_", starting with a letter',
    })
  }
  const duck = loadDuckDB()
  const {predictor} = options
  const scorer = options.scorer ?? predictor
  const {signature} = predictor
  const columns = predictionColumns(signature)
  const nClasses = signature.classes?.length ?? 0
  const inputType = duck.STRUCT(
    Object.fromEntries(signature.inputs.map(i => [i.name, i.type === 'numeric' ? duck.DOUBLE : duck.VARCHAR])),
  )
  // Labels derived from the probabilities are classes: the label field can hold the class index.
  const byIndex = predictor.labelFromProbabilities
  const fieldType = (c: PredictionColumn): DuckDBType =>
    c.kind !== 'label' ? duck.DOUBLE : byIndex ? duck.INTEGER : c.labelType === 'integer' ? duck.BIGINT : duck.VARCHAR
  let rows = 0
  let failure: unknown
  con.registerScalarFunction(
    duck.DuckDBScalarFunction.create({
      name: options.name,
      parameterTypes: options.rowHashes ? [inputType, duck.UBIGINT] : [inputType],
      returnType: duck.STRUCT(Object.fromEntries(columns.map(c => [c.name, fieldType(c)]))),
      // NULL fields are missing values, which the model handles: the function must see them.
      specialHandling: true,
      mainFunction: (_info, input, output) => {
        try {
          const n = input.rowCount
          const frame = predictor.frameFromStruct(input.getColumnVector(0) as DuckDBStructVector, n, options.model)
          const predicted = scorer.predict(
            frame,
            options.rowHashes ? hashWords(input.getColumnVector(1), n) : undefined,
          )
          const struct = output as DuckDBStructVector
          columns.forEach((column, k) => {
            writeColumn(struct.entryVectorAt(k), column, predicted, nClasses, n, byIndex)
          })
          struct.flush()
          rows += n
          options.onChunk?.(frame, predicted)
        } catch (error) {
          failure ??= error
          throw error
        }
      },
    }),
  )
  const labels = (c: PredictionColumn & {kind: 'label'}) =>
    `[${(signature.classes ?? []).map(k => (c.labelType === 'integer' ? `${BigInt(k)}::BIGINT` : literal(k))).join(', ')}]`
  return {
    name: options.name,
    columns,
    call: args =>
      `${options.name}(${inputStruct(signature, args)}${options.rowHashes ? `, ${rowHash(signature, args)}` : ''})`,
    select: field =>
      columns.map(c => {
        const sql = c.kind === 'label' && byIndex ? `${labels(c)}[${field(c.name)} + 1]` : field(c.name)
        return `${sql} AS ${ident(c.name)}`
      }),
    get rows() {
      return rows
    },
    get error() {
      return failure
    },
  }
}

/**
 * The model's inputs as the function's STRUCT argument: one SQL expression per input, by input name (NULL for one
 * not given), cast as the function declares them (numbers DOUBLE, categories VARCHAR).
 */
export function inputStruct(signature: Signature, args: Readonly<Record<string, string>>): string {
  const fields = signature.inputs.map(i => `${literal(i.name)}: ${args[i.name] ?? 'NULL'}`)
  const types = signature.inputs.map(i => `${ident(i.name)} ${i.type === 'numeric' ? 'DOUBLE' : 'VARCHAR'}`)
  return `CAST({${fields.join(', ')}} AS STRUCT(${types.join(', ')}))`
}

/**
 * SQL for a 64-bit hash of the row's model inputs (DuckDB's hash() of the input STRUCT): the same inputs give the
 * same hash in any DuckDB of this version, so a thread that reads the rows again can tell they are the same rows.
 */
export function rowHash(signature: Signature, args: Readonly<Record<string, string>>): string {
  return `hash(${inputStruct(signature, args)})`
}

/** A UBIGINT vector's first n values (rowHash) as two int32 words each, copied. */
export function hashWords(vector: DuckDBVector, n: number): Int32Array {
  const items = itemsOf(vector, BigUint64Array)
  if (items) return new Int32Array(items.buffer, items.byteOffset, 2 * n).slice()
  const out = new Int32Array(2 * n)
  for (let i = 0; i < n; i++) {
    const v = BigInt.asUintN(64, BigInt(vector.getItem(i) as bigint))
    out[2 * i] = Number(v & 0xffffffffn) | 0
    out[2 * i + 1] = Number(v >> 32n) | 0
  }
  return out
}

/** The vector's private backing array (pinned @duckdb/node-api); undefined if its layout changed. */
function itemsOf<T extends Float64Array | BigInt64Array | BigUint64Array | Int32Array>(
  vector: DuckDBVector,
  type: {new (n: number): T},
): T | undefined {
  const items = (vector as unknown as {items?: unknown}).items
  return items instanceof type ? items : undefined
}

/** Fills one field of the result STRUCT for n rows, into the vector's array where it can. */
function writeColumn(
  vector: DuckDBVector,
  column: PredictionColumn,
  output: ModelOutput,
  nClasses: number,
  n: number,
  byIndex: boolean,
): void {
  if (column.kind === 'label' && byIndex) {
    const index = output.classIndex!
    const items = itemsOf(vector, Int32Array)
    for (let i = 0; i < n; i++) {
      if (items) items[i] = index[i]!
      else vector.setItem(i, index[i]! as never)
    }
    return
  }
  if (column.kind === 'label') {
    const labels = output.labels!
    if (column.labelType === 'string') {
      for (let i = 0; i < n; i++) vector.setItem(i, labels[i]! as never)
      return
    }
    const items = itemsOf(vector, BigInt64Array)
    for (let i = 0; i < n; i++) {
      const value = BigInt(labels[i]!)
      if (items) items[i] = value
      else vector.setItem(i, value as never)
    }
    return
  }
  const data = column.kind === 'value' ? output.values! : output.probabilities!
  const stride = column.kind === 'value' ? 1 : nClasses
  const offset = column.kind === 'value' ? 0 : column.classIndex
  const items = itemsOf(vector, Float64Array)
  for (let i = 0; i < n; i++) {
    const v = data[i * stride + offset]!
    if (items) items[i] = v
    else vector.setItem(i, v as never)
  }
}
