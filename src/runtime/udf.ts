// The synchronous prediction path for DuckDB scalar functions, which run on the JS thread and cannot await: ONNX
// Runtime's native session (onnxruntime-node/dist/binding.js) has the synchronous `run` that the public API wraps in a
// Promise. That object is not public API, so onnxruntime-node is pinned and test/query/udf.test.ts fails if it changes.
import type {DuckDBStructVector, DuckDBVector} from '@duckdb/node-api'
import type {InferenceSession, Tensor} from 'onnxruntime-node'
import {loadPackageModule} from '../cjs.js'
import {NULL_STRINGS} from '../data/source.js'
import {DataError, ModelError} from '../errors.js'
import {type Column, categoricalColumn, type Frame, numericColumn} from '../ml/frame.js'
import type {Signature, SignatureInput} from '../onnx/signature.js'
import {hasTreeEnsemble, type ModelOutput, Predictor} from './predictor.js'

/** The onnxruntime-node release whose native session this file relies on (package.json pins it). */
export const PINNED_ORT_VERSION = '1.30.0'

/** onnxruntime-node's native session (dist/binding.d.ts): load and run, both synchronous. */
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void
  readonly outputMetadata: ReadonlyArray<{readonly name: string}>
  run(feeds: Record<string, Tensor>, fetches: Record<string, null>, options: object): InferenceSession.ReturnType
}

interface NativeModule {
  readonly binding: {readonly InferenceSession: new () => NativeSession}
  readonly initOrt: () => void
}

let nativeModule: Promise<NativeModule> | undefined

async function native(): Promise<NativeModule> {
  nativeModule ??= (async () => {
    const module = loadPackageModule('onnxruntime-node/dist/binding.js') as Partial<NativeModule>
    if (typeof module.initOrt !== 'function' || typeof module.binding?.InferenceSession !== 'function') {
      const version = (loadPackageModule('onnxruntime-node/package.json') as {version: string}).version
      throw new Error(
        `onnxruntime-node ${version} has no synchronous native session (mlproj needs ${PINNED_ORT_VERSION} for SQL predictions)`,
      )
    }
    return module as NativeModule
  })()
  return nativeModule
}

/** The installed onnxruntime-node version, for the test that guards the native session. */
export function ortVersion(): string {
  return (loadPackageModule('onnxruntime-node/package.json') as {version: string}).version
}

interface CategoryText {
  readonly categories: ReadonlySet<string>
  /** Training category by the number it spells (for numbers given for a categorical column). */
  readonly byNumber: ReadonlyMap<number, string>
  /** Training category by its lower-case text (for booleans). */
  readonly byLower: ReadonlyMap<string, string>
}

/** A model that predicts synchronously: the Predictor's tensors and decoding around a native session's `run`. */
export class SyncPredictor {
  /** The native session's fetches, by the list of output names the Predictor asks for (one of two lists). */
  private readonly fetches = new Map<readonly string[], Record<string, null>>()
  private readonly reader: StructReader

  private constructor(
    private readonly predictor: Predictor,
    private readonly session: NativeSession,
  ) {
    this.reader = new StructReader(predictor.signature)
  }

  static async load(bytes: Uint8Array, signature: Signature, where: string): Promise<SyncPredictor> {
    const {binding, initOrt} = await native()
    initOrt()
    let session: NativeSession | undefined
    // The Predictor builds the tensors and decodes the outputs; the native session is the only one loaded.
    const predictor = await Predictor.around(bytes, signature, where, model => {
      const loaded = new binding.InferenceSession()
      loaded.loadModel(model.buffer, model.byteOffset, model.byteLength, {
        logSeverityLevel: 3,
        // ONNX Runtime splits a tree ensemble's rows between its intra-op threads, which pays even on DuckDB's
        // 2,048-row vectors (predict-batch, 2M rows of gbdt: 11.2 s against 12.5 s on one thread); other graphs take
        // less time per vector than handing it out (logistic: 4.6 s on one thread against 5.1 s).
        ...(hasTreeEnsemble(bytes) ? {} : {intraOpNumThreads: 1}),
        // Without spinning, ONNX Runtime's idle thread leaves the core to DuckDB's readers and writers between calls.
        extra: {session: {intra_op: {allow_spinning: '0'}}},
      })
      session = loaded
      return loaded.outputMetadata.map(o => o.name)
    })
    return new SyncPredictor(predictor, session!)
  }

  get signature(): Signature {
    return this.predictor.signature
  }

  /** See Predictor.labelFromProbabilities. */
  get labelFromProbabilities(): boolean {
    return this.predictor.labelFromProbabilities
  }

