// The ONNX encoder: long integer lists are written as packed varints beside onnx-proto's own encoding;
// the file must decode to the same ModelProto that onnx-proto alone would have written.
import {describe, expect, it} from 'vitest'
import {decodeModel, GraphBuilder, onnx} from '../../src/onnx/graph.js'

function builder(n: number): GraphBuilder {
  const g = new GraphBuilder()
  g.input('x', 'double', ['N', 1])
  const ids = Array.from({length: n}, (_, i) => (i * 7919) % 300_000)
  g.node('Identity', ['x'], ['y'], {big: ids, small: [1, 2, 3]}, 'custom')
  g.output('y', 'double', ['N', 1])
  return g
}

describe('model encoding', () => {
  it('decodes long integer attributes to the values given', () => {
    const bytes = builder(5000).encode({graphName: 'g', docString: 'd', metadata: {k: 'v'}, producerVersion: '1'})
    const model = decodeModel(bytes)
    const attrs = model.graph!.node![0]!.attribute!
    const big = attrs.find(a => a.name === 'big')!
    expect(big.ints!.map(Number)).toEqual(Array.from({length: 5000}, (_, i) => (i * 7919) % 300_000))
    expect(attrs.find(a => a.name === 'small')!.ints!.map(Number)).toEqual([1, 2, 3])
    expect(model.metadataProps).toEqual([expect.objectContaining({key: 'k', value: 'v'})])
  })

  it('decodes to the same model as onnx-proto encoding everything itself', () => {
    const g = builder(3000)
    const options = {graphName: 'g', docString: 'd', metadata: {a: 'b'}, producerVersion: '1'}
    const ours = decodeModel(g.encode(options))
    const theirs = decodeModel(onnx.ModelProto.encode(onnx.ModelProto.create(g.proto(options))).finish())
    expect(onnx.ModelProto.toObject(ours, {longs: Number})).toEqual(onnx.ModelProto.toObject(theirs, {longs: Number}))
    expect(ours.graph!.node!.length).toBe(1)
  })
})
