// Every bad input of the foundation issue: a message naming the file / column / line, a hint, the
// documented exit code, no run left "running" and no partial artifact in the workspace.
import {chmod, readdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {dataset, mlproj, mlprojJson, tempDir} from '../helpers/cli.js'

interface ErrorDoc {
  error: {code: string; message: string; hint?: string; exitCode: number; details?: Record<string, unknown>}
}

let dir: string

async function write(name: string, content: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

async function expectCleanWorkspace(): Promise<void> {
  const {json} = await mlprojJson<{runs: Array<{status: string; id: string}>}>(['runs', 'list'], {cwd: dir})
  expect(json.runs.filter(r => r.status === 'running')).toEqual([])
  const finished = new Set(json.runs.filter(r => r.status === 'finished').map(r => r.id))
  const artifacts = await readdir(join(dir, '.mlproj', 'artifacts'))
  for (const name of artifacts) expect(finished.has(name) || name.startsWith('import-')).toBe(true)
}

beforeAll(async () => {
  dir = await tempDir()
  const init = await mlproj(['init'], {cwd: dir})
  expect(init.code).toBe(0)
})

describe('train refuses bad input', () => {
  it('names a missing file and exits 3', async () => {
    const r = await mlprojJson<ErrorDoc>(['train', 'nope.csv', '--target', 'y'], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_NOT_FOUND')
    expect(r.json.error.message).toContain('nope.csv')
    expect(r.json.error.hint).toBeTruthy()
    await expectCleanWorkspace()
  })

  it('refuses an empty file', async () => {
    const path = await write('empty.csv', '')
    const r = await mlprojJson<ErrorDoc>(['train', path, '--target', 'y'], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_EMPTY')
    expect(r.json.error.message).toContain('empty.csv')
    await expectCleanWorkspace()
  })

  it('refuses a file with a header and no rows', async () => {
    const path = await write('header.csv', 'a,b,y\n')
    const r = await mlprojJson<ErrorDoc>(['train', path, '--target', 'y'], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_NO_ROWS')
    await expectCleanWorkspace()
  })

  it('lists the columns when the target is absent', async () => {
    const r = await mlprojJson<ErrorDoc>(['train', dataset('iris.csv'), '--target', 'kind'], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_MISSING_COLUMN')
    expect(r.json.error.message).toContain('"kind"')
    expect(r.json.error.hint).toContain('sepal length (cm)')
    expect(r.json.error.hint).toContain('species')
    await expectCleanWorkspace()
  })

  it('refuses a target that is missing in every row', async () => {
    const path = await write('nolabel.csv', 'a,b,y\n1,2,\n3,4,NA\n5,6,null\n')
    const r = await mlprojJson<ErrorDoc>(['train', path, '--target', 'y'], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_TARGET_MISSING')
    await expectCleanWorkspace()
  })

  it('refuses a classification target with a single class', async () => {
    const path = await write('oneclass.csv', 'a,b,y\n1,2,yes\n3,4,yes\n5,6,yes\n7,8,yes\n')
    const r = await mlprojJson<ErrorDoc>(['train', path, '--target', 'y'], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_SINGLE_CLASS')
    expect(r.json.error.message).toContain('"yes"')
    await expectCleanWorkspace()
  })

  it('refuses --task regression with a classification-only --algo as a usage error', async () => {
    const r = await mlprojJson<ErrorDoc>(
      ['train', dataset('iris.csv'), '--target', 'species', '--task', 'regression', '--algo', 'logistic'],
      {cwd: dir},
    )
    expect(r.code).toBe(2)
    expect(r.json.error.code).toBe('E_USAGE_ALGO')
    expect(r.json.error.hint).toContain('linear')
    await expectCleanWorkspace()
  })

  it('refuses a text target for regression with the default algorithm, naming a value', async () => {
    const path = await write('textreg.csv', 'a,y\n1,low\n2,high\n3,mid\n4,low\n')
    const r = await mlprojJson<ErrorDoc>(['train', path, '--target', 'y', '--task', 'regression'], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_TARGET_TYPE')
    expect(r.json.error.message).toContain('"y"')
    expect(r.json.error.hint).toContain('--task classification')
    await expectCleanWorkspace()
  })

  it('names the line of an unterminated quote', async () => {
    const path = await write('badquote.csv', 'a,b,y\n1,2,x\n3,"4,y\n5,6,x\n7,8,y\n')
    const r = await mlprojJson<ErrorDoc>(['train', path, '--target', 'y'], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_MALFORMED')
    expect(r.json.error.message).toContain('line 3')
    expect(r.json.error.details?.line).toBe(3)
    await expectCleanWorkspace()
  })

  it('refuses an unknown --algo as a usage error listing the valid ones', async () => {
    const r = await mlprojJson<ErrorDoc>(['train', dataset('iris.csv'), '--target', 'species', '--algo', 'svm'], {
      cwd: dir,
    })
    expect(r.code).toBe(2)
    expect(r.json.error.code).toBe('E_USAGE_ALGO')
    expect(r.json.error.hint).toContain('logistic')
    await expectCleanWorkspace()
  })

  it('refuses an unknown --param as a usage error listing the valid keys', async () => {
    const r = await mlprojJson<ErrorDoc>(
      ['train', dataset('iris.csv'), '--target', 'species', '--param', 'learningRate=0.1'],
      {cwd: dir},
    )
    expect(r.code).toBe(2)
    expect(r.json.error.code).toBe('E_USAGE_PARAM')
    expect(r.json.error.hint).toContain('maxIter')
    await expectCleanWorkspace()
  })

  it('refuses duplicate column names, naming them', async () => {
    const path = await write('dup.csv', 'a,b,a,y\n1,2,3,x\n4,5,6,y\n')
    const r = await mlprojJson<ErrorDoc>(['train', path, '--target', 'y'], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_DUPLICATE_COLUMN')
    expect(r.json.error.message).toContain('"a"')
    await expectCleanWorkspace()
  })

  it('exits 5 when the workspace cannot be written', async () => {
    const readonlyDir = await tempDir()
    expect((await mlproj(['init'], {cwd: readonlyDir})).code).toBe(0)
    await chmod(join(readonlyDir, '.mlproj'), 0o555)
    await chmod(join(readonlyDir, '.mlproj', 'artifacts'), 0o555)
    try {
      const r = await mlprojJson<ErrorDoc>(['train', dataset('iris.csv'), '--target', 'species'], {cwd: readonlyDir})
      if (process.getuid?.() === 0) {
        // root ignores permission bits; the check is meaningful for every other user
        expect([0, 5]).toContain(r.code)
      } else {
        expect(r.code).toBe(5)
        expect(r.json.error.code).toBe('E_ENV_WORKSPACE_UNWRITABLE')
      }
    } finally {
      await chmod(join(readonlyDir, '.mlproj', 'artifacts'), 0o755)
      await chmod(join(readonlyDir, '.mlproj'), 0o755)
    }
  })

  it('exits 5 when the workspace folder is a file', async () => {
    const r = await mlprojJson<ErrorDoc>(
      ['train', dataset('iris.csv'), '--target', 'species', '--workspace', dataset('iris.csv')],
      {cwd: dir},
    )
    expect(r.code).toBe(5)
    expect(r.json.error.code).toBe('E_ENV_WORKSPACE_UNWRITABLE')
  })
})

describe('evaluate refuses bad input', () => {
  beforeAll(async () => {
    const r = await mlproj(['train', dataset('iris.csv'), '--target', 'species', '--save', 'iris'], {cwd: dir})
    expect(r.code).toBe(0)
  })

  it('exits 4 for a model that does not exist, listing the registered ones', async () => {
    const r = await mlprojJson<ErrorDoc>(['evaluate', 'churn@production', dataset('iris.csv')], {cwd: dir})
    expect(r.code).toBe(4)
    expect(r.json.error.code).toBe('E_MODEL_NOT_FOUND')
    expect(r.json.error.hint).toContain('iris')
  })

  it('exits 4 for an alias or version that does not exist', async () => {
    const alias = await mlprojJson<ErrorDoc>(['evaluate', 'iris@production', dataset('iris.csv')], {cwd: dir})
    expect(alias.code).toBe(4)
    expect(alias.json.error.message).toContain('@production')
    const version = await mlprojJson<ErrorDoc>(['evaluate', 'iris:9', dataset('iris.csv')], {cwd: dir})
    expect(version.code).toBe(4)
    expect(version.json.error.hint).toContain('versions: 1')
  })

  it('exits 4 when the data lacks a column the model needs, naming it', async () => {
    const path = await write(
      'iris-missing.csv',
      'sepal length (cm),sepal width (cm),petal length (cm),species\n5.1,3.5,1.4,setosa\n',
    )
    const r = await mlprojJson<ErrorDoc>(['evaluate', 'iris', path], {cwd: dir})
    expect(r.code).toBe(4)
    expect(r.json.error.code).toBe('E_MODEL_SIGNATURE')
    expect(r.json.error.message).toContain('"petal width (cm)"')
  })

  it('exits 3 when the data lacks the target column', async () => {
    const path = await write(
      'iris-nolabel.csv',
      'sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n5.1,3.5,1.4,0.2\n',
    )
    const r = await mlprojJson<ErrorDoc>(['evaluate', 'iris', path], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.hint).toContain('--target')
  })

  it('exits 3 naming row, line and value when a numeric column holds text', async () => {
    const path = await write(
      'iris-text.csv',
      'sepal length (cm),sepal width (cm),petal length (cm),petal width (cm),species\n5.1,3.5,1.4,0.2,setosa\n4.9,wide,1.4,0.2,setosa\n',
    )
    const r = await mlprojJson<ErrorDoc>(['evaluate', 'iris', path], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_TYPE')
    expect(r.json.error.message).toContain('"sepal width (cm)"')
    expect(r.json.error.message).toContain('line 3')
    expect(r.json.error.message).toContain('"wide"')
  })

  it('exits 2 for a malformed quality gate', async () => {
    const r = await mlprojJson<ErrorDoc>(['evaluate', 'iris', dataset('iris.csv'), '--fail-if', 'accuracy is low'], {
      cwd: dir,
    })
    expect(r.code).toBe(2)
  })

  it('exits 2 for an MLPROJ_THREADS that is not a whole number ≥ 1, before a run starts', async () => {
    const before = await mlprojJson<unknown[]>(['runs', 'list'], {cwd: dir})
    for (const value of ['0', 'two', '1.5']) {
      const r = await mlprojJson<ErrorDoc>(['train', dataset('iris.csv'), '--target', 'species', '--algo', 'tree'], {
        cwd: dir,
        env: {MLPROJ_THREADS: value},
      })
      expect(r.code).toBe(2)
      expect(r.json.error.code).toBe('E_USAGE_THREADS')
      expect(r.json.error.message).toContain(`MLPROJ_THREADS="${value}"`)
    }
    expect((await mlprojJson<unknown[]>(['runs', 'list'], {cwd: dir})).json).toEqual(before.json)
  })

  it('exits 5 outside any workspace', async () => {
    const empty = await tempDir()
    const r = await mlprojJson<ErrorDoc>(['evaluate', 'iris', dataset('iris.csv')], {cwd: empty})
    expect(r.code).toBe(5)
    expect(r.json.error.code).toBe('E_ENV_NO_WORKSPACE')
    expect(r.json.error.hint).toContain('mlproj init')
  })
})

describe('human-readable errors', () => {
  it('go to stderr with a hint, leaving stdout empty', async () => {
    const r = await mlproj(['train', dataset('iris.csv'), '--target', 'kind'], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^Error: target column "kind" is not in /m)
    expect(r.stderr).toMatch(/^Hint: columns are: /m)
  })

  it('treat a missing required flag as a usage error (exit 2)', async () => {
    const r = await mlproj(['train', dataset('iris.csv')], {cwd: dir})
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--target')
  })
})
