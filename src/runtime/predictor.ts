// The Predictor: the only code that calls onnxruntime. It turns a Frame into the model's input tensors
// (per its signature), runs the ONNX session and turns the outputs back into labels, probabilities or values.
// onnxruntime-node is loaded lazily: it costs ~0.05 s that `--help` must not pay.
import type {InferenceSession, Tensor} from 'onnxruntime-node'
import {loadOnnxRuntime, type OnnxRuntime} from '../cjs.js'
import {ModelError} from '../errors.js'
import {type CategoricalColumn, type Column, type Frame, takeRows} from '../ml/frame.js'
import type {InputEncoder} from '../onnx/encoders.js'
import type {Signature, SignatureInput} from '../onnx/signature.js'
import {alikeOrder, inFrameOrder} from './row-order.js'

export interface ModelOutput {
  readonly nRows: number
  /** Classification: the predicted label as text (integers as decimal strings). */
  readonly labels?: readonly string[]
  /** Classification: index of the predicted label in `classes` (-1 if the model emitted a label outside it). */
  readonly classIndex?: Int32Array
  /** Classification: nRows × K probabilities, row-major, in `classes` order. */
  readonly probabilities?: Float64Array
  /** Regression: predicted values. */
  readonly values?: Float64Array
}

type Ort = OnnxRuntime

/**
 * Rows from which a tree ensemble's rows are sorted before a run (row-order.ts). ONNX Runtime walks each tree for
 * blocks of 128 rows; on DuckDB's 2,048-row vectors sorting already takes a gbdt's run from 6.6 to 5.1 ms.
 */
const ALIKE_MIN_ROWS = 1024

/** Whether the graph holds an ai.onnx.ml tree ensemble (its op type is plain text in the protobuf). */
export function hasTreeEnsemble(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes('TreeEnsemble')
}

/** What a Predictor runs: ONNX Runtime's session, or the names of one the caller runs (Predictor.around). */
type Session = Pick<InferenceSession, 'outputNames' | 'run'>

interface InputGroup {
  readonly onnxName: string
  readonly columns: readonly SignatureInput[]
}

export class Predictor {
  private readonly groups: readonly InputGroup[]
  /**
   * Whether runs fetch the probabilities alone and derive the label (signature.outputs.labelFromProbabilities):
   * every label is then one of `classes`.
   */
  readonly labelFromProbabilities: boolean
  /** The outputs each run fetches. */
  private readonly fetches: readonly string[]
  /** Whether the graph holds a tree ensemble, whose rows are scored in alikeOrder. */
  private readonly trees: boolean
  /** The model's input columns by name: the columns alikeOrder keys on. */
  private readonly inputNames: ReadonlySet<string>

  private constructor(
    private readonly session: Session,
    private readonly runtime: Ort,
    readonly signature: Signature,
    readonly classes: readonly string[] | undefined,
    /** The model the session runs: the file's, or its graph rewritten to take categories encoded. */
    readonly bytes: Uint8Array,
    /** String inputs the session takes encoded (onnx/encoders.ts), by ONNX input name. */
    private readonly encoders: ReadonlyMap<string, InputEncoder> = new Map(),
  ) {
    const byName = new Map<string, SignatureInput[]>()
    for (const input of signature.inputs) {
      const group = byName.get(input.onnxName) ?? []
      group.push(input)
      byName.set(input.onnxName, group)
    }
    this.groups = [...byName].map(([onnxName, columns]) => ({
      onnxName,
      columns: columns.sort((a, b) => (a.index ?? 0) - (b.index ?? 0)),
    }))
    const {outputs} = signature
    this.labelFromProbabilities = derivesLabel(signature)
    this.fetches = this.labelFromProbabilities ? [outputs.probabilities!] : session.outputNames
    this.trees = hasTreeEnsemble(bytes)
    this.inputNames = new Set(signature.inputs.map(i => i.name))
  }

  /**
   * `sessionOptions` tune the session (serve's workers run one intra-op thread each, so that several sessions
   * share the cores without oversubscribing them).
   */
  static async load(
    bytes: Uint8Array,
    signature: Signature,
    where: string,
    sessionOptions: InferenceSession.SessionOptions = {},
    /**
     * Encode categories before the run where the graph only looks them up (onnx/encoders.ts): a few percent off each
     * run, for about 0.1 s of rewriting (and of loading the ONNX schema) once, so for large batches only.
     */
    encodeCategories = false,
  ): Promise<Predictor> {
    const runtime = loadOnnxRuntime()
    const options = {logSeverityLevel: 3 as const, ...sessionOptions}
    return Predictor.open(runtime, bytes, signature, where, encodeCategories, model =>
      runtime.InferenceSession.create(model, options),
    )
  }

