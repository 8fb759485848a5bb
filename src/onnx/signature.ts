// A model's signature: the columns it reads (name, kind, ONNX input and element type, training categories
// and range) and what it outputs. mlproj writes it into the ONNX metadata; for models trained elsewhere it
// is read off the graph's inputs, outputs and classifier attributes.

import type {onnx} from 'onnx-proto'
import {ModelError} from '../errors.js'
import type {FittedPipeline} from '../ml/pipeline.js'
import type {LabelType, Task} from '../ml/target.js'
import {decodeModel, type ElemType, elemTypeName} from './graph.js'

export interface SignatureInput {
  /** Column name in the data. */
  readonly name: string
  readonly type: 'numeric' | 'categorical'
  /** The ONNX graph input that carries this column. */
  readonly onnxName: string
  readonly elemType: ElemType
  /** Position of this column inside a 2-D ONNX input shared by several columns (models trained elsewhere). */
  readonly index?: number
  /** Training categories (categorical). */
  readonly categories?: readonly string[]
  /** Training range (numeric), to flag values far outside it. */
  readonly range?: readonly [number, number]
}

export interface SignatureOutputs {
  /** Predicted class label tensor (classification). */
  readonly label?: string
  /** nRows × K class probabilities (classification). */
  readonly probabilities?: string
  /** Predicted value tensor (regression). */
  readonly value?: string
  /**
   * The label is `classes[argmax(probabilities)]` (the first maximum), as the graphs mlproj exports compute it: a
   * caller may fetch the probabilities alone and derive the label, which saves converting a tensor of labels.
   */
  readonly labelFromProbabilities?: boolean
}

export interface Signature {
  readonly inputs: readonly SignatureInput[]
  readonly task: Task
  /** Target column the model predicts; names the `predicted_<target>` output column. */
  readonly target: string
  readonly classes?: readonly string[]
  readonly labelType?: LabelType
  readonly outputs: SignatureOutputs
}

export const SIGNATURE_METADATA_KEY = 'mlproj.signature'

/** ONNX names must be C identifiers (ONNX IR spec), column names need not be: make a stable, unique one. */
export function onnxInputNames(columns: readonly string[]): string[] {
  const used = new Set<string>()
  return columns.map(column => {
    let base = column.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '')
    if (base === '' || /^[0-9]/.test(base)) base = `c_${base}`
    let name = base
    for (let i = 2; used.has(name); i++) name = `${base}_${i}`
    used.add(name)
    return name
  })
}

export function pipelineSignature(pipeline: FittedPipeline): Signature {
  const names = onnxInputNames(pipeline.preprocessor.inputs.map(i => i.name))
  const inputs: SignatureInput[] = pipeline.preprocessor.inputs.map((input, j) =>
    input.kind === 'numeric'
      ? {name: input.name, type: 'numeric', onnxName: names[j]!, elemType: 'double', range: [input.min, input.max]}
      : {name: input.name, type: 'categorical', onnxName: names[j]!, elemType: 'string', categories: input.levels},
  )
  const {target} = pipeline
  if (target.task === 'classification') {
    return {
      inputs,
      task: 'classification',
      target: target.name,
      classes: target.classes,
      labelType: target.labelType,
      outputs: {label: 'label', probabilities: 'probabilities', labelFromProbabilities: true},
    }
  }
  return {inputs, task: 'regression', target: target.name, outputs: {value: 'variable'}}
}

export interface ReadSignatureOptions {
  /** Column names for a 2-D model input of width > 1, in order. */
  columns?: readonly string[]
  /** Target name to use when the model does not carry one. */
  target?: string
}

/**
 * The signature of an ONNX file: mlproj's own metadata when present, otherwise inferred from the graph —
 * inputs become columns (a [N, k] input becomes k columns), a string/int64 output is the label, a 2-D
 * float output the probabilities, and a lone float output a regression value.
 */
