// A small builder over the ONNX protobuf schema (onnx-proto): unique names, typed constants, nodes with
// attributes, and deterministic encoding (same graph → same bytes; no timestamps, raw little-endian data).
import type onnxProto from 'onnx-proto'
import {loadOnnxProto} from '../cjs.js'

export const {onnx} = loadOnnxProto()
export const DataType = onnx.TensorProto.DataType
const AttrType = onnx.AttributeProto.AttributeType

/** Opsets the exported models use: 21 (string Equal needs 19); ai.onnx.ml 5 for TreeEnsemble with double values. */
export const OPSETS = [
  {domain: '', version: 21},
  {domain: 'ai.onnx.ml', version: 5},
]
export const IR_VERSION = 10

export type ElemType = 'double' | 'float' | 'int64' | 'int32' | 'string' | 'bool'

export const ELEM_TYPES: Record<ElemType, number> = {
  double: DataType.DOUBLE,
  float: DataType.FLOAT,
  int64: DataType.INT64,
  int32: DataType.INT32,
  string: DataType.STRING,
  bool: DataType.BOOL,
}

export function elemTypeName(code: number): ElemType | undefined {
  return (Object.keys(ELEM_TYPES) as ElemType[]).find(k => ELEM_TYPES[k] === code)
}

export type AttrValue =
  | number
  | string
  | number[]
  | Int32Array
  | string[]
  | {float: number}
  | {floats: number[]}
  | {ints: number[]}
  | {tensor: onnxProto.onnx.ITensorProto}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'number') return {name, type: AttrType.INT, i: value}
  if (typeof value === 'string') return {name, type: AttrType.STRING, s: Buffer.from(value, 'utf8')}
  // Long lists stay typed arrays, which encodeNode writes packed; protobufjs gets short ones as plain arrays.
  if (value instanceof Int32Array)
    return {name, type: AttrType.INTS, ints: (value.length >= PACKED_MIN ? value : Array.from(value)) as number[]}
  if (Array.isArray(value)) {
    if (value.every(v => typeof v === 'string')) {
      return {name, type: AttrType.STRINGS, strings: (value as string[]).map(v => Buffer.from(v, 'utf8'))}
    }
    return {name, type: AttrType.INTS, ints: value as number[]}
  }
  if ('tensor' in value) return {name, type: AttrType.TENSOR, t: value.tensor}
  if ('float' in value) return {name, type: AttrType.FLOAT, f: value.float}
  if ('floats' in value) return {name, type: AttrType.FLOATS, floats: value.floats}
  return {name, type: AttrType.INTS, ints: value.ints}
}

export type Dim = number | string

export interface EncodeOptions {
  readonly graphName: string
  readonly docString: string
  readonly metadata: Record<string, string>
  readonly producerVersion: string
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = []
  private readonly initializers: onnxProto.onnx.ITensorProto[] = []
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = []
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = []
  private readonly used = new Set<string>()

  /** A fresh tensor name starting with `prefix`. */
  name(prefix: string): string {
    let candidate = prefix
    for (let i = 1; this.used.has(candidate); i++) candidate = `${prefix}_${i}`
    this.used.add(candidate)
    return candidate
  }

  input(name: string, elemType: ElemType, dims: Dim[]): string {
    this.used.add(name)
    this.inputs.push(valueInfo(name, elemType, dims))
    return name
  }