  /**
   * A Predictor for a session the caller loads and runs itself, through predictWith (udf.ts's synchronous native
   * session): `load` loads the model it is given and returns its output names. With encodeCategories (see load) it
   * is first given the graph rewritten to take categories encoded, where the graph allows.
   */
  static async around(
    bytes: Uint8Array,
    signature: Signature,
    where: string,
    load: (model: Uint8Array) => readonly string[],
    encodeCategories = false,
  ): Promise<Predictor> {
    return Predictor.open(loadOnnxRuntime(), bytes, signature, where, encodeCategories, model => ({
      outputNames: load(model),
      run: () => Promise.reject(new Error('this model is run through predictWith')),
    }))
  }

  /**
   * Starts a session on the graph rewritten to take encoded categories (when asked and the graph allows), else on the
   * model as it is; a model that does not load is a ModelError.
   */
  private static async open(
    runtime: Ort,
    bytes: Uint8Array,
    signature: Signature,
    where: string,
    encodeCategories: boolean,
    start: (model: Uint8Array) => Session | Promise<Session>,
  ): Promise<Predictor> {
    const encoded = encodeCategories ? await encodedModel(bytes, signature) : undefined
    if (encoded) {
      try {
        const session = await start(encoded.bytes)
        return new Predictor(session, runtime, signature, signature.classes, encoded.bytes, encoded.encoders)
      } catch {
        // The rewritten graph is an optimisation: the model as it is still runs.
      }
    }
    let session: Session
    try {
      session = await start(bytes)
    } catch (error) {
      throw new ModelError('E_MODEL_LOAD', `ONNX Runtime cannot load ${where}: ${(error as Error).message}`, {
        hint: 'check that the file is a valid ONNX model using operators ONNX Runtime supports',
      })
    }
    return new Predictor(session, runtime, signature, signature.classes, bytes)
  }

  /** The columns (name and kind) this model reads, for loading exactly those from a data source. */
  get columns(): ReadonlyArray<{name: string; kind: 'numeric' | 'categorical'}> {
    return this.signature.inputs.map(i => ({name: i.name, kind: i.type}))
  }

  async predict(frame: Frame): Promise<ModelOutput> {
    const {rows, restore} = this.alike(frame)
    return restore(await this.predictInOrder(rows))
  }

  private async predictInOrder(frame: Frame): Promise<ModelOutput> {
    const feeds = this.feeds(frame)
    const run = async (fetches: readonly string[]) => {
      try {
        return await this.session.run(feeds, [...fetches])
      } catch (error) {
        throw new ModelError('E_MODEL_RUN', `ONNX Runtime failed to run the model: ${(error as Error).message}`, {
          hint: 'check that the data matches the model signature (mlproj models show NAME)',
        })
      }
    }
    return (
      this.decode(await run(this.fetches), frame.nRows) ??
      this.decode(await run(this.session.outputNames), frame.nRows)!
    )
  }

  /**
   * Predicts with a synchronous run (runtime/udf.ts: ONNX Runtime's native session, for DuckDB scalar functions),
   * with the same tensors and decoding as predict. `run` gets the names of the outputs to fetch.
   */
  predictWith(
    run: (feeds: Record<string, Tensor>, fetches: readonly string[]) => InferenceSession.ReturnType,
    frame: Frame,
  ): ModelOutput {
    const {rows, restore} = this.alike(frame)
    const feeds = this.feeds(rows)
    return restore(
      this.decode(run(feeds, this.fetches), rows.nRows) ??
        this.decode(run(feeds, this.session.outputNames), rows.nRows)!,
    )
  }

  /**
   * The frame's rows in the order to score them (row-order.ts), and what puts their outputs back in the frame's order:
   * alike rows together for a tree ensemble on enough rows to share its walks, else the frame as it is.
   */
  private alike(frame: Frame): {rows: Frame; restore: (output: ModelOutput) => ModelOutput} {
    if (!this.trees || frame.nRows < ALIKE_MIN_ROWS) return {rows: frame, restore: output => output}
    // Keyed on the model's inputs only: a column the model does not read (a target, an id) says nothing of its walk.
    const order = alikeOrder({nRows: frame.nRows, columns: frame.columns.filter(c => this.inputNames.has(c.name))})
    return {rows: takeRows(frame, order), restore: output => inFrameOrder(output, order)}
  }

  /**
   * Predicts `rows` of the frame in chunks, so that tensors stay small whatever the frame's size; the
   * outputs are concatenated in row order.
   */
  async predictRows(frame: Frame, rows: Int32Array, chunkRows = 16_384): Promise<ModelOutput> {
    const parts: ModelOutput[] = []
    for (let s = 0; s < rows.length; s += chunkRows)
      parts.push(await this.predict(takeRows(frame, rows.subarray(s, s + chunkRows))))
    return concatOutputs(parts, rows.length)
  }

