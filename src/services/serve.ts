// `mlproj serve`: resolve the model references, start the worker pool, listen, load every model, follow aliases,
// and on abort (SIGTERM / SIGINT) drain in-flight requests before stopping. createServer() does everything but
// listen, for tests (app.inject) and for serve().
import {once} from 'node:events'
import {readFile} from 'node:fs/promises'
import {availableParallelism} from 'node:os'
import {join} from 'node:path'
import type {FastifyInstance} from 'fastify'
import {EnvironmentError, ModelError, UsageError} from '../errors.js'
import {Metrics} from '../server/metrics.js'
import {
  defaultServedName,
  ModelHost,
  type ModelSource,
  type ModelSpec,
  parseServedRef,
  versionLabel,
} from '../server/models.js'
import {WorkerPool} from '../server/pool.js'
import {PredictionLogWriter} from '../server/prediction-log.js'
import {type Db, openDb} from '../workspace/db.js'
import {checkModelName, resolveModel} from '../workspace/registry.js'
import {DB_FILE, type LocateOptions, openWorkspace, type Workspace} from '../workspace/workspace.js'

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxBodyBytes: 10 * 1024 * 1024,
  maxRows: 100_000,
  watchIntervalMs: 2000,
  drainTimeoutMs: 30_000,
} as const

export interface ServerOptions {
  readonly workspace: LocateOptions
  /** Model references (NAME, NAME:VERSION, NAME@ALIAS, run:ID), each optionally as SERVED_NAME=REF. */
  readonly models: readonly string[]
  /** Worker threads running ONNX Runtime; default: the machine's cores. */
  readonly workers?: number
  /** Require `Authorization: Bearer <token>` on every route but the health checks. */
  readonly token?: string
  /** Record each request's rows, predictions, model version and latency in the workspace. */
  readonly logPredictions?: boolean
  readonly maxBodyBytes?: number
  readonly maxRows?: number
  /** How often followed references (aliases, latest) are re-resolved; 0: never. */
  readonly watchIntervalMs?: number
  readonly onProgress?: (message: string) => void
}

export interface ServeOptions extends ServerOptions {
  readonly host?: string
  /** 0 picks a free port (printed when listening). */
  readonly port?: number
  /** Aborting it (SIGTERM, SIGINT) drains in-flight requests and stops the server. */
  readonly signal?: AbortSignal
  /** Longest wait for in-flight requests when stopping, after which connections are cut. */
  readonly drainTimeoutMs?: number
}

export interface ServedModelInfo {
  readonly name: string
  readonly ref: string
  readonly modelName: string | null
  readonly version: number | null
  readonly runId: string | null
  readonly task: string
}

export interface ServeResult {
  readonly url: string
  readonly models: readonly ServedModelInfo[]
  /** From the start of serve to every model loaded, in seconds. */
  readonly readySeconds: number
  readonly uptimeSeconds: number
  readonly requests: number
  readonly swaps: number
  readonly loggedRows: number
}

export interface Server {
  readonly app: FastifyInstance
  readonly host: ModelHost
  readonly metrics: Metrics
  readonly log?: PredictionLogWriter
  readonly workers: number
  readonly workspace: Workspace
  /** Stops following aliases, closes the app (waiting for in-flight requests), flushes the log, stops workers. */
  close(): Promise<void>
}

function modelInfo(host: ModelHost): ServedModelInfo[] {
  return host.list().map(m => ({
    name: m.name,
    ref: m.ref,
    modelName: m.current?.resolved.name ?? null,
    version: m.current?.resolved.version ?? null,
    runId: m.current?.resolved.runId ?? null,
    task: m.current?.resolved.task ?? '',
  }))
}

