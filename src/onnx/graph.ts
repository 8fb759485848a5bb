// A small builder over the ONNX protobuf schema (onnx-proto): unique names, typed constants, nodes with
// attributes, and deterministic encoding (same graph → same bytes; no timestamps, raw little-endian data).
import onnxProto from 'onnx-proto'

export const {onnx} = onnxProto
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
  | string[]
  | {float: number}
  | {floats: number[]}
  | {ints: number[]}
  | {tensor: onnxProto.onnx.ITensorProto}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof value === 'number') return {name, type: AttrType.INT, i: value}
  if (typeof value === 'string') return {name, type: AttrType.STRING, s: Buffer.from(value, 'utf8')}
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

  encode(options: {
    graphName: string
    docString: string
    metadata: Record<string, string>
    producerVersion: string
  }): Uint8Array {
    const model = onnx.ModelProto.create({
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
    })
    return onnx.ModelProto.encode(model).finish()
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

/** Decodes a model file, for import and inspection. */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes)
}