  private feeds(frame: Frame): Record<string, Tensor> {
    const byName = new Map(frame.columns.map(c => [c.name, c]))
    const missing = this.signature.inputs.filter(i => !byName.has(i.name)).map(i => i.name)
    if (missing.length > 0) {
      throw new ModelError(
        'E_MODEL_SIGNATURE',
        `the data lacks column${missing.length > 1 ? 's' : ''} ${missing.map(m => `"${m}"`).join(', ')} that the model needs`,
        {
          hint: `the model reads: ${this.signature.inputs.map(i => i.name).join(', ')}`,
          details: {missing},
        },
      )
    }
    const feeds: Record<string, Tensor> = {}
    for (const group of this.groups) {
      const columns = group.columns.map(c => byName.get(c.name)!)
      const encoder = this.encoders.get(group.onnxName)
      if (encoder) feeds[encoder.input] = this.encoded(encoder, columns[0]!, frame.nRows)
      else feeds[group.onnxName] = this.tensor(group.columns[0]!, columns, frame.nRows)
    }
    return feeds
  }

  /** A string input's values as its encoder turns them into numbers: the tensor the rewritten graph takes. */
  private encoded(encoder: InputEncoder, column: Column, n: number): Tensor {
    const {Tensor} = this.runtime
    const value = (text: string) => encoder.values.get(text) ?? encoder.fallback
    // Per level once (and for a missing value, which the string tensor holds as ''), then per row a lookup.
    const byCode = column.kind === 'categorical' ? column.levels.map(value) : undefined
    const missing = value('')
    const at = (i: number) => {
      if (!byCode) return value(textAt(column, i))
      const code = (column as CategoricalColumn).codes[i]!
      return code < 0 ? missing : byCode[code]!
    }
    if (encoder.type === 'float32') {
      const out = new Float32Array(n)
      for (let i = 0; i < n; i++) out[i] = at(i) as number
      return new Tensor('float32', out, [n, 1])
    }
    const out = new BigInt64Array(n)
    for (let i = 0; i < n; i++) out[i] = at(i) as bigint
    return new Tensor('int64', out, [n, 1])
  }

  private tensor(spec: SignatureInput, columns: readonly Column[], n: number): Tensor {
    const width = columns.length
    const dims = [n, width]
    const {Tensor} = this.runtime
    if (spec.elemType === 'string') {
      const data = new Array<string>(n * width)
      columns.forEach((column, k) => {
        for (let i = 0; i < n; i++) data[i * width + k] = textAt(column, i)
      })
      return new Tensor('string', data, dims)
    }
    if (spec.elemType === 'double' && width === 1 && columns[0]!.kind === 'numeric') {
      // ONNX Runtime takes the array as it is, but not from shared memory (loaded columns live there).
      const values = columns[0]!.values
      return new Tensor('float64', values.buffer instanceof SharedArrayBuffer ? values.slice() : values, dims)
    }
    const values = columns.map(c => numericValues(c, spec))
    const fill = <T extends {[i: number]: number | bigint}>(out: T, convert: (v: number) => number | bigint): T => {
      values.forEach((column, k) => {
        for (let i = 0; i < n; i++) out[i * width + k] = convert(column[i]!)
      })
      return out
    }
    switch (spec.elemType) {
      case 'double':
        return new Tensor(
          'float64',
          fill(new Float64Array(n * width), v => v),
          dims,
        )
      case 'float':
        return new Tensor(
          'float32',
          fill(new Float32Array(n * width), v => v),
          dims,
        )
      case 'int32':
        return new Tensor(
          'int32',
          fill(new Int32Array(n * width), v => v),
          dims,
        )
      case 'int64':
        return new Tensor(
          'int64',
          fill(new BigInt64Array(n * width), v => BigInt(Math.trunc(v))),
          dims,
        )
      case 'bool':
        return new Tensor(
          'bool',
          fill(new Uint8Array(n * width), v => (v ? 1 : 0)),
          dims,
        )
    }
  }

