// String inputs that a graph only looks up in a LabelEncoder, as mlproj's exports encode categories: the caller can
// do that lookup itself and hand ONNX Runtime the encoded numbers. Passing strings costs a conversion per value at
// the runtime's boundary, which is a tenth of a large batch's time for a gbdt model; this rewrites the graph so that
// the LabelEncoder's output is an input instead. The lookup is the LabelEncoder's: exact keys, its default for any
// other string.
import type onnxProto from 'onnx-proto'
import {DataType, decodeModel, onnx} from './graph.js'

type NodeProto = onnxProto.onnx.INodeProto

/** What replaces one string input: the caller fills `input` with `values.get(text) ?? fallback` per value. */
export interface InputEncoder {
  /** The graph input that takes the encoded values (the LabelEncoder's output name). */
  readonly input: string
  readonly type: 'float32' | 'int64'
  readonly values: ReadonlyMap<string, number | bigint>
  readonly fallback: number | bigint
}

/** Above this size the graph is left alone: decoding and encoding it again would cost more than it saves. */
const MAX_BYTES = 4 << 20

/**
 * The model with each of `names` (string graph inputs) that feeds only a LabelEncoder replaced by that
 * LabelEncoder's output, and the encoders the caller applies; undefined when no input qualifies.
 */
export function withEncodedInputs(
  bytes: Uint8Array,
  names: readonly string[],
): {bytes: Uint8Array; encoders: ReadonlyMap<string, InputEncoder>} | undefined {
  if (bytes.length > MAX_BYTES || names.length === 0) return undefined
  const model = decodeModel(bytes)
  const graph = model.graph
  if (!graph) return undefined
  const nodes = graph.node ?? []
  // Subgraphs (If, Loop, Scan) could read an input by name too: leave such graphs alone.
  if (nodes.some(n => (n.attribute ?? []).some(a => a.g || (a.graphs ?? []).length > 0))) return undefined
  const encoders = new Map<string, InputEncoder>()
  const removed = new Set<NodeProto>()
  for (const name of names) {
    const input = (graph.input ?? []).find(i => i.name === name)
    if (input?.type?.tensorType?.elemType !== DataType.STRING) continue
    if ((graph.output ?? []).some(o => o.name === name)) continue
    const readers = nodes.filter(n => (n.input ?? []).includes(name))
    const node = readers[0]
    if (readers.length !== 1 || !node || node.opType !== 'LabelEncoder' || node.domain !== 'ai.onnx.ml') continue
    if (node.input?.length !== 1 || node.output?.length !== 1) continue
    const encoder = labelEncoder(node)
    if (!encoder) continue
    encoders.set(name, encoder)
    removed.add(node)
    input.name = encoder.input
    input.type!.tensorType!.elemType = encoder.type === 'float32' ? DataType.FLOAT : DataType.INT64
    graph.valueInfo = (graph.valueInfo ?? []).filter(v => v.name !== encoder.input)
  }
  if (encoders.size === 0) return undefined
  graph.node = nodes.filter(n => !removed.has(n))
  return {bytes: onnx.ModelProto.encode(model).finish(), encoders}
}

/** A LabelEncoder from strings to floats or int64s, as an encoder; undefined for any other kind. */
function labelEncoder(node: NodeProto): InputEncoder | undefined {
  const attrs = new Map((node.attribute ?? []).map(a => [a.name ?? '', a]))
  const allowed = new Set(['keys_strings', 'values_floats', 'values_int64s', 'default_float', 'default_int64'])
  if ([...attrs.keys()].some(k => !allowed.has(k))) return undefined
  const keys = (attrs.get('keys_strings')?.strings ?? []).map(k => Buffer.from(k).toString('utf8'))
  const floats = attrs.get('values_floats')?.floats
  const ints = attrs.get('values_int64s')?.ints
  const output = node.output![0]!
  if (keys.length === 0) return undefined
  if (floats && floats.length === keys.length && !ints) {
    // The ONNX defaults: -0.0 for floats, -1 for int64s.
    const fallback = attrs.get('default_float')?.f ?? -0
    return {
      input: output,
      type: 'float32',
      values: new Map(keys.map((k, i) => [k, floats[i]!])),
      fallback: Math.fround(fallback),
    }
  }
  if (ints && ints.length === keys.length && !floats) {
    const fallback = attrs.get('default_int64')?.i
    return {
      input: output,
      type: 'int64',
      values: new Map(keys.map((k, i) => [k, BigInt(String(ints[i]))])),
      fallback: fallback === undefined || fallback === null ? -1n : BigInt(String(fallback)),
    }
  }
  return undefined
}
