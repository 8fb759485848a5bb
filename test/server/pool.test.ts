// The worker pool: requests that wait for a busy worker are coalesced into one ONNX Runtime run and each gets
// its own rows back; a model that cannot be loaded is refused with ONNX Runtime's reason.
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ModelError} from '../../src/errors.js'
import type {Signature} from '../../src/onnx/signature.js'
import type {ModelOutput} from '../../src/runtime/predictor.js'
import {WorkerPool} from '../../src/server/pool.js'
import {decodeMlflowJson, inputSpecs} from '../../src/server/rows.js'
import {PENGUIN, servingWorkspace} from './helpers.js'

const ADELIE = {...PENGUIN, island: 'Torgersen', bill_length_mm: 39, bill_depth_mm: 18.7, flipper_length_mm: 181}
const CHINSTRAP = {...PENGUIN, island: 'Dream', bill_length_mm: 50, bill_depth_mm: 19, flipper_length_mm: 195}

let bytes: Uint8Array
let signature: Signature
const batches: number[] = []
const pool = new WorkerPool({size: 1, maxBatchRows: 8, onBatch: (_key, rows) => batches.push(rows)})

beforeAll(async () => {
  const ws = await servingWorkspace()
  const artifacts = join(ws.dir, '.mlproj', 'artifacts', ws.penguinsRun)
  bytes = await readFile(join(artifacts, 'model.onnx'))
  signature = JSON.parse(await readFile(join(artifacts, 'signature.json'), 'utf8')) as Signature
  await pool.start()
  await pool.load('penguins', {bytes, signature, where: 'penguins'})
}, 120_000)

afterAll(() => pool.close())

describe('worker pool', () => {
  it('coalesces requests waiting for a busy worker into batches, giving each request its own rows', async () => {
    // Given 40 one-row requests of three kinds of penguin, sent at once to a single worker
    const inputs = inputSpecs(signature)
    const kinds = [PENGUIN, ADELIE, CHINSTRAP]
    const blocks = Array.from({length: 40}, (_, i) =>
      decodeMlflowJson({dataframe_records: [{...kinds[i % 3], body_mass_g: 3500 + 10 * i}]}, inputs, 1),
    )
    const alone: ModelOutput[] = []
    for (const block of blocks) alone.push(await pool.predict('penguins', block))
    batches.length = 0
    // When
    const together = await Promise.all(blocks.map(block => pool.predict('penguins', block)))
    // Then fewer runs than requests, none above the batch limit, and the same answers as one by one
    expect(batches.reduce((a, b) => a + b, 0)).toBe(40)
    expect(batches.length).toBeLessThan(40)
    expect(Math.max(...batches)).toBeLessThanOrEqual(8)
    together.forEach((output, i) => {
      expect(output.nRows).toBe(1)
      expect(output.labels).toEqual(alone[i]!.labels)
      expect(Array.from(output.probabilities!)).toEqual(Array.from(alone[i]!.probabilities!))
    })
    expect(new Set(together.map(o => o.labels![0]))).toEqual(new Set(['Gentoo', 'Adelie', 'Chinstrap']))
  })

  it('runs a request larger than the batch limit whole', async () => {
    const inputs = inputSpecs(signature)
    const block = decodeMlflowJson({dataframe_records: Array.from({length: 200}, () => PENGUIN)}, inputs, 1000)
    batches.length = 0
    const output = await pool.predict('penguins', block)
    expect(output.nRows).toBe(200)
    expect(batches).toEqual([200])
  })

  it("refuses a model that cannot be loaded, with ONNX Runtime's reason", async () => {
    const failure = await pool
      .load('bad', {bytes: new TextEncoder().encode('not onnx'), signature, where: 'model bad:1'})
      .catch(error => error)
    expect(failure).toBeInstanceOf(ModelError)
    expect(failure).toMatchObject({
      code: 'E_MODEL_LOAD',
      message: expect.stringMatching(/^ONNX Runtime cannot load model bad:1/),
    })
  })
})
