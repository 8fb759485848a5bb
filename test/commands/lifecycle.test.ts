// The lifecycle through the CLI, as a user runs it: init → train → save → evaluate → look around,
// asserting on --json documents, exit codes and what lands in the workspace.
import {createHash} from 'node:crypto'
import {readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {dataset, mlproj, mlprojJson, tempDir} from '../helpers/cli.js'
import {foreignIrisModel} from '../helpers/foreign-model.js'

interface TrainDoc {
  runId: string
  runName: string
  experiment: string
  task: string
  algo: string
  params: Record<string, unknown>
  metrics: {test: Record<string, number>; train: Record<string, number>}
  dataset: {path: string; rows: number; sha256: string; schema: unknown[]; target: string; task: string}
  artifacts: {model: string; signature: string}
  model?: {name: string; version: number; aliases: string[]}
  workspace: {dir: string; created: boolean}
}

let dir: string

beforeAll(async () => {
  dir = await tempDir()
})

describe('init', () => {
  it('creates .mlproj and is harmless the second time', async () => {
    const first = await mlprojJson<{dir: string; created: boolean}>(['init'], {cwd: dir})
    expect(first.code).toBe(0)
    expect(first.json).toEqual({dir: join(dir, '.mlproj'), created: true})
    const second = await mlprojJson<{created: boolean}>(['init'], {cwd: dir})
    expect(second.json.created).toBe(false)
    expect((await readdir(join(dir, '.mlproj'))).sort()).toEqual(
      expect.arrayContaining(['README.md', 'artifacts', 'mlproj.db', 'predictions', 'tables']),
    )
  })
})

describe('train', () => {
  let iris: TrainDoc

  beforeAll(async () => {
    const r = await mlprojJson<TrainDoc>(
      ['train', dataset('iris.csv'), '--target', 'species', '--experiment', 'flowers'],
      {cwd: dir},
    )
    expect(r.code).toBe(0)
    iris = r.json
  })

  it('infers classification for a text target and picks logistic', () => {
    expect(iris.task).toBe('classification')
    expect(iris.algo).toBe('logistic')
    expect(iris.experiment).toBe('flowers')
    expect(iris.runName).toBe('logistic-1')
  })

  it('reports metrics on the held-out and training splits', () => {
    expect(Object.keys(iris.metrics).sort()).toEqual(['test', 'train'])
    expect(iris.metrics.test.accuracy).toBeGreaterThan(0.85)
    expect(iris.metrics.test).toHaveProperty('auc')
    expect(iris.metrics.test).toHaveProperty('log_loss')
  })

  it('records resolved params with defaults, and the dataset fingerprint', async () => {
    expect(iris.params).toEqual({c: 1, maxIter: 100, tol: 0.0001, fitIntercept: true})
    const sha = createHash('sha256')
      .update(await readFile(dataset('iris.csv')))
      .digest('hex')
    expect(iris.dataset).toMatchObject({rows: 150, sha256: sha, target: 'species', task: 'classification'})
    expect(iris.dataset.schema).toHaveLength(5)
  })

  it('writes model.onnx and its signature into the run folder', async () => {
    const signature = JSON.parse(await readFile(iris.artifacts.signature, 'utf8'))
    expect(signature.inputs.map((i: {name: string}) => i.name)).toEqual([
      'sepal length (cm)',
      'sepal width (cm)',
      'petal length (cm)',
      'petal width (cm)',
    ])
    expect(signature.classes).toEqual(['setosa', 'versicolor', 'virginica'])
    expect((await readFile(iris.artifacts.model)).length).toBeGreaterThan(100)
  })

  it('keeps stdout a single JSON document and progress on stderr', async () => {
    const r = await mlproj(['train', dataset('iris.csv'), '--target', 'species', '--json'], {cwd: dir})
    expect(() => JSON.parse(r.stdout)).not.toThrow()
    expect(r.stderr).toContain('task: classification (inferred')
  })

  it('prints nothing on stderr with --quiet', async () => {
    const r = await mlproj(['train', dataset('iris.csv'), '--target', 'species', '--quiet'], {cwd: dir})
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toContain('accuracy')
  })

  it('writes byte-identical model.onnx for the same data and seed', async () => {
    const args = ['train', dataset('penguins.csv'), '--target', 'species', '--seed', '3']
    const a = await mlprojJson<TrainDoc>(args, {cwd: dir})
    const b = await mlprojJson<TrainDoc>(args, {cwd: dir})
    expect(a.json.runId).not.toBe(b.json.runId)
    expect((await readFile(a.json.artifacts.model)).equals(await readFile(b.json.artifacts.model))).toBe(true)
  })

  it('infers regression for a numeric target and picks linear', async () => {
    const r = await mlprojJson<TrainDoc>(['train', dataset('diabetes.csv'), '--target', 'progression'], {cwd: dir})
    expect(r.json.task).toBe('regression')
    expect(r.json.algo).toBe('linear')
    expect(Object.keys(r.json.metrics.test).sort()).toEqual(['mae', 'mape', 'r2', 'rmse'])
  })

  it('treats a numeric target with two values as classification, and --task overrides', async () => {
    const path = join(dir, 'binary.csv')
    await writeFile(path, `x,y\n${Array.from({length: 40}, (_, i) => `${i},${i % 2}`).join('\n')}\n`)
    const inferred = await mlprojJson<TrainDoc>(['train', path, '--target', 'y'], {cwd: dir})
    expect(inferred.json.task).toBe('classification')
    const forced = await mlprojJson<TrainDoc>(['train', path, '--target', 'y', '--task', 'regression'], {cwd: dir})
    expect(forced.json.task).toBe('regression')
  })

  it('uses --features and --ignore to choose columns', async () => {
    const some = await mlprojJson<{signature: {inputs: Array<{name: string}>}}>(
      ['train', dataset('penguins.csv'), '--target', 'species', '--features', 'island,bill_length_mm'],
      {cwd: dir},
    )
    expect(some.json.signature.inputs.map(i => i.name)).toEqual(['island', 'bill_length_mm'])
    const rest = await mlprojJson<{signature: {inputs: Array<{name: string}>}}>(
      ['train', dataset('penguins.csv'), '--target', 'species', '--ignore', 'year,sex'],
      {cwd: dir},
    )
    expect(rest.json.signature.inputs.map(i => i.name)).toEqual([
      'island',
      'bill_length_mm',
      'bill_depth_mm',
      'flipper_length_mm',
      'body_mass_g',
    ])
  })

  it('accepts --param in camelCase and kebab-case and records it', async () => {
    const r = await mlprojJson<TrainDoc>(
      ['train', dataset('iris.csv'), '--target', 'species', '--param', 'c=0.1', '--param', 'max-iter=50'],
      {cwd: dir},
    )
    expect(r.json.params).toMatchObject({c: 0.1, maxIter: 50})
  })

  it('records --tag labels with the run', async () => {
    const r = await mlprojJson<TrainDoc>(
      ['train', dataset('iris.csv'), '--target', 'species', '--tag', 'owner=ana', '--tag', 'ticket=ML-42'],
      {cwd: dir},
    )
    const shown = await mlprojJson<{tags: Record<string, string>}>(['runs', 'show', r.json.runId], {cwd: dir})
    expect(shown.json.tags).toEqual({owner: 'ana', ticket: 'ML-42'})
  })

  it('reads the table from stdin with -', async () => {
    const r = await mlprojJson<TrainDoc>(['train', '-', '--target', 'species'], {
      cwd: dir,
      input: await readFile(dataset('iris.csv')),
    })
    expect(r.code).toBe(0)
    expect(r.json.dataset).toMatchObject({path: 'stdin', rows: 150})
  })

  it('creates a workspace in the current folder when none is found, and says so', async () => {
    const fresh = await tempDir()
    const r = await mlprojJson<TrainDoc>(['train', dataset('iris.csv'), '--target', 'species'], {cwd: fresh})
    expect(r.json.workspace).toEqual({dir: join(fresh, '.mlproj'), created: true})
    expect(r.stderr).toContain(`created a workspace in ${join(fresh, '.mlproj')}`)
  })

  it('finds the workspace from a subfolder, or through MLPROJ_WORKSPACE', async () => {
    const sub = join(dir, 'sub')
    await import('node:fs/promises').then(fs => fs.mkdir(sub, {recursive: true}))
    const walked = await mlprojJson<TrainDoc>(['train', dataset('iris.csv'), '--target', 'species'], {cwd: sub})
    expect(walked.json.workspace.dir).toBe(join(dir, '.mlproj'))
    const elsewhere = await tempDir()
    const viaEnv = await mlprojJson<{runs: unknown[]}>(['runs', 'list'], {cwd: elsewhere, env: {MLPROJ_WORKSPACE: dir}})
    expect(viaEnv.code).toBe(0)
    expect(viaEnv.json.runs.length).toBeGreaterThan(3)
  })
})

describe('save, evaluate and the registry', () => {
  let runId: string

  beforeAll(async () => {
    const r = await mlprojJson<TrainDoc>(
      ['train', dataset('breast_cancer.csv'), '--target', 'diagnosis', '--experiment', 'cancer'],
      {cwd: dir},
    )
    runId = r.json.runId
  })

  it('registers versions and moves an alias', async () => {
    const v1 = await mlprojJson<{version: number; aliases: string[]}>(
      ['save', runId, '--name', 'cancer', '--alias', 'production'],
      {cwd: dir},
    )
    expect(v1.json).toMatchObject({version: 1, aliases: ['production']})
    const v2 = await mlprojJson<{version: number}>(
      ['save', runId.slice(0, 6), '--name', 'cancer', '--alias', 'production'],
      {cwd: dir},
    )
    expect(v2.json.version).toBe(2)
    const shown = await mlprojJson<{
      aliases: Record<string, number>
      versions: Array<{version: number; aliases: string[]}>
    }>(['models', 'show', 'cancer'], {cwd: dir})
    expect(shown.json.aliases).toEqual({production: 2})
    expect(shown.json.versions.map(v => [v.version, v.aliases])).toEqual([
      [2, ['production']],
      [1, []],
    ])
  })

  it('evaluates by alias, version and run, recording each evaluation', async () => {
    for (const ref of ['cancer@production', 'cancer:1', 'cancer', `run:${runId}`]) {
      const r = await mlprojJson<{metrics: Record<string, number>; passed: boolean; model: {version: number | null}}>(
        ['evaluate', ref, dataset('breast_cancer.csv')],
        {cwd: dir},
      )
      expect(r.code).toBe(0)
      expect(r.json.passed).toBe(true)
      expect(r.json.metrics.accuracy).toBeGreaterThan(0.95)
    }
    const shown = await mlprojJson<{evaluations: Array<{modelVersion: number}>}>(['models', 'show', 'cancer'], {
      cwd: dir,
    })
    expect(shown.json.evaluations.map(e => e.modelVersion)).toEqual([2, 1, 2])
  })

  it('reports per-class figures and the confusion matrix', async () => {
    const r = await mlprojJson<{
      details: {confusionMatrix: number[][]; labels: string[]; perClass: Array<{support: number}>}
    }>(['evaluate', 'cancer', dataset('breast_cancer.csv')], {cwd: dir})
    expect(r.json.details.labels).toEqual(['benign', 'malignant'])
    expect(r.json.details.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(569)
    expect(r.json.details.perClass.map(c => c.support)).toEqual([357, 212])
  })

  it('exits 6 naming the failed gate, and 0 when every gate holds', async () => {
    const failed = await mlprojJson<{passed: boolean; gates: Array<{expression: string; failed: boolean}>}>(
      ['evaluate', 'cancer', dataset('breast_cancer.csv'), '--fail-if', 'accuracy<0.999', '--fail-if', 'auc<0.5'],
      {cwd: dir},
    )
    expect(failed.code).toBe(6)
    expect(failed.json.passed).toBe(false)
    expect(failed.json.gates.map(g => [g.expression, g.failed])).toEqual([
      ['accuracy<0.999', true],
      ['auc<0.5', false],
    ])
    expect(failed.stderr).toContain('gate FAILED: accuracy<0.999')
    const passed = await mlproj(['evaluate', 'cancer', dataset('breast_cancer.csv'), '--fail-if', 'auc<0.9'], {
      cwd: dir,
    })
    expect(passed.code).toBe(0)
  })

  it('imports an ONNX model trained elsewhere and evaluates it with named columns', async () => {
    const file = join(dir, 'foreign.onnx')
    await writeFile(file, foreignIrisModel())
    const columns = 'sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)'
    const saved = await mlprojJson<{
      version: number
      source: string
      signature: {inputs: Array<{name: string; index: number}>; task: string}
    }>(['save', '--onnx', file, '--name', 'foreign', '--columns', columns, '--target', 'class'], {cwd: dir})
    expect(saved.code).toBe(0)
    expect(saved.json.source).toBe('import')
    expect(saved.json.signature.task).toBe('classification')
    expect(saved.json.signature.inputs.map(i => [i.name, i.index])).toEqual(columns.split(',').map((c, k) => [c, k]))
    const data = join(dir, 'iris-coded.csv')
    const iris = (await readFile(dataset('iris.csv'), 'utf8'))
      .replaceAll(',setosa', ',0')
      .replaceAll(',versicolor', ',1')
      .replaceAll(',virginica', ',2')
    await writeFile(data, iris.replace('species', 'class'))
    const evaluated = await mlprojJson<{metrics: Record<string, number>}>(['evaluate', 'foreign', data], {cwd: dir})
    expect(evaluated.code).toBe(0)
    expect(evaluated.json.metrics.accuracy).toBeGreaterThan(0.6)
  })

  it('refuses --onnx that is not an ONNX model (exit 4), and save without a source (exit 2)', async () => {
    const bad = await mlprojJson<{error: {code: string}}>(['save', '--onnx', dataset('iris.csv'), '--name', 'x'], {
      cwd: dir,
    })
    expect(bad.code).toBe(4)
    const none = await mlprojJson<{error: {code: string}}>(['save', '--name', 'x'], {cwd: dir})
    expect(none.code).toBe(2)
  })

  it('lists models with latest version and aliases', async () => {
    const r = await mlprojJson<{models: Array<{name: string; latestVersion: number; aliases: Record<string, number>}>}>(
      ['models', 'list'],
      {cwd: dir},
    )
    expect(r.json.models.find(m => m.name === 'cancer')).toMatchObject({latestVersion: 2, aliases: {production: 2}})
  })
})

describe('runs', () => {
  it('lists runs of an experiment sorted by a metric, best first', async () => {
    await mlproj(['train', dataset('wine.csv'), '--target', 'cultivar', '--experiment', 'wine', '--param', 'c=0.001'], {
      cwd: dir,
    })
    await mlproj(['train', dataset('wine.csv'), '--target', 'cultivar', '--experiment', 'wine'], {cwd: dir})
    const r = await mlprojJson<{runs: Array<{experiment: string; metrics: {test: {accuracy: number}}}>}>(
      ['runs', 'list', '--experiment', 'wine', '--sort', 'accuracy'],
      {cwd: dir},
    )
    expect(r.json.runs).toHaveLength(2)
    expect(r.json.runs.every(run => run.experiment === 'wine')).toBe(true)
    expect(r.json.runs[0]!.metrics.test.accuracy).toBeGreaterThanOrEqual(r.json.runs[1]!.metrics.test.accuracy)
    const worstFirst = await mlprojJson<{runs: Array<{metrics: {test: {log_loss: number}}}>}>(
      ['runs', 'list', '--experiment', 'wine', '--sort', '-log_loss'],
      {cwd: dir},
    )
    expect(worstFirst.json.runs[0]!.metrics.test.log_loss).toBeGreaterThan(
      worstFirst.json.runs[1]!.metrics.test.log_loss,
    )
  })

  it('shows a run by id prefix, and refuses unknown experiments and runs', async () => {
    const list = await mlprojJson<{runs: Array<{id: string}>}>(['runs', 'list', '--limit', '1'], {cwd: dir})
    const id = list.json.runs[0]!.id
    const shown = await mlprojJson<{id: string; status: string; params: object}>(['runs', 'show', id.slice(0, 5)], {
      cwd: dir,
    })
    expect(shown.json).toMatchObject({id, status: 'finished'})
    expect((await mlproj(['runs', 'list', '--experiment', 'nope'], {cwd: dir})).code).toBe(2)
    expect((await mlproj(['runs', 'show', 'ffffffffffff'], {cwd: dir})).code).toBe(4)
  })

  it('records a failed run with its error', async () => {
    const bad = join(dir, 'oneclass.csv')
    await writeFile(bad, 'x,y\n1,a\n2,a\n3,a\n')
    expect((await mlproj(['train', bad, '--target', 'y', '--experiment', 'broken'], {cwd: dir})).code).toBe(3)
    const r = await mlprojJson<{runs: Array<{status: string; error: {code: string; message: string}}>}>(
      ['runs', 'list', '--experiment', 'broken'],
      {cwd: dir},
    )
    expect(r.json.runs).toHaveLength(1)
    expect(r.json.runs[0]).toMatchObject({status: 'failed', error: {code: 'E_DATA_SINGLE_CLASS'}})
  })
})
