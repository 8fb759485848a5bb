// The workspace store on a real SQLite file: schema migrations, the registry's versions and aliases,
// run bookkeeping (including runs whose process died) and atomic writes.
import {spawnSync} from 'node:child_process'
import {mkdir, readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {beforeEach, describe, expect, it} from 'vitest'
import {EnvironmentError, ModelError, UsageError} from '../../src/errors.js'
import type {Signature} from '../../src/onnx/signature.js'
import {writeDirAtomic, writeFileAtomic} from '../../src/workspace/atomic.js'
import {MIGRATIONS, openDb, SCHEMA_VERSION} from '../../src/workspace/db.js'
import {listModels, parseModelRef, registerVersion, resolveModel} from '../../src/workspace/registry.js'
import {failRun, finishRun, getRun, listRuns, reapStaleRuns, startRun} from '../../src/workspace/runs.js'
import {initWorkspace, openWorkspace, type Workspace} from '../../src/workspace/workspace.js'
import {tempDir} from '../helpers/cli.js'

const signature: Signature = {
  inputs: [{name: 'x', type: 'numeric', onnxName: 'x', elemType: 'double'}],
  task: 'regression',
  target: 'y',
  outputs: {value: 'variable'},
}

let ws: Workspace

beforeEach(async () => {
  const root = await tempDir()
  await initWorkspace(root)
  ws = await openWorkspace({explicit: root})
  return () => ws.db.close()
})

function finishedRun(name?: string): string {
  const run = startRun(ws, {experiment: 'e', name, mlprojVersion: 'test'})
  finishRun(ws, run.id, {
    algo: 'linear',
    task: 'regression',
    params: {alpha: 1},
    metrics: {test: {rmse: 2}, train: {rmse: 1}},
    dataset: {path: 'd.csv', files: [], format: 'csv', rows: 3, bytes: 10, sha256: 'ab', schema: []},
    artifactDir: `artifacts/${run.id}`,
  })
  return run.id
}

describe('schema', () => {
  it('creates the latest schema version and leaves it alone on reopening', async () => {
    expect(ws.db.pragma('user_version', {simple: true})).toBe(SCHEMA_VERSION)
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length)
    const again = openDb(join(ws.dir, 'mlproj.db'))
    expect(again.pragma('user_version', {simple: true})).toBe(SCHEMA_VERSION)
    again.close()
  })

  it('uses WAL so readers and a writer can work at once', () => {
    expect(ws.db.pragma('journal_mode', {simple: true})).toBe('wal')
  })

  it('refuses a database written by a newer mlproj', () => {
    ws.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    expect(() => openDb(join(ws.dir, 'mlproj.db'))).toThrow(EnvironmentError)
    ws.db.pragma(`user_version = ${SCHEMA_VERSION}`)
  })
})

describe('registry', () => {
  it('numbers versions per model and moves an alias to the newest', () => {
    const run = finishedRun()
    const base = {
      runId: run,
      source: 'run' as const,
      artifactDir: `artifacts/${run}`,
      sha256: 'ab',
      signature,
      algo: 'linear',
    }
    expect(registerVersion(ws, {...base, name: 'm', aliases: ['production']}).version).toBe(1)
    expect(registerVersion(ws, {...base, name: 'm', aliases: []}).version).toBe(2)
    expect(registerVersion(ws, {...base, name: 'other', aliases: []}).version).toBe(1)
    expect(resolveModel(ws, 'm@production').version).toBe(1)
    registerVersion(ws, {...base, name: 'm', aliases: ['production', 'candidate']})
    expect(resolveModel(ws, 'm@production').version).toBe(3)
    expect(resolveModel(ws, 'm@candidate').version).toBe(3)
    expect(resolveModel(ws, 'm').version).toBe(3)
    expect(resolveModel(ws, 'm@latest').version).toBe(3)
    expect(resolveModel(ws, 'm:2').version).toBe(2)
    expect(listModels(ws).map(m => [m.name, m.latestVersion, m.aliases])).toEqual([
      ['m', 3, {candidate: 3, production: 3}],
      ['other', 1, {}],
    ])
  })

  it('registers nothing when an alias is invalid', () => {
    const run = finishedRun()
    expect(() =>
      registerVersion(ws, {
        name: 'm',
        runId: run,
        source: 'run',
        artifactDir: 'a',
        sha256: 'ab',
        signature,
        algo: null,
        aliases: ['1bad'],
      }),
    ).toThrow(UsageError)
    expect(listModels(ws)).toEqual([])
  })

  it('parses every reference form and refuses malformed ones', () => {
    expect(parseModelRef('churn')).toEqual({kind: 'latest', name: 'churn'})
    expect(parseModelRef('churn:3')).toEqual({kind: 'version', name: 'churn', version: 3})
    expect(parseModelRef('churn@production')).toEqual({kind: 'alias', name: 'churn', alias: 'production'})
    expect(parseModelRef('run:3f9a')).toEqual({kind: 'run', runId: '3f9a'})
    expect(() => parseModelRef('churn:v2')).toThrow(UsageError)
    expect(() => parseModelRef('has space')).toThrow(UsageError)
  })

  it('says which models exist when a reference names none', () => {
    expect(() => resolveModel(ws, 'ghost')).toThrow(ModelError)
  })
})