  output(name: string, elemType: ElemType, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims))
  }

  doubles(prefix: string, values: ArrayLike<number>, dims: number[] = [values.length]): string {
    const data = Float64Array.from(values)
    return this.initializer(prefix, {dataType: DataType.DOUBLE, dims, rawData: new Uint8Array(data.buffer)})
  }

  int64s(prefix: string, values: ArrayLike<number>, dims: number[] = [values.length]): string {
    const data = BigInt64Array.from(Array.from(values, v => BigInt(v)))
    return this.initializer(prefix, {dataType: DataType.INT64, dims, rawData: new Uint8Array(data.buffer)})
  }

  strings(prefix: string, values: readonly string[], dims: number[] = [values.length]): string {
    return this.initializer(prefix, {
      dataType: DataType.STRING,
      dims,
      stringData: values.map(v => Buffer.from(v, 'utf8')),
    })
  }

  /** Adds a node; returns its output names (fresh names derived from `outputs` prefixes unless exact names are given). */
  node(
    opType: string,
    inputs: string[],
    outputs: string | string[],
    attrs: Record<string, AttrValue> = {},
    domain = '',
  ): string[] {
    const names = (Array.isArray(outputs) ? outputs : [outputs]).map(o =>
      this.used.has(o) ? this.name(o) : this.claim(o),
    )
    this.nodes.push({
      opType,
      domain,
      input: inputs,
      output: names,
      name: this.name(`${opType}_node`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    })
    return names
  }

  /** Adds a single-output node and returns the output name. */
  op(opType: string, inputs: string[], output: string, attrs: Record<string, AttrValue> = {}, domain = ''): string {
    return this.node(opType, inputs, output, attrs, domain)[0]!
  }

  /**
   * Encodes the model. protobufjs allocates an operation object (and an int64 object) per element of a
   * repeated integer field, which for a forest of millions of nodes costs ~1 GB transiently; integer lists
   * longer than PACKED_MIN are therefore written as packed varints directly. Each message is still encoded
   * by onnx-proto; only whole fields are appended (protobuf merges fields in order of appearance), so the
   * file decodes to exactly the same ModelProto.
   */
  encode(options: EncodeOptions): Uint8Array {
    const {graph, ...model} = this.proto(options)
    const parts = (graph.node ?? []).flatMap(node => field(GRAPH_NODE, encodeNode(node)))
    parts.push(onnx.GraphProto.encode({...graph, node: []}).finish())
    return concat([onnx.ModelProto.encode(model).finish(), ...field(MODEL_GRAPH, parts)])
  }

  /** The model as an onnx-proto object (what `encode` writes). */
  proto(options: EncodeOptions): onnxProto.onnx.IModelProto & {graph: onnxProto.onnx.IGraphProto} {
    return {
      irVersion: IR_VERSION,
      producerName: 'mlproj',
      producerVersion: options.producerVersion,
      opsetImport: OPSETS,
      docString: options.docString,
      graph: {
        name: options.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(options.metadata).map(([key, value]) => ({key, value})),
    }
  }

  private claim(name: string): string {
    this.used.add(name)
    return name
  }

  private initializer(prefix: string, tensor: onnxProto.onnx.ITensorProto): string {
    const name = this.name(prefix)
    this.initializers.push({...tensor, name})
    return name
  }
}

function valueInfo(name: string, elemType: ElemType, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_TYPES[elemType],
        shape: {dim: dims.map(d => (typeof d === 'string' ? {dimParam: d} : {dimValue: d}))},
      },
    },
  }
}

/** Field numbers from onnx.proto used when appending pre-encoded fields. */
const MODEL_GRAPH = 7
const GRAPH_NODE = 1
const NODE_ATTRIBUTE = 5
const ATTRIBUTE_INTS = 8
/** Integer lists at least this long are written as packed varints (see GraphBuilder.encode). */
const PACKED_MIN = 1024

/** A node's encoding, in pieces (see field). */
function encodeNode(node: onnxProto.onnx.INodeProto): Uint8Array[] {
  const attributes = node.attribute ?? []
  if (!attributes.some(isLargeInts)) return [onnx.NodeProto.encode(node).finish()]
  // Attributes keep their order: each is appended as its own field after the rest of the node.
  const parts = [onnx.NodeProto.encode({...node, attribute: []}).finish()]
  for (const a of attributes) {
    const bytes = isLargeInts(a)
      ? [
          onnx.AttributeProto.encode({name: a.name, type: a.type}).finish(),
          ...field(ATTRIBUTE_INTS, [packedVarints(a.ints as number[])]),
        ]
      : [onnx.AttributeProto.encode(a).finish()]
    parts.push(...field(NODE_ATTRIBUTE, bytes))
  }
  return parts
}

function isLargeInts(a: onnxProto.onnx.IAttributeProto): boolean {
  const ints = a.ints as number[] | undefined
  return (
    a.type === AttrType.INTS && (ints?.length ?? 0) >= PACKED_MIN && ints!.every(v => Number.isInteger(v) && v >= 0)
  )
}

function varintLength(v: number): number {
  let n = 1
  while (v >= 0x80) {
    v = Math.floor(v / 128)
    n++
  }
  return n
}

function writeVarint(out: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    out[at++] = (v % 128) | 0x80
    v = Math.floor(v / 128)
  }
  out[at++] = v
  return at
}

function packedVarints(values: ArrayLike<number> & Iterable<number>): Uint8Array {
  let size = 0
  for (const v of values) size += varintLength(v)
  const out = new Uint8Array(size)
  let at = 0
  for (const v of values) at = writeVarint(out, at, v)
  return out
}

/**
 * A length-delimited field (key = number << 3 | 2, length, bytes) over bytes given in pieces, returned in pieces:
 * a model is copied into one buffer once, at the end, rather than once per level of nesting.
 */
function field(number: number, bytes: readonly Uint8Array[]): Uint8Array[] {
  const key = number * 8 + 2
  const length = bytes.reduce((n, p) => n + p.length, 0)
  const head = new Uint8Array(varintLength(key) + varintLength(length))
  writeVarint(head, writeVarint(head, 0, key), length)
  return [head, ...bytes]
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Decodes a model file, for import and inspection. */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes)
}
