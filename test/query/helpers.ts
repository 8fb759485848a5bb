// A real workspace for the query tests, with models trained in-process from data/*.csv: penguins (multiclass, text
// labels, categorical columns with missing values; logistic and gbdt), cancer (binary), diabetes (regression) and
// gentoo (binary with 0/1 integer labels), plus data files in a data/ folder beside it.
import {copyFile, mkdir, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll} from 'vitest'
import {duckdb, literal} from '../../src/data/duckdb.js'
import {type QueryOptions, type QueryResult, query} from '../../src/services/query.js'
import {train} from '../../src/services/train.js'
import {dataset} from '../helpers/cli.js'

export interface QueryWorkspace {
  /** The project folder holding .mlproj and data/. */
  readonly dir: string
  /** A file in dir/data. */
  file(name: string): string
  /** Runs the query service in the workspace (the current directory is the project folder). */
  run(sql: string, options?: Partial<QueryOptions>): Promise<QueryResult>
}

interface Model {
  readonly name: string
  readonly data: string
  readonly target: string
  readonly algo?: string
  readonly params?: readonly string[]
  readonly alias?: string
  readonly experiment?: string
}

const MODELS: readonly Model[] = [
  {name: 'penguins', data: 'penguins.csv', target: 'species', alias: 'production', experiment: 'penguins'},
  {
    name: 'penguins-gbdt',
    data: 'penguins.csv',
    target: 'species',
    algo: 'gbdt',
    params: ['nEstimators=20'],
    experiment: 'penguins',
  },
  {name: 'cancer', data: 'breast_cancer.csv', target: 'diagnosis', alias: 'production'},
  {name: 'diabetes', data: 'diabetes.csv', target: 'progression'},
  {name: 'gentoo', data: 'gentoo.csv', target: 'is_gentoo', algo: 'forest', params: ['nEstimators=10']},
]

/** Creates the workspace, trains the models (names: penguins, penguins-gbdt, cancer, diabetes, gentoo). */
export async function queryWorkspace(models: readonly string[] = MODELS.map(m => m.name)): Promise<QueryWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), 'mlproj-query-test-'))
  afterAll(() => rm(dir, {recursive: true, force: true}))
  const data = join(dir, 'data')
  await mkdir(data)
  for (const name of ['penguins.csv', 'breast_cancer.csv', 'diabetes.csv', 'iris.csv']) {
    await copyFile(dataset(name), join(data, name))
  }
  const con = await duckdb()
  await con.run(
    `COPY (SELECT * EXCLUDE (species), (species = 'Gentoo')::INTEGER AS is_gentoo FROM read_csv(${literal(join(data, 'penguins.csv'))}))
     TO ${literal(join(data, 'gentoo.csv'))} (HEADER true)`,
  )
  const workspace = {explicit: dir, create: true}
  for (const model of MODELS.filter(m => models.includes(m.name))) {
    await train({
      workspace,
      data: join(data, model.data),
      target: model.target,
      algo: model.algo,
      testSize: 0.2,
      seed: 42,
      params: model.params ?? [],
      experiment: model.experiment ?? 'default',
      save: model.name,
      aliases: model.alias ? [model.alias] : [],
    })
  }
  return {
    dir,
    file: name => join(data, name),
    run: (sql, options = {}) => inDir(dir, () => query({workspace: {explicit: dir}, sql, ...options})),
  }
}

/** Runs `fn` with `dir` as the current directory (file paths in SQL are relative to it). */
export async function inDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.cwd()
  process.chdir(dir)
  try {
    return await fn()
  } finally {
    process.chdir(before)
  }
}

/** The rows of a --json-style result. */
export async function rowsOf(
  ws: QueryWorkspace,
  sql: string,
  options: Partial<QueryOptions> = {},
): Promise<Array<Record<string, unknown>>> {
  const result = await ws.run(sql, {json: true, ...options})
  return [...(result.rows ?? [])]
}