  /** Predicts every row of the frame, blocking until ONNX Runtime is done. */
  predict(frame: Frame): ModelOutput {
    return this.predictor.predictWith((feeds, names) => {
      let fetches = this.fetches.get(names)
      if (!fetches) {
        fetches = Object.fromEntries(names.map(name => [name, null]))
        this.fetches.set(names, fetches)
      }
      try {
        return this.session.run(feeds, fetches, {})
      } catch (error) {
        throw new ModelError('E_MODEL_RUN', `ONNX Runtime failed to run the model: ${(error as Error).message}`, {
          hint: 'check that the data matches the model signature (mlproj models show NAME)',
        })
      }
    }, frame)
  }

  /** See StructReader.frame. */
  frameFromStruct(rows: DuckDBStructVector, nRows: number, model: string): Frame {
    return this.reader.frame(rows, nRows, model)
  }
}

/** Reads a model's input columns from DuckDB vectors: the same frames wherever rows come from SQL. */
export class StructReader {
  private readonly categoryText: ReadonlyMap<string, CategoryText>
  /** Per categorical input: its short values, decoded once (see textColumn). */
  private readonly texts: ReadonlyMap<string, ShortTexts>

  constructor(readonly signature: Signature) {
    const categorical = signature.inputs.filter(i => i.type === 'categorical')
    this.categoryText = new Map(categorical.map(i => [i.name, categoryText(i)]))
    this.texts = new Map(categorical.map(i => [i.name, new ShortTexts()]))
  }

  /**
   * The model's input columns read from a DuckDB STRUCT vector (a row `t` or a struct such as {'age': age}).
   * Fields are matched to the signature by name (exactly, else ignoring case); extra fields are ignored. SQL NULL
   * and the missing-value spellings mlproj reads from files (NA, N/A, null, NaN, empty) are missing values, so a row
   * scores as it does in predict-batch and evaluate. Numbers given for a categorical column take the text of the
   * training category they equal (1234 → "01234", true → "True"), since SQL readers type such columns themselves.
   */
  frame(rows: DuckDBStructVector, nRows: number, model: string): Frame {
    const type = rows.type
    const names = type.entryNames
    const columns: Column[] = []
    const missing: string[] = []
    for (const input of this.signature.inputs) {
      let k = names.indexOf(input.name)
      if (k < 0) {
        const lower = input.name.toLowerCase()
        const matches = names.flatMap((n, j) => (n.toLowerCase() === lower ? [j] : []))
        k = matches.length === 1 ? matches[0]! : -1
      }
      if (k < 0) {
        missing.push(input.name)
        continue
      }
      const vector = rows.entryVectorAt(k)
      columns.push(
        input.type === 'numeric'
          ? numericColumn(input.name, numbersOf(vector, nRows, input, model))
          : textColumn(input, vector, nRows, this.categoryText.get(input.name)!, this.texts.get(input.name)!),
      )
    }
    if (missing.length > 0) {
      const list = missing.map(m => `"${m}"`).join(', ')
      throw new ModelError(
        'E_MODEL_SIGNATURE',
        `model ${model} needs column${missing.length > 1 ? 's' : ''} ${list}, which the row passed to it lacks`,
        {
          hint: `the model reads: ${this.signature.inputs.map(i => i.name).join(', ')}; the row has: ${names.join(', ')}. Pass a row with those columns (t in FROM data t) or a struct such as {'${missing[0]}': expression}`,
          details: {model, missing, columns: names},
        },
      )
    }
    return {nRows, columns}
  }
}

function categoryText(input: SignatureInput): CategoryText {
  const categories = input.categories ?? []
  const byNumber = new Map<number, string>()
  const byLower = new Map<string, string>()
  for (const c of categories) {
    const n = c.trim() === '' ? Number.NaN : Number(c)
    if (!Number.isNaN(n) && !byNumber.has(n)) byNumber.set(n, c)
    if (!byLower.has(c.toLowerCase())) byLower.set(c.toLowerCase(), c)
  }
  return {categories: new Set(categories), byNumber, byLower}
}

const NULL_TEXT = new Set(NULL_STRINGS)

/** Vector types whose backing array holds the values themselves (DECIMAL's holds scaled integers: not listed). */
const PLAIN_NUMBERS = new Set([
  'DOUBLE',
  'FLOAT',
  'BIGINT',
  'INTEGER',
  'SMALLINT',
  'TINYINT',
  'UBIGINT',
  'UINTEGER',
  'USMALLINT',
  'UTINYINT',
])

