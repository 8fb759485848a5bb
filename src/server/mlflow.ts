// The MLflow scoring protocol (also SageMaker's container contract): POST /invocations with JSON in the
// dataframe_split, dataframe_records, instances or inputs form, or text/csv; {"predictions": [records]}.
// Several models: POST /models/<name>/invocations, and GET /models to list them with their signatures.
import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify'
import {predictionRecord} from '../runtime/outputs.js'
import {type AppDeps, findModel, predict} from './app.js'
import type {ServedModel} from './models.js'
import {decodeCsv, decodeMlflowJson} from './rows.js'

/** A text/csv body, kept as text until the model's columns are known. */
class CsvBody {
  constructor(readonly text: string) {}
}

export function mlflowRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.addContentTypeParser('text/csv', {parseAs: 'string'}, (_request, body, done) => {
    done(null, new CsvBody(body as string))
  })

  const invoke = async (request: FastifyRequest, reply: FastifyReply, model: ServedModel) => {
    const {version, output} = await predict(deps, request, reply, model, 'mlflow', v =>
      request.body instanceof CsvBody
        ? decodeCsv(request.body.text, v.inputs, deps.maxRows)
        : decodeMlflowJson(request.body, v.inputs, deps.maxRows),
    )
    const predictions = new Array<Record<string, number | string>>(output.nRows)
    for (let i = 0; i < output.nRows; i++)
      predictions[i] = predictionRecord(output, version.outputs, i, version.nClasses)
    return {predictions}
  }

  app.post('/invocations', {config: {protocol: 'mlflow'}}, (request, reply) =>
    invoke(request, reply, deps.host.default),
  )
  app.post<{Params: {name: string}}>(
    '/models/:name/invocations',
    {config: {protocol: 'mlflow'}, schema: {params: {type: 'object', properties: {name: {type: 'string'}}}}},
    (request, reply) => invoke(request, reply, findModel(deps.host, request.params.name)),
  )

  app.get('/models', async () => ({
    models: deps.host.list().map(model => {
      const v = model.current
      const s = v?.resolved.signature
      return {
        name: model.name,
        ref: model.ref,
        ready: v !== undefined,
        version: v?.resolved.version ?? null,
        modelName: v?.resolved.name ?? null,
        runId: v?.resolved.runId ?? null,
        ...(s && v
          ? {
              task: s.task,
              target: s.target,
              ...(s.classes ? {classes: s.classes} : {}),
              inputs: s.inputs.map(i => ({
                name: i.name,
                type: i.type,
                elemType: i.elemType,
                ...(i.categories ? {categories: i.categories} : {}),
              })),
              outputs: v.outputs.map(o => o.name),
            }
          : {}),
      }
    }),
  }))
}
