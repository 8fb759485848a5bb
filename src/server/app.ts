// buildApp(deps): the HTTP app of `mlproj serve` — MLflow / SageMaker scoring routes, Open Inference Protocol V2
// routes, /models, health checks and Prometheus metrics, with bearer-token auth and one error format per
// protocol. It never listens: the serve service does, and tests use app.inject().
import {createHash, randomUUID, timingSafeEqual} from 'node:crypto'
import Fastify, {type FastifyInstance, type FastifyReply, type FastifyRequest} from 'fastify'
import type {ModelOutput} from '../runtime/predictor.js'
import {MLPROJ_VERSION} from '../version.js'
import {type HttpError, RequestError, toHttpError} from './errors.js'
import type {Metrics} from './metrics.js'
import {mlflowRoutes} from './mlflow.js'
import type {ModelHost, ServedModel, ServedVersion} from './models.js'
import type {PredictionLogWriter} from './prediction-log.js'
import {parseJsonBody, type RowBlock} from './rows.js'
import {v2Routes} from './v2.js'

export interface AppDeps {
  readonly host: ModelHost
  readonly metrics: Metrics
  /** --log-predictions: where requests are recorded. */
  readonly log?: PredictionLogWriter
  /** Required as `Authorization: Bearer <token>` on every route but the health checks. */
  readonly token?: string
  readonly maxBodyBytes: number
  readonly maxRows: number
  /** A request failed with a server fault (500): the operator wants to see it. */
  readonly onServerError?: (error: unknown, request: {method: string; url: string; id: string}) => void
}

export type Protocol = 'mlflow' | 'v2'

export interface RouteConfig {
  /** Health checks answer without a token. */
  readonly public?: boolean
  /** Prediction routes: counted in the request metrics under this protocol. */
  readonly protocol?: Protocol
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The served model a prediction request was for, for the metrics. */
    servedModel: string
  }
}

/** What a prediction route got back: the version that ran, the rows and their predictions. */
export interface Prediction {
  readonly version: ServedVersion
  readonly block: RowBlock
  readonly output: ModelOutput
}

/** Runs one request's rows on the model's current version, logging it when asked. */
export async function predict(
  deps: AppDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  model: ServedModel,
  protocol: Protocol,
  decode: (version: ServedVersion) => RowBlock,
): Promise<Prediction> {
  request.servedModel = model.name
  const version = deps.host.acquire(model)
  try {
    const block = decode(version)
    const output = await deps.host.predict(version, block)
    deps.metrics.requestRows.observe({model: model.name}, block.nRows)
    deps.log?.append({
      requestId: request.id,
      receivedAt: Date.now() - reply.elapsedTime,
      servedName: model.name,
      version,
      protocol,
      latencyMs: reply.elapsedTime,
      block,
      output,
    })
    reply.header('mlproj-model', model.name)
    if (version.resolved.version !== null) reply.header('mlproj-model-version', String(version.resolved.version))
    return {version, block, output}
  } finally {
    deps.host.release(version)
  }
}

export function findModel(host: ModelHost, name: string): ServedModel {
  const model = host.get(name)
  if (!model) {
    throw new RequestError(404, 'E_MODEL_NOT_SERVED', `this server has no model named "${name}"`, {
      hint: `served models: ${host
        .list()
        .map(m => m.name)
        .join(', ')} (GET /models)`,
    })
  }
  return model
}

function sameToken(header: string | undefined, expected: Buffer): boolean {
  if (!header?.startsWith('Bearer ')) return false
  // Compare digests, so that the comparison takes the same time whatever the lengths.
  const given = createHash('sha256').update(header.slice(7).trim()).digest()
  return timingSafeEqual(given, expected)
}

function errorBody(request: FastifyRequest, e: HttpError): Record<string, unknown> {
  const extra = {code: e.code, ...(e.hint ? {hint: e.hint} : {}), ...(e.details ? {details: e.details} : {})}
  // Open Inference Protocol errors are {"error": "..."}; MLflow's are {"error_code": "...", "message": "..."}.
  if (request.url.startsWith('/v2')) return {error: e.message, error_code: e.errorCode, ...extra}
  return {error_code: e.errorCode, message: e.message, ...extra}
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.maxBodyBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  })
  app.decorateRequest('servedModel', '')

  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', {parseAs: 'string'}, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string))
    } catch (error) {
      done(error as Error, undefined)
    }
  })
  // fastify answers 415 itself for text/plain; that its default parser for it is not used keeps the message ours.
  app.removeContentTypeParser('text/plain')

  if (deps.token) {
    const expected = createHash('sha256').update(deps.token).digest()
    app.addHook('onRequest', async request => {
      if ((request.routeOptions.config as RouteConfig).public) return
      if (!sameToken(request.headers.authorization, expected)) {
        throw new RequestError(401, 'E_UNAUTHENTICATED', 'this server requires a bearer token', {
          hint: 'send the header "Authorization: Bearer <token>" with the token serve was started with (--token or MLPROJ_TOKEN)',
        })
      }
    })
  }

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  app.addHook('onResponse', async (request, reply) => {
    const {protocol} = request.routeOptions.config as RouteConfig
    if (!protocol || !request.servedModel) return
    const labels = {model: request.servedModel, protocol}
    deps.metrics.requests.inc({...labels, status: String(reply.statusCode)})
    deps.metrics.latency.observe(labels, reply.elapsedTime / 1000)
  })

  app.setErrorHandler((error, request, reply) => {
    const e = toHttpError(error, {maxBodyBytes: deps.maxBodyBytes, v2: request.url.startsWith('/v2')})
    if (e.status >= 500) deps.onServerError?.(error, {method: request.method, url: request.url, id: request.id})
    if (e.status === 401) reply.header('www-authenticate', 'Bearer')
    return reply.code(e.status).send(errorBody(request, e))
  })

  app.setNotFoundHandler((request, reply) => {
    const e = toHttpError(
      new RequestError(404, 'E_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`, {
        hint: 'routes: POST /invocations, POST /models/<name>/invocations, GET /models, POST /v2/models/<name>/infer, GET /ping, GET /metrics',
      }),
      {maxBodyBytes: deps.maxBodyBytes, v2: false},
    )
    return reply.code(404).send(errorBody(request, e))
  })

  const ready = (reply: FastifyReply) => {
    const ok = deps.host.ready
    reply.code(ok ? 200 : 503)
    return ok
  }
  const status = {type: 'object', properties: {status: {type: 'string'}}} as const
  for (const url of ['/ping', '/health']) {
    app.get(url, {config: {public: true}, schema: {response: {200: status, 503: status}}}, async (_request, reply) => ({
      status: ready(reply) ? 'ready' : deps.host.stopping ? 'stopping' : 'loading',
    }))
  }
  app.get('/version', async (_request, reply) => reply.type('text/plain; charset=utf-8').send(`${MLPROJ_VERSION}\n`))
  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(deps.metrics.render()),
  )

  app.register(async scope => mlflowRoutes(scope, deps))
  app.register(async scope => v2Routes(scope, deps))
  return app
}
