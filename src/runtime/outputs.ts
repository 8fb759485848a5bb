// The columns a prediction adds to a row, named the same way by every consumer (predict-batch, serve,
// query): `predicted_<target>`, and for classifiers `probability` (binary: of the positive class) or
// `probability_<class>` per class.
import type {Signature} from '../onnx/signature.js'
import type {ModelOutput} from './predictor.js'

export type PredictionColumn =
  | {readonly name: string; readonly kind: 'label'; readonly labelType: 'integer' | 'string'}
  | {readonly name: string; readonly kind: 'value'}
  | {readonly name: string; readonly kind: 'probability'; readonly classIndex: number}

export function predictionColumns(signature: Signature): PredictionColumn[] {
  const predicted = `predicted_${signature.target}`
  if (signature.task === 'regression') return [{name: predicted, kind: 'value'}]
  const columns: PredictionColumn[] = [{name: predicted, kind: 'label', labelType: signature.labelType ?? 'string'}]
  const classes = signature.classes ?? []
  if (!signature.outputs.probabilities || classes.length === 0) return columns
  if (classes.length === 2) columns.push({name: 'probability', kind: 'probability', classIndex: 1})
  else
    for (const [i, c] of classes.entries()) columns.push({name: `probability_${c}`, kind: 'probability', classIndex: i})
  return columns
}

/** The value of a prediction column at row i: a number, or the label (a number for integer labels). */
export function predictionValue(
  output: ModelOutput,
  column: PredictionColumn,
  i: number,
  nClasses: number,
): number | string {
  switch (column.kind) {
    case 'value':
      return output.values![i]!
    case 'probability':
      return output.probabilities![i * nClasses + column.classIndex]!
    case 'label': {
      const label = output.labels![i]!
      return column.labelType === 'integer' ? Number(label) : label
    }
  }
}

/** A prediction as a JSON object: {predicted_<target>: ..., probability...: ...}. */
export function predictionRecord(
  output: ModelOutput,
  columns: readonly PredictionColumn[],
  i: number,
  nClasses: number,
): Record<string, number | string> {
  const record: Record<string, number | string> = {}
  for (const column of columns) record[column.name] = predictionValue(output, column, i, nClasses)
  return record
}
