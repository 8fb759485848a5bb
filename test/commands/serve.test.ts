// `mlproj serve` as a real process on a real socket: start-up and readiness, exit codes of a model that cannot
// be loaded and of a port in use, draining in-flight requests on SIGTERM, following an alias under load without a
// failed request, and the token.

import {writeFile} from 'node:fs/promises'
import {request as httpRequest} from 'node:http'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {save} from '../../src/services/save.js'
import {mlproj} from '../helpers/cli.js'
import {PENGUIN, postJson, type ServingWorkspace, serveProcess, servingWorkspace} from '../server/helpers.js'

let ws: ServingWorkspace

beforeAll(async () => {
  ws = await servingWorkspace()
}, 120_000)

const row = {dataframe_records: [PENGUIN]}

describe('start-up', () => {
  it('listens, loads the models, then reports ready and answers every protocol', async () => {
    const served = await serveProcess(['penguins@production', 'diabetes'], {cwd: ws.dir})
    const err = served.stderr()
    expect(err.indexOf('listening on http://127.0.0.1:')).toBeLessThan(err.indexOf('ready in'))
    expect(err).toMatch(/penguins ← penguins@production \(version 1\) · classification/)
    expect((await fetch(`${served.url}/ping`)).status).toBe(200)
    expect((await fetch(`${served.url}/v2/health/ready`)).status).toBe(200)
    const r = await postJson(`${served.url}/invocations`, row)
    expect(r.status).toBe(200)
    expect(r.json.predictions).toEqual([expect.objectContaining({predicted_species: 'Gentoo'})])
    served.child.kill('SIGTERM')
    const exit = await served.exited
    expect(exit.code).toBe(0)
    expect(exit.stdout).toBe('')
  })

  it('prints one JSON document on stdout when it stops, with --json', async () => {
    const served = await serveProcess(['penguins@production', '--json'], {cwd: ws.dir})
    await postJson(`${served.url}/invocations`, row)
    served.child.kill('SIGINT')
    const exit = await served.exited
    expect(exit.code).toBe(0)
    const doc = JSON.parse(exit.stdout)
    expect(doc).toMatchObject({url: served.url, requests: 1, swaps: 0})
    expect(doc.models).toEqual([
      expect.objectContaining({name: 'penguins', ref: 'penguins@production', version: 1, task: 'classification'}),
    ])
    expect(doc.readySeconds).toBeGreaterThan(0)
  })
})

