// Every route of the server through app.inject(): MLflow scoring in each JSON form and CSV, several models,
// Open Inference Protocol V2, health, metrics, the token, and each error with its status and body — on real
// models in a temporary workspace, run by real worker threads.
import type {FastifyInstance} from 'fastify'
import {beforeAll, describe, expect, it} from 'vitest'
import type {Server} from '../../src/services/serve.js'
import {readPredictionLog} from '../../src/workspace/prediction-log.js'
import {PENGUIN, PENGUIN_COLUMNS, type ServingWorkspace, servingWorkspace, startApp} from './helpers.js'

let ws: ServingWorkspace
let server: Server
let app: FastifyInstance

beforeAll(async () => {
  ws = await servingWorkspace()
  server = await startApp(ws.dir, ['penguins@production', 'diabetes', 'iris:1'], {
    logPredictions: true,
    maxBodyBytes: 64 * 1024,
    maxRows: 500,
  })
  app = server.app
}, 120_000)

const json = {'content-type': 'application/json'}

async function invoke(body: unknown, url = '/invocations') {
  const response = await app.inject({method: 'POST', url, headers: json, payload: JSON.stringify(body)})
  return {status: response.statusCode, headers: response.headers, body: response.json()}
}

interface Prediction {
  predicted_species: string
  probability_Adelie: number
  probability_Chinstrap: number
  probability_Gentoo: number
}