/**
 * The validity of a vector as 32-bit words (bit i set: row i is not NULL), or null when every row is valid.
 * @duckdb/node-api keeps it as BigInt words in a private field (`validity.data`); testing bits of 32-bit words avoids a
 * BigInt mask per value. Undefined when the field is not there: callers then use getItem. Pinned version + the udf test
 * guard this.
 */
export function validityWords(vector: DuckDBVector): Uint32Array | null | undefined {
  const validity = (vector as unknown as {validity?: {data?: unknown; offset?: number}}).validity
  if (validity?.offset !== 0) return undefined
  const data = validity.data
  if (data === null) return null
  if (!(data instanceof BigUint64Array)) return undefined
  return new Uint32Array(data.buffer, data.byteOffset, data.length * 2)
}

export function isValid(valid: Uint32Array | null, i: number): boolean {
  return valid === null || (valid[i >>> 5]! & (1 << (i & 31))) !== 0
}

/** The backing typed array of a plain number vector (private `items`, guarded like validityWords). */
function rawNumbers(vector: DuckDBVector): {items: ArrayLike<number | bigint>; valid: Uint32Array | null} | undefined {
  if (!PLAIN_NUMBERS.has(String(vector.type))) return undefined
  const items = (vector as unknown as {items?: unknown}).items
  const valid = validityWords(vector)
  if (!ArrayBuffer.isView(items) || items instanceof DataView || valid === undefined) return undefined
  return {items: items as unknown as ArrayLike<number | bigint>, valid}
}

function numbersOf(vector: DuckDBVector, n: number, input: SignatureInput, model: string): Float64Array {
  const out = new Float64Array(n)
  const raw = rawNumbers(vector)
  if (raw) {
    const {items, valid} = raw
    for (let i = 0; i < n; i++) out[i] = isValid(valid, i) ? Number(items[i]) : Number.NaN
    return out
  }
  for (let i = 0; i < n; i++) out[i] = toNumber(vector.getItem(i), input, model)
  return out
}

function toNumber(value: unknown, input: SignatureInput, model: string): number {
  if (value === null || value === undefined) return Number.NaN
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'string') {
    const text = value.trim()
    if (NULL_TEXT.has(text)) return Number.NaN
    const n = Number(text)
    if (!Number.isNaN(n)) return n
    throw new DataError(
      'E_DATA_TYPE',
      `column "${input.name}" holds "${value}", but model ${model} reads it as a number`,
      {
        hint: `fix or blank out that value, or leave it out with WHERE try_cast("${input.name}" AS DOUBLE) IS NOT NULL`,
        details: {column: input.name, value},
      },
    )
  }
  if (typeof value === 'object' && typeof (value as {toDouble?: unknown}).toDouble === 'function') {
    return (value as {toDouble(): number}).toDouble()
  }
  throw new DataError(
    'E_DATA_TYPE',
    `column "${input.name}" holds ${String(value)}, which model ${model} cannot read as a number`,
    {
      hint: `cast it, e.g. {'${input.name}': CAST(... AS DOUBLE)}`,
      details: {column: input.name},
    },
  )
}

/**
 * A categorical input read from a DuckDB vector: codes into levels (this chunk's categories, in order of
 * appearance). VARCHAR values of up to 12 bytes, which DuckDB's 16-byte string_t holds inline after its uint32
 * length, are looked up in `texts` by their bytes (read from the vector's private `dataView`), so each distinct value
 * is decoded once per reader, not once per row; other values go through getItem.
 */
function textColumn(
  input: SignatureInput,
  vector: DuckDBVector,
  n: number,
  text: CategoryText,
  texts: ShortTexts,
): Column {
  const codes = new Int32Array(n)
  const levels: string[] = []
  // Raw value → code (-1: missing), so each distinct value is turned into a category once per chunk.
  const index = new Map<unknown, number>()
  const codeOf = (raw: unknown): number => {
    let code = index.get(raw)
    if (code === undefined) {
      const v = categoryOf(raw, text)
      code = v === null ? -1 : levels.indexOf(v)
      if (v !== null && code < 0) {
        code = levels.length
        levels.push(v)
      }
      index.set(raw, code)
    }
    return code
  }
  const words = inlineWords(vector)
  if (!words) {
    for (let i = 0; i < n; i++) codes[i] = codeOf(vector.getItem(i))
    return categoricalColumn(input.name, codes, levels)
  }
  const {data, valid} = words
  const chunk = texts.nextChunk()
  for (let i = 0; i < n; i++) {
    if (!isValid(valid, i)) {
      codes[i] = codeOf(null)
      continue
    }
    const length = data[4 * i]!
    if (length > INLINE_BYTES) {
      codes[i] = codeOf(vector.getItem(i))
      continue
    }
    const w1 = data[4 * i + 1]! & WORD_MASK[Math.min(length, 4)]!
    const w2 = data[4 * i + 2]! & WORD_MASK[Math.max(0, Math.min(length - 4, 4))]!
    const w3 = data[4 * i + 3]! & WORD_MASK[Math.max(0, length - 8)]!
    let entry = texts.find(length, w1, w2, w3)
    if (!entry) {
      const raw = vector.getItem(i)
      entry = texts.add(length, w1, w2, w3, raw)
      if (!entry) {
        codes[i] = codeOf(raw)
        continue
      }
    }
    if (entry.chunk !== chunk) {
      entry.chunk = chunk
      entry.code = codeOf(entry.raw)
    }
    codes[i] = entry.code
  }
  return categoricalColumn(input.name, codes, levels)
}