describe('start-up failures', () => {
  it('exits 4 naming a model reference that does not exist', async () => {
    const r = await mlproj(['serve', 'penguins@production', 'nope', '--port', '0'], {cwd: ws.dir})
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/no model named "nope"/)
  })

  it('exits 4 with the reason when a model file cannot be loaded', async () => {
    // An imported copy of the penguins model (its own artifact folder), then damaged on disk
    const source = join(ws.dir, '.mlproj', 'artifacts', ws.penguinsRun, 'model.onnx')
    const copy = await save({workspace: {explicit: ws.dir}, onnx: source, name: 'broken', aliases: []})
    await writeFile(copy.artifactPath, 'not an onnx model')
    const r = await mlproj(['serve', 'broken:1', '--port', '0'], {cwd: ws.dir})
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/ONNX Runtime cannot load model broken:1/)
  })

  it('exits 5 when the port is in use', async () => {
    const blocker = createServer()
    await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
    const {port} = blocker.address() as {port: number}
    try {
      const r = await mlproj(['serve', 'penguins@production', '--port', String(port)], {cwd: ws.dir})
      expect(r.code).toBe(5)
      expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`)
    } finally {
      blocker.close()
    }
  })
})

/** Starts a POST whose body arrives in two parts: it is in flight until `finish` is called. */
function slowRequest(url: string, body: string): {finish: () => void; done: Promise<{status: number; body: string}>} {
  const half = Math.floor(body.length / 2)
  const req = httpRequest(url, {
    method: 'POST',
    headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)},
  })
  const done = new Promise<{status: number; body: string}>((resolve, reject) => {
    req.on('response', res => {
      let text = ''
      res.on('data', (b: Buffer) => {
        text += b.toString('utf8')
      })
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: text}))
    })
    req.on('error', reject)
  })
  req.write(body.slice(0, half))
  return {finish: () => req.end(body.slice(half)), done}
}

describe('shutdown', () => {
  it('answers the requests in flight when SIGTERM arrives, then exits 0', async () => {
    // Given three requests whose bodies are half sent, and one large request being scored
    const served = await serveProcess(['penguins@production'], {cwd: ws.dir})
    const slow = [1, 2, 3].map(() => slowRequest(`${served.url}/invocations`, JSON.stringify(row)))
    const large = postJson(`${served.url}/invocations`, {
      dataframe_records: Array.from({length: 20_000}, () => PENGUIN),
    })
    await new Promise(resolve => setTimeout(resolve, 300))
    // When
    served.child.kill('SIGTERM')
    await new Promise(resolve => setTimeout(resolve, 300))
    for (const s of slow) s.finish()
    // Then
    for (const s of slow) expect((await s.done).status).toBe(200)
    const big = await large
    expect(big.status).toBe(200)
    expect(big.json.predictions).toHaveLength(20_000)
    const exit = await served.exited
    expect(exit.code).toBe(0)
    expect(exit.stderr).toContain('stopping: draining in-flight requests')
  })
})

describe('following an alias', () => {
  it('switches to the version the alias moves to, under load, without a failed request', async () => {
    // Given a server following hot@live, and clients sending requests back to back
    await save({workspace: {explicit: ws.dir}, runId: ws.penguinsRun, name: 'hot', aliases: ['live']})
    // (one worker, so that requests queue for it and a swap always finds some waiting)
    const served = await serveProcess(['hot@live', '--watch-interval', '1', '--workers', '1'], {cwd: ws.dir})
    let stop = false
    const statuses = new Map<number, number>()
    const clients = Array.from({length: 24}, async () => {
      const versions: string[] = []
      while (!stop) {
        const r = await postJson(`${served.url}/invocations`, row)
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
        versions.push(r.headers.get('mlproj-model-version') ?? '')
      }
      return versions
    })
    await new Promise(resolve => setTimeout(resolve, 500))
    // When the alias moves to version 2
    await save({workspace: {explicit: ws.dir}, runId: ws.penguinsRun, name: 'hot', aliases: ['live']})
    const deadline = Date.now() + 15_000
    while (!/hot@live moved/.test(served.stderr()) && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    await new Promise(resolve => setTimeout(resolve, 500))
    stop = true
    const seen = await Promise.all(clients)
    served.child.kill('SIGTERM')
    await served.exited
    // Then every request succeeded, and each client saw version 1, then only version 2
    expect(served.stderr()).toContain('hot@live moved: hot now serves hot:2 (was hot:1)')
    expect([...statuses.keys()]).toEqual([200])
    for (const versions of seen) {
      expect(versions[0]).toBe('1')
      expect(versions.at(-1)).toBe('2')
      expect(versions.slice(versions.indexOf('2'))).not.toContain('1')
    }
  })
})

describe('token', () => {
  it('requires Authorization: Bearer from MLPROJ_TOKEN on a real socket, except on health checks', async () => {
    const served = await serveProcess(['penguins@production'], {cwd: ws.dir, env: {MLPROJ_TOKEN: 'tok-123'}})
    expect((await fetch(`${served.url}/ping`)).status).toBe(200)
    expect((await fetch(`${served.url}/v2/health/live`)).status).toBe(200)
    const refused = await postJson(`${served.url}/invocations`, row)
    expect(refused.status).toBe(401)
    expect(refused.json.error_code).toBe('UNAUTHENTICATED')
    expect((await fetch(`${served.url}/metrics`)).status).toBe(401)
    const ok = await postJson(`${served.url}/invocations`, row, {authorization: 'Bearer tok-123'})
    expect(ok.status).toBe(200)
    served.child.kill('SIGTERM')
    expect((await served.exited).code).toBe(0)
  })
})
