// The Open Inference Protocol V2 (KServe, Triton, MLServer clients): health, server and model metadata, model
// readiness and inference over JSON tensors. Inputs are one tensor per column (or per 2-D ONNX input); outputs are
// one tensor per prediction column (predicted_<target>, probability...), named as everywhere else.
import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify'
import type {ElemType} from '../onnx/graph.js'
import {type PredictionColumn, predictionValue} from '../runtime/outputs.js'
import type {ModelOutput} from '../runtime/predictor.js'
import {MLPROJ_VERSION} from '../version.js'
import {type AppDeps, findModel, predict} from './app.js'
import {RequestError} from './errors.js'
import type {ServedModel, ServedVersion} from './models.js'
import {decodeV2, type V2Tensor} from './rows.js'

const DATATYPES: Record<ElemType, string> = {
  double: 'FP64',
  float: 'FP32',
  int64: 'INT64',
  int32: 'INT32',
  bool: 'BOOL',
  string: 'BYTES',
}

function outputDatatype(column: PredictionColumn): string {
  if (column.kind === 'label') return column.labelType === 'integer' ? 'INT64' : 'BYTES'
  return 'FP64'
}

interface InferBody {
  readonly id?: string
  readonly inputs: V2Tensor[]
  readonly outputs?: Array<{name: string}>
}

const inferSchema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: {type: 'string'},
    parameters: {type: 'object'},
    inputs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype', 'data'],
        properties: {
          name: {type: 'string'},
          shape: {type: 'array', items: {type: 'integer', minimum: 0}},
          datatype: {type: 'string'},
          parameters: {type: 'object'},
          data: {type: 'array'},
        },
      },
    },
    outputs: {
      type: 'array',
      items: {type: 'object', required: ['name'], properties: {name: {type: 'string'}}},
    },
  },
} as const

const tensorMeta = {
  type: 'object',
  properties: {name: {type: 'string'}, datatype: {type: 'string'}, shape: {type: 'array', items: {type: 'integer'}}},
} as const

const modelMetaSchema = {
  type: 'object',
  properties: {
    name: {type: 'string'},
    versions: {type: 'array', items: {type: 'string'}},
    platform: {type: 'string'},
    inputs: {type: 'array', items: tensorMeta},
    outputs: {type: 'array', items: tensorMeta},
  },
} as const

type Params = {name: string; version?: string}

const paramsSchema = {
  type: 'object',
  properties: {name: {type: 'string'}, version: {type: 'string'}},
} as const

/** The model, and its current version when the URL names one (`/versions/<v>`) that is not current: 404. */
function versionOf(model: ServedModel, version: string | undefined): ServedVersion | undefined {
  const current = model.current
  if (version === undefined || (current && String(current.resolved.version ?? '') === version)) return current
  throw new RequestError(404, 'E_MODEL_VERSION_NOT_SERVED', `model "${model.name}" is not serving version ${version}`, {
    hint: current?.resolved.version
      ? `it serves version ${current.resolved.version}`
      : 'GET /v2/models/<name> lists the version served',
  })
}

function tensorData(output: ModelOutput, column: PredictionColumn, nClasses: number): Array<number | string> {
  const data = new Array<number | string>(output.nRows)
  for (let i = 0; i < output.nRows; i++) data[i] = predictionValue(output, column, i, nClasses)
  return data
}

/** The outputs the request asks for (all when it names none), in its order. */
function requestedOutputs(
  model: ServedModel,
  version: ServedVersion,
  wanted: ReadonlyArray<{name: string}> | undefined,
): readonly PredictionColumn[] {
  if (!wanted || wanted.length === 0) return version.outputs
  const byName = new Map(version.outputs.map(o => [o.name, o]))
  return wanted.map(o => {
    const column = byName.get(o.name)
    if (!column) {
      throw new RequestError(400, 'E_REQUEST_OUTPUT', `model "${model.name}" has no output "${o.name}"`, {
        hint: `outputs: ${version.outputs.map(c => c.name).join(', ')}`,
      })
    }
    return column
  })
}

export function v2Routes(app: FastifyInstance, deps: AppDeps): void {
  const {host} = deps
  const readyReply = (reply: FastifyReply, ok: boolean) => reply.code(ok ? 200 : 503)

  app.get('/v2/health/live', {config: {public: true}}, async () => ({live: true}))
  app.get('/v2/health/ready', {config: {public: true}}, async (_request, reply) => {
    readyReply(reply, host.ready)
    return {ready: host.ready}
  })
  app.get('/v2', async () => ({name: 'mlproj', version: MLPROJ_VERSION, extensions: []}))

  const metadata = async (request: {params: Params}) => {
    const model = findModel(host, request.params.name)
    const v = versionOf(model, request.params.version)
    if (!v) throw new RequestError(503, 'E_NOT_READY', `model "${model.name}" is still loading`)
    return {
      name: model.name,
      versions: v.resolved.version === null ? [] : [String(v.resolved.version)],
      platform: 'onnxruntime_onnx',
      inputs: v.resolved.signature.inputs.map(i => ({name: i.name, datatype: DATATYPES[i.elemType], shape: [-1]})),
      outputs: v.outputs.map(o => ({name: o.name, datatype: outputDatatype(o), shape: [-1]})),
    }
  }
  const metaOptions = {schema: {params: paramsSchema, response: {200: modelMetaSchema}}}
  app.get<{Params: Params}>('/v2/models/:name', metaOptions, metadata)
  app.get<{Params: Params}>('/v2/models/:name/versions/:version', metaOptions, metadata)

  const modelReady = async (request: {params: Params}, reply: FastifyReply) => {
    const model = findModel(host, request.params.name)
    const ok = versionOf(model, request.params.version) !== undefined
    readyReply(reply, ok)
    return {name: model.name, ready: ok}
  }
  app.get<{Params: Params}>('/v2/models/:name/ready', {schema: {params: paramsSchema}}, modelReady)
  app.get<{Params: Params}>('/v2/models/:name/versions/:version/ready', {schema: {params: paramsSchema}}, modelReady)

  const infer = async (request: FastifyRequest<{Params: Params; Body: InferBody}>, reply: FastifyReply) => {
    const model = findModel(host, request.params.name)
    versionOf(model, request.params.version)
    const body = request.body
    let columns: readonly PredictionColumn[] = []
    const {version, output} = await predict(deps, request, reply, model, 'v2', v => {
      columns = requestedOutputs(model, v, body.outputs)
      return decodeV2(body.inputs, v.inputs, deps.maxRows)
    })
    return {
      model_name: model.name,
      ...(version.resolved.version === null ? {} : {model_version: String(version.resolved.version)}),
      id: body.id ?? request.id,
      parameters: {},
      outputs: columns.map(c => ({
        name: c.name,
        datatype: outputDatatype(c),
        shape: [output.nRows],
        data: tensorData(output, c, version.nClasses),
      })),
    }
  }
  const inferOptions = {config: {protocol: 'v2' as const}, schema: {params: paramsSchema, body: inferSchema}}
  app.post<{Params: Params; Body: InferBody}>('/v2/models/:name/infer', inferOptions, infer)
  app.post<{Params: Params; Body: InferBody}>('/v2/models/:name/versions/:version/infer', inferOptions, infer)
}