/** Bytes a DuckDB string_t holds inline. */
const INLINE_BYTES = 12
/** The bytes of a little-endian uint32 that belong to a value k bytes long (k = 0..4). */
const WORD_MASK = [0, 0xff, 0xffff, 0xffffff, 0xffffffff]

/**
 * A VARCHAR vector's string_t array as uint32 words (4 per value: length, then the inline bytes) and its validity;
 * undefined when the pinned @duckdb/node-api's private layout is not there.
 */
function inlineWords(vector: DuckDBVector): {data: Uint32Array; valid: Uint32Array | null} | undefined {
  if (String(vector.type) !== 'VARCHAR') return undefined
  const view = (vector as unknown as {dataView?: unknown}).dataView
  const valid = validityWords(vector)
  if (!(view instanceof DataView) || valid === undefined || view.byteOffset % 4 !== 0) return undefined
  return {data: new Uint32Array(view.buffer, view.byteOffset, view.byteLength >>> 2), valid}
}

interface ShortText {
  readonly length: number
  readonly w1: number
  readonly w2: number
  readonly w3: number
  /** The value as getItem gave it. */
  readonly raw: unknown
  /** The chunk whose code `code` is. */
  chunk: number
  code: number
}

/** Short VARCHAR values by their inline bytes: at most MAX distinct ones, so a column of ids cannot grow it. */
class ShortTexts {
  private static readonly MAX = 4096
  private readonly byHash = new Map<number, ShortText[]>()
  /** The last value found per hash bucket: most lookups end here, without the Map. */
  private readonly recent = new Array<ShortText | undefined>(256).fill(undefined)
  private size = 0
  private chunks = 0

  nextChunk(): number {
    return ++this.chunks
  }

  find(length: number, w1: number, w2: number, w3: number): ShortText | undefined {
    const h = wordsHash(length, w1, w2, w3)
    const last = this.recent[h & 255]
    if (last && last.length === length && last.w1 === w1 && last.w2 === w2 && last.w3 === w3) return last
    const list = this.byHash.get(h)
    if (!list) return undefined
    for (const e of list) {
      if (e.length === length && e.w1 === w1 && e.w2 === w2 && e.w3 === w3) {
        this.recent[h & 255] = e
        return e
      }
    }
    return undefined
  }

  add(length: number, w1: number, w2: number, w3: number, raw: unknown): ShortText | undefined {
    if (this.size >= ShortTexts.MAX) return undefined
    const entry: ShortText = {length, w1, w2, w3, raw, chunk: 0, code: -1}
    const h = wordsHash(length, w1, w2, w3)
    const list = this.byHash.get(h)
    if (list) list.push(entry)
    else this.byHash.set(h, [entry])
    this.size++
    return entry
  }
}

function wordsHash(length: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(length ^ 0x9e3779b9, 0x85ebca6b)
  h = Math.imul(h ^ w1, 0xcc9e2d51)
  h = Math.imul(h ^ (h >>> 15) ^ w2, 0x1b873593)
  h = Math.imul(h ^ (h >>> 13) ^ w3, 0x85ebca6b)
  return h ^ (h >>> 16)
}

function categoryOf(value: unknown, text: CategoryText): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return NULL_TEXT.has(value) && !text.categories.has(value) ? null : value
  if (typeof value === 'number') return Number.isNaN(value) ? null : (text.byNumber.get(value) ?? String(value))
  if (typeof value === 'bigint') return text.byNumber.get(Number(value)) ?? String(value)
  if (typeof value === 'boolean') return text.byLower.get(String(value)) ?? String(value)
  if (typeof value === 'object' && typeof (value as {toDouble?: unknown}).toDouble === 'function') {
    const n = (value as {toDouble(): number}).toDouble()
    return text.byNumber.get(n) ?? String(value)
  }
  return String(value)
}
