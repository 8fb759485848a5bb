// The synchronous prediction path relies on things that are not public API: ONNX Runtime's native session (sync `run`)
// and private fields of @duckdb/node-api vectors. These tests fail loudly when an upgrade changes them.

import {readFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import type {DuckDBStructVector} from '@duckdb/node-api'
import {beforeAll, describe, expect, it} from 'vitest'
import {duckdb} from '../../src/data/duckdb.js'
import {loadFrame} from '../../src/data/load.js'
import {openSource} from '../../src/data/source.js'
import {cellText} from '../../src/ml/frame.js'
import type {Signature} from '../../src/onnx/signature.js'
import {Predictor} from '../../src/runtime/predictor.js'
import {ortVersion, PINNED_ORT_VERSION, StructReader, SyncPredictor, validityWords} from '../../src/runtime/udf.js'
import {resolveModel} from '../../src/workspace/registry.js'
import {openWorkspace} from '../../src/workspace/workspace.js'
import {type QueryWorkspace, queryWorkspace} from './helpers.js'

let ws: QueryWorkspace

beforeAll(async () => {
  ws = await queryWorkspace(['penguins'])
})

describe('the pinned runtime', () => {
  it(`is onnxruntime-node ${PINNED_ORT_VERSION}, exactly: its native session is not public API`, () => {
    expect(ortVersion()).toBe(PINNED_ORT_VERSION)
    const pkg = createRequire(import.meta.url)('../../package.json') as {dependencies: Record<string, string>}
    expect(pkg.dependencies['onnxruntime-node']).toBe(PINNED_ORT_VERSION)
  })

  it('predicts synchronously exactly what the public asynchronous session predicts', async () => {
    const workspace = await openWorkspace({explicit: ws.dir})
    const resolved = resolveModel(workspace, 'penguins')
    const bytes = await readFile(join(workspace.dir, resolved.artifactDir, 'model.onnx'))
    workspace.db.close()
    const source = await openSource(ws.file('penguins.csv'))
    const async_ = await Predictor.load(bytes, resolved.signature, 'penguins')
    const frame = await loadFrame(source, async_.columns)
    await source.release()
    const sync = await SyncPredictor.load(bytes, resolved.signature, 'penguins')
    const a = await async_.predict(frame)
    const b = sync.predict(frame)
    expect(b.labels).toEqual(a.labels)
    expect(b.probabilities).toEqual(a.probabilities)
  })

  it('reads @duckdb/node-api vectors through the private fields it expects', async () => {
    const con = await duckdb()
    const result = await con.run(`SELECT 1.5::DOUBLE AS d, NULL::DOUBLE AS n, 'abc' AS s FROM range(3)`)
    const chunk = (await result.fetchChunk())!
    const [d, n, s] = [0, 1, 2].map(j => chunk.getColumnVector(j))
    expect(validityWords(d!)).toBeNull()
    expect(validityWords(n!)).toBeInstanceOf(Uint32Array)
    expect((d as unknown as {items: unknown}).items).toBeInstanceOf(Float64Array)
    expect((s as unknown as {dataView: unknown}).dataView).toBeInstanceOf(DataView)
  })
})

describe('StructReader', () => {
  it('reads categories as getItem does: inline, long, non-ASCII, missing spellings, NULL, across chunks', async () => {
    const signature = {
      task: 'classification',
      target: 'y',
      classes: ['a', 'b'],
      inputs: [{name: 'c', type: 'categorical', onnxName: 'c', elemType: 'string', categories: ['NA', 'x']}],
      outputs: {},
    } as unknown as Signature
    const reader = new StructReader(signature)
    const con = await duckdb()
    // 5,000 distinct ids (more than the reader keeps decoded) among repeated short, long and multi-byte values.
    const result = await con.run(
      `SELECT {'c': CASE i % 9 WHEN 0 THEN NULL WHEN 1 THEN 'NA' WHEN 2 THEN 'x' WHEN 3 THEN 'ünïcödé' ` +
        `WHEN 4 THEN 'twelve bytes' WHEN 5 THEN 'thirteen byte' WHEN 6 THEN 'id-' || (i // 9) ` +
        `WHEN 7 THEN '' ELSE 'N/A' END} AS t FROM range(45000) r(i)`,
    )
    let rows = 0
    for (;;) {
      const chunk = await result.fetchChunk()
      if (!chunk || chunk.rowCount === 0) break
      const vector = chunk.getColumnVector(0) as DuckDBStructVector
      const frame = reader.frame(vector, chunk.rowCount, 'm')
      const child = vector.entryVectorAt(0)
      for (let i = 0; i < chunk.rowCount; i++) {
        const raw = child.getItem(i) as string | null
        const expected = raw === null || ['', 'N/A'].includes(raw) ? null : raw
        expect(cellText(frame.columns[0]!, i)).toBe(expected)
      }
      rows += chunk.rowCount
    }
    expect(rows).toBe(45000)
  })
})