describe('runs', () => {
  it('finishes a run with params, metrics and dataset in one record', () => {
    const id = finishedRun('first')
    const run = getRun(ws, id.slice(0, 4))
    expect(run).toMatchObject({
      id,
      name: 'first',
      status: 'finished',
      params: {alpha: 1},
      metrics: {test: {rmse: 2}, train: {rmse: 1}},
    })
    expect(run.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('records a failed run with the error code and message', () => {
    const run = startRun(ws, {experiment: 'e', mlprojVersion: 'test'})
    failRun(ws, run.id, Object.assign(new Error('no rows'), {code: 'E_DATA_NO_ROWS'}))
    expect(getRun(ws, run.id)).toMatchObject({status: 'failed', error: {code: 'E_DATA_NO_ROWS', message: 'no rows'}})
  })

  it('marks runs whose process has died as failed', () => {
    const run = startRun(ws, {experiment: 'e', mlprojVersion: 'test'})
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'})
    ws.db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(Number(dead.stdout), run.id)
    const alive = startRun(ws, {experiment: 'e', mlprojVersion: 'test'})
    expect(reapStaleRuns(ws)).toBe(1)
    expect(getRun(ws, run.id)).toMatchObject({status: 'failed', error: {code: 'E_RUN_INTERRUPTED'}})
    expect(getRun(ws, alive.id).status).toBe('running')
  })

  it('sorts by a metric in the direction that is better', () => {
    const a = finishedRun()
    const b = finishedRun()
    ws.db.prepare(`UPDATE metrics SET value = 5 WHERE run_id = ? AND split = 'test'`).run(a)
    expect(listRuns(ws, {sort: {metric: 'rmse', direction: 'lower'}}).map(r => r.id)).toEqual([b, a])
    expect(listRuns(ws, {sort: {metric: 'rmse', direction: 'higher'}}).map(r => r.id)).toEqual([a, b])
  })
})

describe('atomic writes', () => {
  it('replaces a file without leaving temporary files behind', async () => {
    const path = join(ws.dir, 'x.json')
    await writeFileAtomic(path, 'one')
    await writeFileAtomic(path, 'two')
    expect(await readFile(path, 'utf8')).toBe('two')
    expect((await readdir(ws.dir)).filter(n => n.includes('.tmp-'))).toEqual([])
  })

  it('publishes a folder all at once, and nothing when it fails', async () => {
    await writeDirAtomic(join(ws.dir, 'artifacts', 'ok'), {'a.txt': 'a', 'b.txt': 'b'})
    expect((await readdir(join(ws.dir, 'artifacts', 'ok'))).sort()).toEqual(['a.txt', 'b.txt'])
    await mkdir(join(ws.dir, 'artifacts', 'taken'))
    await expect(writeDirAtomic(join(ws.dir, 'artifacts', 'taken'), {'a.txt': 'a', 'b/c.txt': 'c'})).rejects.toThrow()
    expect((await readdir(join(ws.dir, 'artifacts'))).filter(n => n.includes('.tmp-'))).toEqual([])
  })
})