export function readSignature(bytes: Uint8Array, where: string, options: ReadSignatureOptions = {}): Signature {
  let model: ReturnType<typeof decodeModel>
  try {
    model = decodeModel(bytes)
  } catch (error) {
    throw new ModelError('E_MODEL_INVALID', `${where} is not an ONNX model: ${(error as Error).message}`, {
      hint: 'give a .onnx file exported by mlproj, skl2onnx, onnxmltools, tf2onnx or torch.onnx',
    })
  }
  const own = model.metadataProps.find(p => p.key === SIGNATURE_METADATA_KEY)
  if (own?.value) return JSON.parse(own.value) as Signature
  const graph = model.graph as onnx.GraphProto | null | undefined
  if (!graph || graph.input.length === 0) {
    throw new ModelError('E_MODEL_INVALID', `${where} has no graph inputs`, {
      hint: 'check that the file is a complete ONNX model',
    })
  }
  const initializers = new Set(graph.initializer.map(t => t.name))
  const inputs: SignatureInput[] = []
  for (const input of graph.input) {
    const name = input.name ?? ''
    if (initializers.has(name)) continue
    const tensor = input.type?.tensorType
    const elemType = tensor ? elemTypeName(tensor.elemType ?? 0) : undefined
    if (!tensor || !elemType) {
      throw new ModelError('E_MODEL_UNSUPPORTED', `${where}: input "${name}" is not a tensor of a supported type`, {
        hint: 'mlproj feeds float, double, int64, int32, bool and string tensors',
      })
    }
    const dims = tensor.shape?.dim ?? []
    const width = dims.length === 2 ? Number(dims[1]?.dimValue ?? 0) : 1
    const type = elemType === 'string' ? 'categorical' : 'numeric'
    if (width > 1) {
      const names = options.columns && options.columns.length === width ? options.columns : undefined
      if (options.columns && !names) {
        throw new ModelError(
          'E_MODEL_SIGNATURE',
          `${where}: input "${name}" has ${width} columns but ${options.columns.length} names were given`,
          {hint: `give exactly ${width} names with --columns`},
        )
      }
      for (let k = 0; k < width; k++) {
        inputs.push({name: names?.[k] ?? `${name}_${k}`, type, onnxName: name, elemType, index: k})
      }
    } else inputs.push({name, type, onnxName: name, elemType})
  }
  const outputs = graph.output.map(o => ({
    name: o.name ?? '',
    elemType: o.type?.tensorType ? elemTypeName(o.type.tensorType.elemType ?? 0) : undefined,
    rank: o.type?.tensorType?.shape?.dim?.length,
  }))
  const label = outputs.find(o => o.elemType === 'string' || o.elemType === 'int64')
  const probabilities = outputs.find(o => (o.elemType === 'float' || o.elemType === 'double') && o.rank === 2 && label)
  const classes = classLabels(graph)
  const target = options.target ?? 'target'
  if (label) {
    return {
      inputs,
      task: 'classification',
      target,
      classes: classes?.values,
      labelType: classes?.type ?? (label.elemType === 'int64' ? 'integer' : 'string'),
      outputs: {label: label.name, probabilities: probabilities?.name},
    }
  }
  const value = outputs.find(o => o.elemType === 'float' || o.elemType === 'double')
  if (!value) {
    throw new ModelError('E_MODEL_UNSUPPORTED', `${where}: no tensor output that mlproj can read`, {
      hint: 'export classifiers without ZipMap (skl2onnx: options={"zipmap": False}) and regressors with a float output',
    })
  }
  return {inputs, task: 'regression', target, outputs: {value: value.name}}
}

function classLabels(graph: onnx.GraphProto): {values: string[]; type: LabelType} | undefined {
  for (const node of graph.node) {
    for (const attr of node.attribute as onnx.AttributeProto[]) {
      if (attr.name === 'classlabels_strings' && attr.strings.length > 0) {
        return {values: attr.strings.map(s => Buffer.from(s).toString('utf8')), type: 'string'}
      }
      if (attr.name === 'classlabels_int64s' || attr.name === 'classlabels_ints') {
        if (attr.ints.length > 0) return {values: attr.ints.map(i => String(i)), type: 'integer'}
      }
    }
  }
  return undefined
}
