// Test helpers for serve: a workspace with real trained models (penguins gbdt, diabetes linear, an imported
// iris model with one [N, 4] float input), an in-process server for app.inject(), and `mlproj serve` as a real
// process listening on a free port.
import {type ChildProcess, spawn} from 'node:child_process'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll} from 'vitest'
import {save} from '../../src/services/save.js'
import {createServer, type Server, type ServerOptions} from '../../src/services/serve.js'
import {train} from '../../src/services/train.js'
import {BIN, dataset, tempDir} from '../helpers/cli.js'
import {foreignIrisModel} from '../helpers/foreign-model.js'

export const PENGUIN = {
  island: 'Biscoe',
  bill_length_mm: 45.1,
  bill_depth_mm: 14.5,
  flipper_length_mm: 215,
  body_mass_g: 5000,
  sex: 'female',
  year: 2008,
}

export const PENGUIN_COLUMNS = Object.keys(PENGUIN)

export interface ServingWorkspace {
  readonly dir: string
  readonly penguinsRun: string
}

/** penguins:1 (gbdt, @production), diabetes:1 (linear regression), iris:1 (imported, one [N, 4] input). */
export async function servingWorkspace(): Promise<ServingWorkspace> {
  const dir = await tempDir('mlproj-serve-')
  const common = {workspace: {explicit: dir, create: true}, testSize: 0.2, seed: 42, params: [], experiment: 'serve'}
  const penguins = await train({
    ...common,
    data: dataset('penguins.csv'),
    target: 'species',
    algo: 'gbdt',
    params: ['nEstimators=20'],
    save: 'penguins',
    aliases: ['production'],
  })
  await train({...common, data: dataset('diabetes.csv'), target: 'progression', save: 'diabetes'})
  const onnx = join(dir, 'iris.onnx')
  await writeFile(onnx, foreignIrisModel())
  await save({
    workspace: {explicit: dir},
    onnx,
    name: 'iris',
    aliases: [],
    columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
    target: 'species',
  })
  return {dir, penguinsRun: penguins.runId}
}

/** An in-process server (no socket) with its models loaded, closed after the test file. */
export async function startApp(
  dir: string,
  models: readonly string[],
  options: Partial<ServerOptions> & {load?: boolean} = {},
): Promise<Server> {
  const server = await createServer({workspace: {explicit: dir}, models, workers: 1, watchIntervalMs: 0, ...options})
  afterAll(() => server.close())
  if (options.load !== false) await server.host.loadAll()
  return server
}

export interface Served {
  readonly url: string
  readonly child: ChildProcess
  /** stderr so far. */
  stderr(): string
  /** Resolves when the process exits. */
  readonly exited: Promise<{code: number | null; stdout: string; stderr: string}>
}

/** Runs `mlproj serve ARGS --port 0` in `cwd` and waits for its "ready" line (or its exit). */
export async function serveProcess(
  args: readonly string[],
  options: {cwd: string; env?: Record<string, string>},
): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args, '--port', '0'], {
    cwd: options.cwd,
    env: {...process.env, MLPROJ_WORKSPACE: '', NO_COLOR: '1', ...options.env},
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString('utf8')
  })
  const exited = new Promise<{code: number | null; stdout: string; stderr: string}>(resolve =>
    child.on('close', code => resolve({code, stdout: out, stderr: err})),
  )
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString('utf8')
      const ready = /ready in [\d.]+ s: (http:\S+)/.exec(err)
      if (ready) resolve(ready[1]!)
    })
    void exited.then(r => reject(new Error(`serve exited with code ${r.code} before it was ready:\n${r.stderr}`)))
  })
  return {url, child, stderr: () => err, exited}
}

/** POST JSON and return the status, headers and parsed body. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{status: number; headers: Headers; json: Record<string, unknown>}> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {'content-type': 'application/json', ...headers},
    body: JSON.stringify(body),
  })
  return {status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown>}
}