function resolveSpecs(ws: Workspace, refs: readonly string[]): ModelSpec[] {
  if (refs.length === 0) {
    throw new UsageError('E_USAGE_NO_MODEL', 'serve needs at least one model reference', {
      hint: 'e.g. mlproj serve churn@production',
    })
  }
  const specs: ModelSpec[] = []
  const seen = new Map<string, string>()
  for (const given of refs) {
    const {name, ref} = parseServedRef(given)
    if (name !== undefined) checkModelName(name)
    const resolved = resolveModel(ws, ref)
    const served = name ?? defaultServedName(resolved)
    const other = seen.get(served)
    if (other !== undefined) {
      throw new UsageError('E_USAGE_DUPLICATE_MODEL', `${other} and ${given} would both be served as "${served}"`, {
        hint: `give them distinct names: mlproj serve ${served}-a=${other} ${served}-b=${ref}`,
      })
    }
    seen.set(served, given)
    specs.push({name: served, ref, resolved})
  }
  return specs
}

/** Everything but listening and loading the models: resolve references (exit 4 if one is unknown), start workers. */
export async function createServer(options: ServerOptions): Promise<Server> {
  const progress = options.onProgress ?? (() => {})
  let host: ModelHost | undefined
  const metrics = new Metrics(() =>
    (host?.list() ?? []).map(m => ({name: m.name, version: m.current?.resolved.version ?? null, ref: m.ref})),
  )
  // The references are resolved before any worker starts: a worker that has loaded ONNX Runtime and is terminated
  // at once can take the process down with it (a signal instead of exit code 4 for an unknown model).
  const ws = await openWorkspace({...options.workspace, readOnly: !options.logPredictions})
  let specs: ModelSpec[]
  try {
    specs = resolveSpecs(ws, options.models)
  } catch (error) {
    ws.db.close()
    throw error
  }
  const pool = new WorkerPool({
    size: options.workers ?? availableParallelism(),
    onBatch: (key, rows) => metrics.batchRows.observe({model: key.slice(0, key.indexOf('#'))}, rows),
    onWorkerExit: progress,
  })
  const started = pool.start()
  started.catch(() => {}) // awaited below; this only keeps an early failure from being reported as unhandled
  let logDb: Db | undefined
  try {
    // fastify is imported here, not at the top: its import (~0.1 s) then overlaps with the workers' start-up.
    const {buildApp} = await import('../server/app.js')
    await started
    host = new ModelHost(pool, workspaceSource(ws), specs, {
      onSwap: (model, from, to) => {
        metrics.swaps.inc({model: model.name})
        progress(
          `${model.ref} moved: ${model.name} now serves ${versionLabel(to.resolved)} (was ${versionLabel(from.resolved)})`,
        )
      },
      onWarning: message => progress(`warning: ${message}`),
    })
    let log: PredictionLogWriter | undefined
    if (options.logPredictions) {
      // Its own connection, which waits little for a lock: a busy workspace delays the log, never a request.
      logDb = openDb(join(ws.dir, DB_FILE))
      logDb.pragma('busy_timeout = 20')
      let warned = false
      log = new PredictionLogWriter(logDb, {
        onDropped: rows => metrics.logDropped.inc({}, rows),
        onError: message => {
          if (!warned) progress(`warning: ${message}`)
          warned = true
        },
      })
    }
    const app = buildApp({
      host,
      metrics,
      log,
      token: options.token,
      maxBodyBytes: options.maxBodyBytes ?? SERVE_DEFAULTS.maxBodyBytes,
      maxRows: options.maxRows ?? SERVE_DEFAULTS.maxRows,
      onServerError: (error, request) =>
        progress(`error: ${request.method} ${request.url} (request ${request.id}): ${(error as Error).stack ?? error}`),
    })
    host.watch(options.watchIntervalMs ?? SERVE_DEFAULTS.watchIntervalMs)
    const parts = {host, pool, log, logDb, db: ws.db}
    let closed: Promise<void> | undefined
    return {
      app,
      host,
      metrics,
      log,
      workers: pool.size,
      workspace: ws,
      close: () => {
        closed ??= (async () => {
          await parts.host.stop()
          await app.close()
          await parts.log?.close()
          parts.logDb?.close()
          await parts.pool.close()
          parts.db.close()
        })()
        return closed
      },
    }
  } catch (error) {
    logDb?.close()
    await started.catch(() => {})
    await pool.close()
    ws.db.close()
    throw error
  }
}

