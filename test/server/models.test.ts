// Following an alias: the new version is loaded before it is swapped in, requests already waiting for the old
// version still run on it, a version that cannot be loaded leaves the old one serving, and a pinned version is
// never re-resolved.
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type HostEvents, ModelHost, type ModelSpec} from '../../src/server/models.js'
import {WorkerPool} from '../../src/server/pool.js'
import {decodeMlflowJson} from '../../src/server/rows.js'
import {save} from '../../src/services/save.js'
import {workspaceSource} from '../../src/services/serve.js'
import {resolveModel} from '../../src/workspace/registry.js'
import {openWorkspace, type Workspace} from '../../src/workspace/workspace.js'
import {PENGUIN, type ServingWorkspace, servingWorkspace} from './helpers.js'

let ws: ServingWorkspace
let workspace: Workspace
// One worker taking one row at a time: requests queue behind it, as under load.
const pool = new WorkerPool({size: 1, maxBatchRows: 1})

beforeAll(async () => {
  ws = await servingWorkspace()
  workspace = await openWorkspace({explicit: ws.dir})
  await pool.start()
}, 120_000)

afterAll(async () => {
  await pool.close()
  workspace.db.close()
})

function host(name: string, ref: string, events: HostEvents = {}): ModelHost {
  const spec: ModelSpec = {name, ref, resolved: resolveModel(workspace, ref)}
  return new ModelHost(pool, workspaceSource(workspace), [spec], events)
}

/** One request as the app makes it: hold the current version until the prediction is back. */
function request(h: ModelHost, name: string): Promise<number | null> {
  const model = h.get(name)!
  const version = h.acquire(model)
  const block = decodeMlflowJson({dataframe_records: [PENGUIN]}, version.inputs, 1)
  return h
    .predict(version, block)
    .then(() => version.resolved.version)
    .finally(() => h.release(version))
}

describe('following an alias', () => {
  it('swaps in the new version once loaded, and runs the requests already queued on the old one', async () => {
    // Given a server on version 1 of queued@live, which has just moved to version 2
    await save({workspace: {explicit: ws.dir}, runId: ws.penguinsRun, name: 'queued', aliases: ['live']})
    const swaps: string[] = []
    const h = host('queued', 'queued@live', {
      onSwap: (_m, from, to) => swaps.push(`${from.resolved.version}→${to.resolved.version}`),
    })
    await h.loadAll()
    await save({workspace: {explicit: ws.dir}, runId: ws.penguinsRun, name: 'queued', aliases: ['live']})
    // When 2000 requests queue on version 1 (one row per run: far longer than loading takes) and the host looks
    const before = Array.from({length: 2000}, () => request(h, 'queued'))
    await h.refresh()
    const after = await request(h, 'queued')
    // Then every queued request ran on version 1, and new ones run on version 2
    expect(await Promise.all(before)).toEqual(Array(2000).fill(1))
    expect(after).toBe(2)
    expect(swaps).toEqual(['1→2'])
  })

  it('keeps serving the old version when the new one cannot be loaded, and says why once', async () => {
    await save({workspace: {explicit: ws.dir}, runId: ws.penguinsRun, name: 'fragile', aliases: ['live']})
    const warnings: string[] = []
    const h = host('fragile', 'fragile@live', {onWarning: w => warnings.push(w)})
    await h.loadAll()
    const source = join(ws.dir, '.mlproj', 'artifacts', ws.penguinsRun, 'model.onnx')
    const broken = await save({workspace: {explicit: ws.dir}, onnx: source, name: 'fragile', aliases: ['live']})
    await writeFile(broken.artifactPath, 'damaged')
    await h.refresh()
    await h.refresh()
    expect(await request(h, 'fragile')).toBe(1)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /^cannot load fragile:2 for fragile@live: ONNX Runtime cannot load .*; still serving fragile:1$/,
    )
  })

  it('never re-resolves a pinned version', async () => {
    await save({workspace: {explicit: ws.dir}, runId: ws.penguinsRun, name: 'pinned', aliases: []})
    const h = host('pinned', 'pinned:1')
    await h.loadAll()
    await save({workspace: {explicit: ws.dir}, runId: ws.penguinsRun, name: 'pinned', aliases: []})
    await h.refresh()
    expect(h.get('pinned')!.follows).toBe(false)
    expect(await request(h, 'pinned')).toBe(1)
  })

  it('follows a bare name to the latest version', async () => {
    await save({workspace: {explicit: ws.dir}, runId: ws.penguinsRun, name: 'newest', aliases: []})
    const h = host('newest', 'newest')
    await h.loadAll()
    await save({workspace: {explicit: ws.dir}, runId: ws.penguinsRun, name: 'newest', aliases: []})
    await h.refresh()
    expect(await request(h, 'newest')).toBe(2)
  })
})