describe('MLflow scoring protocol', () => {
  it('answers dataframe_records with a record per row: the label and a probability per class', async () => {
    const r = await invoke({dataframe_records: [PENGUIN]})
    expect(r.status).toBe(200)
    const [p] = r.body.predictions as Prediction[]
    expect(Object.keys(p!)).toEqual([
      'predicted_species',
      'probability_Adelie',
      'probability_Chinstrap',
      'probability_Gentoo',
    ])
    expect(p!.predicted_species).toBe('Gentoo')
    // Probabilities come out of ONNX Runtime as float32: they sum to 1 within float32 rounding.
    expect(p!.probability_Adelie + p!.probability_Chinstrap + p!.probability_Gentoo).toBeCloseTo(1, 6)
    expect(r.headers['mlproj-model']).toBe('penguins')
    expect(r.headers['mlproj-model-version']).toBe('1')
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('gives the same predictions for dataframe_split, instances, inputs and text/csv', async () => {
    const other = {...PENGUIN, island: 'Dream', bill_length_mm: 50, bill_depth_mm: 19, flipper_length_mm: 195}
    const base = (await invoke({dataframe_records: [PENGUIN, other]})).body.predictions
    const values = [PENGUIN, other].map(r => Object.values(r))
    const bodies = [
      {dataframe_split: {columns: PENGUIN_COLUMNS, data: values}},
      {instances: [PENGUIN, other]},
      {inputs: values},
      {inputs: Object.fromEntries(PENGUIN_COLUMNS.map((c, j) => [c, values.map(v => v[j])]))},
    ]
    for (const body of bodies) expect((await invoke(body)).body.predictions).toEqual(base)
    const csv = [PENGUIN_COLUMNS.join(','), ...values.map(v => v.join(','))].join('\n')
    const r = await app.inject({
      method: 'POST',
      url: '/invocations',
      headers: {'content-type': 'text/csv'},
      payload: csv,
    })
    expect(r.statusCode).toBe(200)
    expect(r.json().predictions).toEqual(base)
  })

  it('ignores extra columns and accepts unseen categories and missing values', async () => {
    const r = await invoke({
      dataframe_records: [
        {...PENGUIN, colour: 'blue'},
        {...PENGUIN, island: 'Atlantis', sex: null, bill_length_mm: null},
      ],
    })
    expect(r.status).toBe(200)
    expect(r.body.predictions).toHaveLength(2)
  })

  it('reads the bare NaN of Python clients as a missing value', async () => {
    const body = JSON.stringify({dataframe_records: [PENGUIN]}).replace('45.1', 'NaN')
    const r = await app.inject({method: 'POST', url: '/invocations', headers: json, payload: body})
    expect(r.statusCode).toBe(200)
  })

  it('serves each model under its name, regression values as predicted_<target>', async () => {
    const r = await invoke(
      {dataframe_records: [{age: 50, sex: 1, bmi: 30, bp: 90, s1: 200, s2: 120, s3: 50, s4: 4, s5: 4.5, s6: 90}]},
      '/models/diabetes/invocations',
    )
    expect(r.status).toBe(200)
    const [p] = r.body.predictions as Array<Record<string, number>>
    expect(Object.keys(p!)).toEqual(['predicted_progression'])
    expect(p!.predicted_progression).toBeGreaterThan(25)
    expect(r.headers['mlproj-model']).toBe('diabetes')
  })

  it('answers an imported model by its column names, integer labels as numbers', async () => {
    const r = await invoke(
      {dataframe_records: [{sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2}]},
      '/models/iris/invocations',
    )
    expect(r.status).toBe(200)
    expect(r.body.predictions[0].predicted_species).toBe(0)
  })

  it('lists the served models with their versions and signatures', async () => {
    const r = await app.inject({method: 'GET', url: '/models'})
    const models = r.json().models as Array<Record<string, unknown>>
    expect(models.map(m => [m.name, m.ref, m.version, m.ready])).toEqual([
      ['penguins', 'penguins@production', 1, true],
      ['diabetes', 'diabetes', 1, true],
      ['iris', 'iris:1', 1, true],
    ])
    expect(models[0]).toMatchObject({
      task: 'classification',
      target: 'species',
      classes: ['Adelie', 'Chinstrap', 'Gentoo'],
    })
    expect((models[0]!.inputs as Array<{name: string}>).map(i => i.name)).toEqual(PENGUIN_COLUMNS)
    expect(models[1]!.outputs).toEqual(['predicted_progression'])
  })
})

describe('MLflow errors', () => {
  it('names a missing column with 400 and {"error_code", "message"}', async () => {
    const {bill_length_mm: _, ...row} = PENGUIN
    const r = await invoke({dataframe_records: [row]})
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({
      error_code: 'BAD_REQUEST',
      code: 'E_DATA_MISSING_COLUMN',
      message: 'the request lacks column "bill_length_mm" that the model needs',
    })
  })

  it('names the column and row of a wrong type with 400', async () => {
    const r = await invoke({dataframe_records: [PENGUIN, {...PENGUIN, body_mass_g: 'heavy'}]})
    expect(r.status).toBe(400)
    expect(r.body.message).toBe('column "body_mass_g", row 1: expected a number, got "heavy"')
    expect(r.body.details).toEqual({column: 'body_mass_g', row: 1})
  })

  it('answers 415 to a content type other than JSON or CSV', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const r = await app.inject({method: 'POST', url: '/invocations', headers: {'content-type': type}, payload: 'a=1'})
      expect(r.statusCode).toBe(415)
      expect(r.json()).toMatchObject({error_code: 'UNSUPPORTED_MEDIA_TYPE'})
    }
  })

  it('answers malformed JSON with 400 MALFORMED_REQUEST', async () => {
    const r = await app.inject({method: 'POST', url: '/invocations', headers: json, payload: '{"inputs": ['})
    expect(r.statusCode).toBe(400)
    expect(r.json()).toMatchObject({error_code: 'MALFORMED_REQUEST', code: 'E_REQUEST_JSON'})
  })

  it('answers a body over the size limit with 413', async () => {
    const r = await invoke({dataframe_records: Array.from({length: 800}, () => PENGUIN)})
    expect(r.status).toBe(413)
    expect(r.body).toMatchObject({
      error_code: 'PAYLOAD_TOO_LARGE',
      message: 'the request body is larger than the limit of 65536 bytes',
    })
  })

  it('answers more rows than the limit with 413', async () => {
    const r = await invoke({inputs: Array.from({length: 501}, () => Object.values(PENGUIN))})
    expect(r.status).toBe(413)
    expect(r.body).toMatchObject({
      code: 'E_REQUEST_TOO_MANY_ROWS',
      message: 'the request holds 501 rows; the limit is 500',
    })
  })

  it('answers an unknown model or route with 404', async () => {
    const r = await invoke({inputs: []}, '/models/nope/invocations')
    expect(r.status).toBe(404)
    expect(r.body).toMatchObject({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: 'this server has no model named "nope"',
    })
    const route = await app.inject({method: 'GET', url: '/nowhere'})
    expect(route.statusCode).toBe(404)
    expect(route.json()).toMatchObject({error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no route GET /nowhere'})
  })
})

describe('Open Inference Protocol V2', () => {
  const tensors = (rows: ReadonlyArray<typeof PENGUIN>) =>
    PENGUIN_COLUMNS.map(c => {
      const data = rows.map(r => r[c as keyof typeof PENGUIN])
      return {name: c, shape: [rows.length], datatype: typeof data[0] === 'string' ? 'BYTES' : 'FP64', data}
    })

  it('infers from one tensor per column, answering one tensor per prediction column', async () => {
    const r = await invoke({id: 'req-7', inputs: tensors([PENGUIN, PENGUIN])}, '/v2/models/penguins/infer')
    expect(r.status).toBe(200)
    const mlflow = (await invoke({dataframe_records: [PENGUIN]})).body.predictions[0] as Prediction
    expect(r.body).toMatchObject({model_name: 'penguins', model_version: '1', id: 'req-7'})
    expect(r.body.outputs).toEqual([
      {name: 'predicted_species', datatype: 'BYTES', shape: [2], data: ['Gentoo', 'Gentoo']},
      {
        name: 'probability_Adelie',
        datatype: 'FP64',
        shape: [2],
        data: [mlflow.probability_Adelie, mlflow.probability_Adelie],
      },
      {name: 'probability_Chinstrap', datatype: 'FP64', shape: [2], data: Array(2).fill(mlflow.probability_Chinstrap)},
      {name: 'probability_Gentoo', datatype: 'FP64', shape: [2], data: Array(2).fill(mlflow.probability_Gentoo)},
    ])
  })

  it('returns only the outputs asked for, and refuses an unknown one', async () => {
    const r = await invoke(
      {inputs: tensors([PENGUIN]), outputs: [{name: 'probability_Gentoo'}]},
      '/v2/models/penguins/versions/1/infer',
    )
    expect(r.body.outputs.map((o: {name: string}) => o.name)).toEqual(['probability_Gentoo'])
    const bad = await invoke({inputs: tensors([PENGUIN]), outputs: [{name: 'label'}]}, '/v2/models/penguins/infer')
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({error: 'model "penguins" has no output "label"'})
  })

  it('reads a 2-D tensor named after the ONNX input of an imported model', async () => {
    const rows = [
      [5.1, 3.5, 1.4, 0.2],
      [5.0, 2.0, 7.0, 3.0],
    ]
    const r = await invoke(
      {inputs: [{name: 'float_input', shape: [2, 4], datatype: 'FP32', data: rows.flat()}]},
      '/v2/models/iris/infer',
    )
    expect(r.status).toBe(200)
    const mlflow = await invoke({inputs: rows}, '/models/iris/invocations')
    const labels = mlflow.body.predictions.map((p: {predicted_species: number}) => p.predicted_species)
    expect(labels).toEqual([0, 2])
    expect(r.body.outputs[0]).toEqual({name: 'predicted_species', datatype: 'INT64', shape: [2], data: labels})
  })

  it('answers metadata: versions, platform, inputs and outputs with their datatypes', async () => {
    const r = await app.inject({method: 'GET', url: '/v2/models/penguins'})
    expect(r.statusCode).toBe(200)
    const meta = r.json()
    expect(meta).toMatchObject({name: 'penguins', versions: ['1'], platform: 'onnxruntime_onnx'})
    expect(meta.inputs[0]).toEqual({name: 'island', datatype: 'BYTES', shape: [-1]})
    expect(meta.inputs[1]).toEqual({name: 'bill_length_mm', datatype: 'FP64', shape: [-1]})
    expect(meta.outputs[0]).toEqual({name: 'predicted_species', datatype: 'BYTES', shape: [-1]})
    const iris = (await app.inject({method: 'GET', url: '/v2/models/iris/versions/1'})).json()
    expect(iris.inputs.map((i: {datatype: string}) => i.datatype)).toEqual(['FP32', 'FP32', 'FP32', 'FP32'])
  })

  it('answers health, server metadata and model readiness', async () => {
    expect((await app.inject({method: 'GET', url: '/v2/health/live'})).json()).toEqual({live: true})
    expect((await app.inject({method: 'GET', url: '/v2/health/ready'})).json()).toEqual({ready: true})
    expect((await app.inject({method: 'GET', url: '/v2'})).json()).toMatchObject({name: 'mlproj', extensions: []})
    const ready = await app.inject({method: 'GET', url: '/v2/models/penguins/ready'})
    expect([ready.statusCode, ready.json()]).toEqual([200, {name: 'penguins', ready: true}])
    expect((await app.inject({method: 'GET', url: '/v2/models/penguins/versions/1/ready'})).statusCode).toBe(200)
  })

  it('answers errors as {"error": "..."}: missing input, bad shape, unknown model or version, CSV', async () => {
    const missing = await invoke({inputs: tensors([PENGUIN]).slice(1)}, '/v2/models/penguins/infer')
    expect(missing.status).toBe(400)
    expect(missing.body.error).toBe('the request lacks column "island" that the model needs')
    const schema = await invoke({inputs: [{name: 'island'}]}, '/v2/models/penguins/infer')
    expect(schema.status).toBe(400)
    expect(schema.body.error).toMatch(/must have required property 'shape'/)
    expect((await invoke({inputs: tensors([PENGUIN])}, '/v2/models/nope/infer')).status).toBe(404)
    const version = await invoke({inputs: tensors([PENGUIN])}, '/v2/models/penguins/versions/2/infer')
    expect([version.status, version.body.error]).toEqual([404, 'model "penguins" is not serving version 2'])
    const csv = await app.inject({
      method: 'POST',
      url: '/v2/models/penguins/infer',
      headers: {'content-type': 'text/csv'},
      payload: 'island\nBiscoe\n',
    })
    expect(csv.statusCode).toBe(415)
    expect(csv.json().error).toMatch(/application\/json/)
  })
})

describe('health, version and metrics', () => {
  it('reports ready on /ping and /health, and the version on /version', async () => {
    for (const url of ['/ping', '/health']) {
      const r = await app.inject({method: 'GET', url})
      expect([r.statusCode, r.json()]).toEqual([200, {status: 'ready'}])
    }
    expect((await app.inject({method: 'GET', url: '/version'})).body).toMatch(/^\d+\.\d+\.\d+\n$/)
  })

  it('exposes requests by model and status, latency and batch sizes in Prometheus format', async () => {
    await invoke({dataframe_records: [PENGUIN]})
    await invoke({dataframe_records: [{}]})
    const r = await app.inject({method: 'GET', url: '/metrics'})
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = r.body
    expect(text).toMatch(/^mlproj_requests_total\{model="penguins",protocol="mlflow",status="200"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mlproj_requests_total\{model="penguins",protocol="mlflow",status="400"\} [1-9]\d*$/m)
    expect(text).toMatch(
      /^mlproj_request_duration_seconds_bucket\{model="penguins",protocol="mlflow",le="\+Inf"\} \d+$/m,
    )
    expect(text).toMatch(/^mlproj_batch_rows_count\{model="penguins"\} [1-9]\d*$/m)
    expect(text).toMatch(/^mlproj_model_info\{model="penguins",version="1",ref="penguins@production"\} 1$/m)
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m)
  })
})

describe('readiness before the models are loaded', () => {
  it('answers 503 on the readiness routes and on predictions until every model is loaded', async () => {
    const loading = await startApp(ws.dir, ['penguins@production'], {load: false})
    for (const url of ['/ping', '/health', '/v2/health/ready', '/v2/models/penguins/ready']) {
      expect((await loading.app.inject({method: 'GET', url})).statusCode).toBe(503)
    }
    expect((await loading.app.inject({method: 'GET', url: '/v2/health/live'})).statusCode).toBe(200)
    const early = await loading.app.inject({
      method: 'POST',
      url: '/invocations',
      headers: json,
      payload: JSON.stringify({dataframe_records: [PENGUIN]}),
    })
    expect([early.statusCode, early.json().error_code]).toEqual([503, 'TEMPORARILY_UNAVAILABLE'])
    await loading.host.loadAll()
    expect((await loading.app.inject({method: 'GET', url: '/ping'})).statusCode).toBe(200)
  })
})

describe('token', () => {
  it('requires the bearer token on every route but the health checks', async () => {
    const secured = await startApp(ws.dir, ['penguins@production'], {token: 's3cret'})
    const request = (method: 'GET' | 'POST', url: string, authorization?: string) =>
      secured.app.inject({
        method,
        url,
        headers: {...json, ...(authorization ? {authorization} : {})},
        payload: method === 'POST' ? JSON.stringify({dataframe_records: [PENGUIN]}) : undefined,
      })
    for (const url of ['/ping', '/health', '/v2/health/live', '/v2/health/ready']) {
      expect((await request('GET', url)).statusCode).toBe(200)
    }
    for (const [method, url] of [
      ['POST', '/invocations'],
      ['GET', '/metrics'],
      ['GET', '/models'],
      ['GET', '/v2/models/penguins'],
      ['GET', '/version'],
    ] as const) {
      const refused = await request(method, url)
      expect(refused.statusCode).toBe(401)
      expect(refused.headers['www-authenticate']).toBe('Bearer')
      expect((await request(method, url, 'Bearer wrong')).statusCode).toBe(401)
      expect((await request(method, url, 'Bearer s3cret')).statusCode).toBe(200)
    }
    expect((await request('POST', '/invocations')).json()).toMatchObject({error_code: 'UNAUTHENTICATED'})
  })
})

describe('prediction log', () => {
  it("stores each request's inputs, outputs, model version, latency and request id", async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/invocations',
      headers: {...json, 'x-request-id': 'log-test-1'},
      payload: JSON.stringify({dataframe_records: [PENGUIN, {...PENGUIN, sex: null}]}),
    })
    expect(r.headers['x-request-id']).toBe('log-test-1')
    await server.log!.flush()
    const rows = readPredictionLog(server.workspace.db, {requestId: 'log-test-1'}).reverse()
    expect(rows.map(x => x.rowIndex)).toEqual([0, 1])
    expect(rows[0]).toMatchObject({servedName: 'penguins', modelRef: 'penguins@production', modelName: 'penguins'})
    expect(rows[0]).toMatchObject({modelVersion: 1, protocol: 'mlflow', runId: ws.penguinsRun})
    expect(rows[0]!.latencyMs).toBeGreaterThan(0)
    expect(JSON.parse(rows[0]!.inputs)).toEqual(PENGUIN)
    expect(JSON.parse(rows[1]!.inputs).sex).toBeNull()
    expect(JSON.parse(rows[0]!.outputs)).toEqual(r.json().predictions[0])
  })
})
