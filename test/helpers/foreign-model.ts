// A model "trained elsewhere": the graph skl2onnx writes for a LogisticRegression on iris (one float
// input [N, 4], ai.onnx.ml LinearClassifier, int64 label and float probabilities, no ZipMap).
import {GraphBuilder} from '../../src/onnx/graph.js'

export function foreignIrisModel(): Uint8Array {
  const g = new GraphBuilder()
  g.input('float_input', 'float', ['N', 4])
  // Weights of a rough iris classifier over (sepal length, sepal width, petal length, petal width).
  const coefficients = [0.4, 1.3, -2.2, -0.9, 0.5, -1.5, 0.3, -1.0, -1.6, -1.5, 2.4, 2.5]
  const intercepts = [2.0, 4.5, -7.0]
  g.node(
    'LinearClassifier',
    ['float_input'],
    ['label', 'raw_scores'],
    {
      classlabels_ints: [0, 1, 2],
      coefficients: {floats: coefficients},
      intercepts: {floats: intercepts},
      multi_class: 1,
      post_transform: 'SOFTMAX',
    },
    'ai.onnx.ml',
  )
  g.op('Identity', ['raw_scores'], 'probabilities')
  g.output('label', 'int64', ['N'])
  g.output('probabilities', 'float', ['N', 3])
  return g.encode({graphName: 'skl2onnx-like', docString: '', metadata: {}, producerVersion: '1.0'})
}