/** Models from a workspace: the registry resolves references, artifacts hold the ONNX files. */
export function workspaceSource(ws: Workspace): ModelSource {
  return {
    resolve: ref => resolveModel(ws, ref),
    read: async resolved => {
      const path = join(ws.dir, resolved.artifactDir, 'model.onnx')
      try {
        return await readFile(path)
      } catch (error) {
        throw new ModelError('E_MODEL_LOAD', `cannot read ${path}: ${(error as Error).message}`, {
          hint: 'the workspace lacks this artifact: check the .mlproj folder, or register the model again',
        })
      }
    },
  }
}

function listenError(error: unknown, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'EADDRINUSE') {
    return new EnvironmentError('E_ENV_PORT_IN_USE', `port ${port} on ${host} is already in use`, {
      hint: 'stop the program using it, or choose another port with --port',
    })
  }
  if (code === 'EACCES') {
    return new EnvironmentError('E_ENV_PORT_DENIED', `not allowed to listen on port ${port}`, {
      hint: 'ports below 1024 need privileges: choose --port 8080 or above',
    })
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new EnvironmentError('E_ENV_HOST', `cannot listen on ${host}: no such address on this machine`, {
      hint: 'use --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface)',
    })
  }
  return error as Error
}

/** Serves until `signal` aborts, then drains and stops. */
export async function serve(options: ServeOptions): Promise<ServeResult> {
  const started = performance.now()
  const progress = options.onProgress ?? (() => {})
  const host = options.host ?? SERVE_DEFAULTS.host
  const port = options.port ?? SERVE_DEFAULTS.port
  const server = await createServer(options)
  let url = ''
  let readySeconds = 0
  let readyAt = 0
  try {
    try {
      await server.app.listen({host, port})
    } catch (error) {
      throw listenError(error, host, port)
    }
    const address = server.app.server.address()
    const actualPort = typeof address === 'object' && address ? address.port : port
    url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`
    progress(
      `listening on ${url}, loading ${server.host.list().length === 1 ? 'the model' : `${server.host.list().length} models`} into ${server.workers} workers`,
    )
    const aborted = options.signal ? once(options.signal, 'abort') : new Promise<never>(() => {})
    if (!options.signal?.aborted) await Promise.race([server.host.loadAll(), aborted])
    if (!options.signal?.aborted) {
      readyAt = performance.now()
      readySeconds = (readyAt - started) / 1000
      const lines = modelInfo(server.host).map(
        m => `  ${m.name} ← ${m.ref}${m.version !== null ? ` (version ${m.version})` : ''} · ${m.task}`,
      )
      progress(`ready in ${readySeconds.toFixed(2)} s: ${url}\n${lines.join('\n')}`)
      await aborted
    }
    progress('stopping: draining in-flight requests')
    server.host.stopping = true
    const timer = setTimeout(
      () => server.app.server.closeAllConnections(),
      options.drainTimeoutMs ?? SERVE_DEFAULTS.drainTimeoutMs,
    )
    timer.unref()
  } finally {
    await server.close()
  }
  const result: ServeResult = {
    url,
    models: modelInfo(server.host),
    readySeconds,
    uptimeSeconds: readyAt > 0 ? (performance.now() - readyAt) / 1000 : 0,
    requests: server.metrics.requests.total(),
    swaps: server.metrics.swaps.total(),
    loggedRows: server.log?.written ?? 0,
  }
  progress(`stopped after ${result.requests} prediction request${result.requests === 1 ? '' : 's'}`)
  return result
}
