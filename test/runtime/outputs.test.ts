// Prediction column names and values, shared by every command that writes predictions.
import {describe, expect, it} from 'vitest'
import type {Signature} from '../../src/onnx/signature.js'
import {predictionColumns, predictionRecord} from '../../src/runtime/outputs.js'

const base = {inputs: [], outputs: {label: 'label', probabilities: 'probabilities'}} as const

describe('prediction columns', () => {
  it('names a regression output predicted_<target>', () => {
    const signature: Signature = {inputs: [], task: 'regression', target: 'price', outputs: {value: 'variable'}}
    expect(predictionColumns(signature).map(c => c.name)).toEqual(['predicted_price'])
  })

  it('adds one probability, of the positive class, for a binary classifier', () => {
    const signature: Signature = {
      ...base,
      task: 'classification',
      target: 'churn',
      classes: ['no', 'yes'],
      labelType: 'string',
    }
    const columns = predictionColumns(signature)
    expect(columns.map(c => c.name)).toEqual(['predicted_churn', 'probability'])
    const output = {nRows: 1, labels: ['yes'], classIndex: Int32Array.of(1), probabilities: Float64Array.of(0.2, 0.8)}
    expect(predictionRecord(output, columns, 0, 2)).toEqual({predicted_churn: 'yes', probability: 0.8})
  })

  it('adds probability_<class> per class, and keeps integer labels numeric', () => {
    const signature: Signature = {
      ...base,
      task: 'classification',
      target: 'digit',
      classes: ['0', '1', '7'],
      labelType: 'integer',
    }
    const columns = predictionColumns(signature)
    expect(columns.map(c => c.name)).toEqual(['predicted_digit', 'probability_0', 'probability_1', 'probability_7'])
    const output = {
      nRows: 1,
      labels: ['7'],
      classIndex: Int32Array.of(2),
      probabilities: Float64Array.of(0.1, 0.2, 0.7),
    }
    expect(predictionRecord(output, columns, 0, 3)).toEqual({
      predicted_digit: 7,
      probability_0: 0.1,
      probability_1: 0.2,
      probability_7: 0.7,
    })
  })
})