  /** The run's outputs as a ModelOutput; undefined when the label must be fetched (see labelsFromProbabilities). */
  private decode(results: InferenceSession.ReturnType, nRows: number): ModelOutput | undefined {
    const {outputs} = this.signature
    if (this.signature.task === 'regression') return {nRows, values: float64(results[outputs.value!]!.data)}
    if (!results[outputs.label!]) {
      return labelsFromProbabilities(float64(results[outputs.probabilities!]!.data), this.classes!, nRows)
    }
    const labelData = results[outputs.label!]!.data as ArrayLike<string | bigint | number>
    const probabilities = outputs.probabilities ? float64(results[outputs.probabilities]!.data) : undefined
    const classes = this.classes ?? []
    // Keyed by the raw label (bigint for int64 outputs), so no per-row string is built for known classes.
    const index = new Map<string | bigint | number, number>()
    classes.forEach((c, i) => {
      index.set(c, i)
      if (this.signature.labelType === 'integer' && /^-?\d+$/.test(c)) index.set(BigInt(c), i)
    })
    const classIndex = new Int32Array(nRows)
    const labels = new Array<string>(nRows)
    for (let i = 0; i < nRows; i++) {
      const raw = labelData[i]!
      const k = index.get(raw) ?? -1
      classIndex[i] = k
      labels[i] = k >= 0 ? classes[k]! : String(raw)
    }
    return {nRows, labels, classIndex, probabilities}
  }
}

/**
 * label = classes[argmax(probabilities)], the first maximum as ONNX's ArgMax picks it. Undefined if a row holds a
 * NaN probability, whose place in ArgMax's order this does not guess: the caller then fetches the model's label.
 */
function labelsFromProbabilities(
  probabilities: Float64Array,
  classes: readonly string[],
  nRows: number,
): ModelOutput | undefined {
  const k = classes.length
  const classIndex = new Int32Array(nRows)
  const labels = new Array<string>(nRows)
  for (let i = 0, o = 0; i < nRows; i++, o += k) {
    let best = 0
    let max = probabilities[o]!
    if (Number.isNaN(max)) return undefined
    for (let j = 1; j < k; j++) {
      const p = probabilities[o + j]!
      if (p > max) {
        max = p
        best = j
      } else if (Number.isNaN(p)) return undefined
    }
    classIndex[i] = best
    labels[i] = classes[best]!
  }
  return {nRows, labels, classIndex, probabilities}
}

/** Tensor data as float64, without a copy when it already is. */
function float64(data: unknown): Float64Array {
  return data instanceof Float64Array ? data : Float64Array.from(data as Float32Array)
}

/**
 * Whether a Predictor fetches the probabilities alone and derives the label from them
 * (signature.outputs.labelFromProbabilities, with probabilities and classes).
 */
export function derivesLabel(signature: Signature): boolean {
  const {outputs, classes} = signature
  return Boolean(outputs.labelFromProbabilities && outputs.probabilities && classes?.length)
}

/**
 * The model rewritten to take encoded categories (onnx/encoders.ts) on the inputs that take one string column each,
 * those a graph may look up in a LabelEncoder; undefined when there is nothing to rewrite.
 */
async function encodedModel(
  bytes: Uint8Array,
  signature: Signature,
): Promise<{bytes: Uint8Array; encoders: ReadonlyMap<string, InputEncoder>} | undefined> {
  const count = new Map<string, number>()
  for (const input of signature.inputs) count.set(input.onnxName, (count.get(input.onnxName) ?? 0) + 1)
  const names = signature.inputs
    .filter(i => i.elemType === 'string' && count.get(i.onnxName) === 1)
    .map(i => i.onnxName)
  if (names.length === 0) return undefined
  return (await import('../onnx/encoders.js')).withEncodedInputs(bytes, names)
}

function textAt(column: Column, i: number): string {
  if (column.kind === 'categorical') {
    const code = column.codes[i]!
    return code < 0 ? '' : column.levels[code]!
  }
  const v = column.values[i]!
  return Number.isNaN(v) ? '' : String(v)
}

function numericValues(column: Column, spec: SignatureInput): Float64Array {
  if (column.kind === 'numeric') return column.values
  throw new ModelError('E_MODEL_SIGNATURE', `column "${spec.name}" holds text but the model expects numbers`, {
    hint: 'check the column, or the model signature (mlproj models show NAME)',
  })
}

export function concatOutputs(parts: readonly ModelOutput[], nRows: number): ModelOutput {
  if (parts.length === 1) return parts[0]!
  const cat = <T extends Float64Array | Int32Array>(
    arrays: Array<T | undefined>,
    make: (n: number) => T,
  ): T | undefined => {
    if (arrays.some(a => a === undefined)) return undefined
    const out = make(arrays.reduce((n, a) => n + a!.length, 0))
    let o = 0
    for (const a of arrays) {
      out.set(a!, o)
      o += a!.length
    }
    return out
  }
  return {
    nRows,
    labels: parts.every(p => p.labels) ? parts.flatMap(p => p.labels!) : undefined,
    classIndex: cat(
      parts.map(p => p.classIndex),
      n => new Int32Array(n),
    ),
    probabilities: cat(
      parts.map(p => p.probabilities),
      n => new Float64Array(n),
    ),
    values: cat(
      parts.map(p => p.values),
      n => new Float64Array(n),
    ),
  }
}
