// The query service on a real workspace: every kind of table, predict() and predict_proba() in every clause, their
// SQL types, outputs, --save-as, and the errors with their classes (which decide the exit codes).
import {existsSync} from 'node:fs'
import {copyFile, mkdir, readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import Database from 'better-sqlite3'
import {beforeAll, describe, expect, it} from 'vitest'
import {duckdb, literal} from '../../src/data/duckdb.js'
import {DataError, EnvironmentError, ModelError, UsageError} from '../../src/errors.js'
import {evaluate} from '../../src/services/evaluate.js'
import {query} from '../../src/services/query.js'
import {listTables} from '../../src/services/tables.js'
import {tempDir} from '../helpers/cli.js'
import {inDir, type QueryWorkspace, queryWorkspace, rowsOf} from './helpers.js'

let ws: QueryWorkspace

beforeAll(async () => {
  ws = await queryWorkspace()
})

const PENGUINS = "'data/penguins.csv'"

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the promise to reject')
}

describe('tables', () => {
  it('reads a CSV file named in FROM', async () => {
    const rows = await rowsOf(ws, `SELECT species, count(*) AS n FROM ${PENGUINS} GROUP BY species ORDER BY species`)
    expect(rows).toEqual([
      {species: 'Adelie', n: 152},
      {species: 'Chinstrap', n: 68},
      {species: 'Gentoo', n: 124},
    ])
  })

  it('reads Parquet files and globs', async () => {
    const con = await duckdb()
    await con.run(
      `COPY (SELECT * FROM read_csv(${literal(ws.file('iris.csv'))})) TO ${literal(ws.file('iris.parquet'))}`,
    )
    await mkdir(ws.file('parts'), {recursive: true})
    for (const part of ['a', 'b']) await copyFile(ws.file('penguins.csv'), ws.file(`parts/${part}.csv`))
    const rows = await rowsOf(
      ws,
      `SELECT (SELECT count(*) FROM 'data/iris.parquet') AS parquet, count(*) AS csv FROM 'data/parts/*.csv'`,
    )
    expect(rows).toEqual([{parquet: 150, csv: 2 * 344}])
  })

  it('answers "which run had the best accuracy in experiment penguins" with one query on runs', async () => {
    const rows = await rowsOf(
      ws,
      `SELECT algo, metrics.accuracy, train_metrics.accuracy AS train_accuracy, params.nEstimators
       FROM runs WHERE experiment = 'penguins' ORDER BY metrics.accuracy DESC, algo LIMIT 5`,
    )
    expect(rows.map(r => r.algo).sort()).toEqual(['gbdt', 'logistic'])
    expect(rows.find(r => r.algo === 'gbdt')).toMatchObject({nEstimators: 20})
    expect(rows.find(r => r.algo === 'logistic')).toMatchObject({nEstimators: null})
    expect(rows[0]!.accuracy as number).toBeGreaterThanOrEqual(rows[1]!.accuracy as number)
    expect(rows[0]!.train_accuracy).toEqual(expect.any(Number))
  })

  it('types runs columns: timestamps, a struct per metric split, params by their values', async () => {
    const result = await ws.run('SELECT * FROM runs', {json: true})
    const types = Object.fromEntries(result.columns.map(c => [c.name, c.type]))
    expect(types).toMatchObject({started_at: 'TIMESTAMP', duration_ms: 'BIGINT', tags: 'MAP(VARCHAR, VARCHAR)'})
    expect(types.metrics).toMatch(/^STRUCT\(.*"accuracy" DOUBLE/)
    expect(types.params).toMatch(/"nEstimators" DOUBLE/)
    expect(result.rowCount).toBe(5)
  })

  it('reads models and model_versions, with aliases and signatures', async () => {
    const models = await rowsOf(ws, `SELECT name, latest_version, aliases FROM models WHERE name = 'penguins'`)
    expect(models).toEqual([{name: 'penguins', latest_version: 1, aliases: {production: 1}}])
    const versions = await rowsOf(
      ws,
      `SELECT v.ref, v.target, v.classes, r.algo FROM model_versions v JOIN runs r ON r.id = v.run_id
       WHERE list_contains(v.aliases, 'production') ORDER BY v.ref`,
    )
    expect(versions).toEqual([
      {ref: 'cancer:1', target: 'diagnosis', classes: ['benign', 'malignant'], algo: 'logistic'},
      {ref: 'penguins:1', target: 'species', classes: ['Adelie', 'Chinstrap', 'Gentoo'], algo: 'logistic'},
    ])
  })

  it('reads the evaluations that evaluate recorded', async () => {
    const evaluation = await inDir(ws.dir, () =>
      evaluate({
        workspace: {explicit: ws.dir},
        model: 'cancer@production',
        data: ws.file('breast_cancer.csv'),
        gates: [],
      }),
    )
    const rows = await rowsOf(
      ws,
      `SELECT id, model_name, model_version, metrics.accuracy, passed FROM evaluations WHERE id = '${evaluation.evaluationId}'`,
    )
    expect(rows).toEqual([
      {
        id: evaluation.evaluationId,
        model_name: 'cancer',
        model_version: 1,
        accuracy: evaluation.metrics.accuracy,
        passed: true,
      },
    ])
  })

  it('reads the tables serve and predict-batch keep, column for column', async () => {
    // Rows are made from the schema as it is, so that the test holds whatever columns those commands add.
    const db = new Database(join(ws.dir, '.mlproj', 'mlproj.db'))
    try {
      for (const table of ['predictions_log', 'batch_jobs']) {
        const columns = db
          .prepare('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)')
          .all(table) as Array<{
          name: string
          type: string
          notnull: number
          dflt_value: string | null
          pk: number
        }>
        expect(columns.length).toBeGreaterThan(0)
        const needed = columns.filter(c => c.notnull && c.dflt_value === null && !(c.pk && /INT/i.test(c.type)))
        const value = (c: {name: string; type: string}) =>
          /INT/i.test(c.type)
            ? 1
            : /REAL|DOUB/i.test(c.type)
              ? 1.5
              : /_at$/.test(c.name)
                ? '2026-01-02T03:04:05.000Z'
                : c.name === 'status'
                  ? 'finished'
                  : '{"age": 30}'
        db.prepare(
          `INSERT INTO ${table} (${needed.map(c => `"${c.name}"`).join(', ')}) VALUES (${needed.map(() => '?').join(', ')})`,
        ).run(...needed.map(value))
      }
    } finally {
      db.close()
    }
    const log = await rowsOf(ws, 'SELECT count(*) AS n, max(created_at) AS at FROM predictions_log')
    expect(log).toEqual([{n: 1, at: '2026-01-02 03:04:05'}])
    expect(await rowsOf(ws, 'SELECT count(*) AS n FROM jobs')).toEqual([{n: 1}])
  })

  it('gets back a table that a pre-release workspace lacks, empty', async () => {
    const {dir} = await bareWorkspace()
    const db = new Database(join(dir, '.mlproj', 'mlproj.db'))
    db.exec('DROP TABLE IF EXISTS predictions_log')
    db.close()
    const result = await inDir(dir, () =>
      query({workspace: {explicit: dir}, sql: 'SELECT count(*) AS n FROM predictions_log', json: true}),
    )
    expect(result.rows).toEqual([{n: 0}])
  })
})

describe('predict and predict_proba', () => {
  it('return the label’s SQL type for classifiers and DOUBLE for regressors', async () => {
    const result = await ws.run(
      `SELECT predict('penguins', p) AS species, predict('gentoo', p) AS gentoo, predict('diabetes', {
         'age': 50, 'sex': 1, 'bmi': 25.5, 'bp': 90, 's1': 180, 's2': 100, 's3': 50, 's4': 4, 's5': 4.5, 's6': 90}) AS progression
       FROM ${PENGUINS} p LIMIT 1`,
      {json: true},
    )
    expect(result.columns).toEqual([
      {name: 'species', type: 'VARCHAR'},
      {name: 'gentoo', type: 'BIGINT'},
      {name: 'progression', type: 'DOUBLE'},
    ])
    expect(result.rows![0]).toMatchObject({species: 'Adelie', gentoo: 0, progression: expect.any(Number)})
  })

  it('give the positive class’s probability for a binary classifier and a map for multiclass', async () => {
    const result = await ws.run(
      `SELECT predict_proba('cancer@production', c) AS p, predict('cancer@production', c) AS label,
         predict_proba('penguins', c2) AS m
       FROM 'data/breast_cancer.csv' c, (FROM ${PENGUINS} LIMIT 1) c2 LIMIT 20`,
      {json: true},
    )
    expect(result.columns.map(c => c.type)).toEqual(['DOUBLE', 'VARCHAR', 'MAP(VARCHAR, DOUBLE)'])
    for (const row of result.rows!) {
      // classes are sorted (benign, malignant): the positive class is malignant.
      expect(row.label).toBe((row.p as number) >= 0.5 ? 'malignant' : 'benign')
      const m = row.m as Record<string, number>
      expect(Object.keys(m)).toEqual(['Adelie', 'Chinstrap', 'Gentoo'])
      expect(Object.values(m).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    }
  })

  it('work in WHERE', async () => {
    const rows = await rowsOf(
      ws,
      `SELECT count(*) AS n FROM ${PENGUINS} p WHERE predict('penguins', p) = 'Gentoo' AND predict_proba('penguins', p)['Gentoo'] > 0.5`,
    )
    expect(rows[0]!.n).toBeGreaterThan(110)
    expect(rows[0]!.n).toBeLessThanOrEqual(130)
  })

  it('work in GROUP BY and ORDER BY', async () => {
    const rows = await rowsOf(
      ws,
      `SELECT predict('penguins', p) AS predicted, count(*) AS n FROM ${PENGUINS} p
       GROUP BY predict('penguins', p) ORDER BY predict('penguins', p) DESC`,
    )
    expect(rows.map(r => r.predicted)).toEqual(['Gentoo', 'Chinstrap', 'Adelie'])
    expect(rows.reduce((a, r) => a + (r.n as number), 0)).toBe(344)
  })

  it('work in a JOIN condition, and give NULL for the missing side of an outer join', async () => {
    await writeFile(ws.file('labels.csv'), 'species,common_name\nAdelie,Adélie penguin\nGentoo,Gentoo penguin\n')
    const rows = await rowsOf(
      ws,
      `SELECT l.common_name, count(*) AS n FROM ${PENGUINS} p
       JOIN 'data/labels.csv' l ON l.species = predict('penguins', p) GROUP BY ALL ORDER BY ALL`,
    )
    expect(rows.map(r => r.common_name)).toEqual(['Adélie penguin', 'Gentoo penguin'])
    const outer = await rowsOf(
      ws,
      `SELECT l.species, predict('penguins', p) AS predicted FROM 'data/labels.csv' l
       LEFT JOIN (FROM ${PENGUINS} WHERE species = 'Adelie' LIMIT 1) p ON p.species = l.species ORDER BY l.species`,
    )
    expect(outer).toEqual([
      {species: 'Adelie', predicted: 'Adelie'},
      {species: 'Gentoo', predicted: null},
    ])
  })

  it('work in a CTE and CREATE TABLE AS', async () => {
    const rows = await rowsOf(
      ws,
      `CREATE TABLE scored AS SELECT *, predict('penguins', p) AS predicted FROM ${PENGUINS} p;
       WITH wrong AS (SELECT * FROM scored WHERE predicted <> species)
       SELECT (SELECT count(*) FROM scored) AS total, count(*) AS wrong FROM wrong`,
    )
    expect(rows[0]!.total).toBe(344)
    expect(rows[0]!.wrong).toBeLessThan(10)
  })

  it('take a struct of named columns, matched ignoring case, extra fields ignored', async () => {
    const rows = await rowsOf(
      ws,
      `SELECT predict('penguins', {'ISLAND': island, 'bill_length_mm': bill_length_mm, 'Bill_Depth_MM': bill_depth_mm,
         'flipper_length_mm': flipper_length_mm, 'body_mass_g': body_mass_g, 'sex': sex, 'year': year, 'extra': 1}) AS a,
         predict('penguins', p) AS b
       FROM ${PENGUINS} p`,
    )
    expect(rows.every(r => r.a === r.b)).toBe(true)
  })

  it('resolve each model once per query and report which version ran', async () => {
    const result = await ws.run(
      `SELECT predict('penguins@production', p), predict_proba('penguins@production', p) FROM ${PENGUINS} p LIMIT 1;
       SELECT predict('penguins', p) FROM ${PENGUINS} p LIMIT 1`,
    )
    expect(result.models.map(m => [m.ref, m.model])).toEqual([
      ['penguins@production', 'penguins:1'],
      ['penguins', 'penguins:1'],
    ])
  })

  it('refuse a row without a column the model needs, naming the column and the model', async () => {
    const error = await rejection(
      ws.run(`SELECT predict('penguins@production', {'island': island, 'sex': sex}) FROM ${PENGUINS}`),
    )
    expect(error).toBeInstanceOf(ModelError)
    expect((error as ModelError).code).toBe('E_MODEL_SIGNATURE')
    expect(error.message).toContain('model penguins:1 needs columns "bill_length_mm"')
    expect((error as ModelError).details).toMatchObject({
      model: 'penguins:1',
      missing: expect.arrayContaining(['year']),
    })
  })

  it('refuse an unknown model before running, pointing at it', async () => {
    const error = await rejection(ws.run(`SELECT 1;\nSELECT predict('churn@production', p) FROM ${PENGUINS} p`))
    expect(error).toBeInstanceOf(ModelError)
    expect((error as ModelError).code).toBe('E_MODEL_NOT_FOUND')
    expect((error as ModelError).details).toMatchObject({line: 2, column: 16})
  })

  it('refuse predict_proba on a regression model', async () => {
    const error = await rejection(ws.run(`SELECT predict_proba('diabetes', d) FROM 'data/diabetes.csv' d`))
    expect(error).toBeInstanceOf(ModelError)
    expect(error.message).toContain('regression model')
  })

  it('refuse text in a numeric column, naming it', async () => {
    await writeFile(
      ws.file('bad.csv'),
      'island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\nDream,long,18,190,3500,male,2008\n',
    )
    const error = await rejection(ws.run(`SELECT predict('penguins', b) FROM 'data/bad.csv' b`))
    expect(error).toBeInstanceOf(DataError)
    expect(error.message).toContain('column "bill_length_mm" holds "long"')
  })

  it('refuse a scalar where a row should be', async () => {
    const error = await rejection(ws.run(`SELECT predict('penguins', 42)`))
    expect(error).toBeInstanceOf(DataError)
    expect(error.message).toContain('needs a row or a struct')
  })
})

describe('output', () => {
  it('shows the first and last rows with the total count on a terminal', async () => {
    const result = await ws.run(`SELECT row_number() OVER () AS i FROM ${PENGUINS}`, {maxRows: 6})
    expect(result.preview!.rowCount).toBe(344)
    expect(result.preview!.head).toEqual([['1'], ['2'], ['3']])
    expect(result.preview!.tail).toEqual([['342'], ['343'], ['344']])
  })

  it('writes csv, json, jsonl and parquet files that read back the same', async () => {
    const sql = `SELECT species, predict('penguins', p) AS predicted, predict_proba('penguins', p)['Adelie'] AS p_adelie
                 FROM ${PENGUINS} p ORDER BY p_adelie DESC LIMIT 25`
    const expected = await rowsOf(ws, sql)
    for (const format of ['csv', 'json', 'jsonl', 'parquet'] as const) {
      const path = join(ws.dir, `out.${format}`)
      const result = await ws.run(sql, {output: path})
      expect(result.output).toEqual({path, format, rows: 25})
      const back = await rowsOf(ws, `SELECT * FROM '${path}'`)
      expect(back, format).toEqual(expected)
    }
    expect((await readFile(join(ws.dir, 'out.csv'), 'utf8')).split('\n')[0]).toBe('species,predicted,p_adelie')
  })

  it('writes a data format to stdout when asked', async () => {
    const out = new PassThrough()
    const chunks: Buffer[] = []
    out.on('data', (c: Buffer) => chunks.push(c))
    await ws.run(`SELECT species FROM ${PENGUINS} LIMIT 2`, {format: 'jsonl', stdout: out})
    expect(Buffer.concat(chunks).toString()).toBe('{"species":"Adelie"}\n{"species":"Adelie"}\n')
  })

  it('leaves an existing output file as it was when the query fails, and no temporary file', async () => {
    const path = join(ws.dir, 'keep.csv')
    await writeFile(path, 'old\n')
    await rejection(ws.run(`SELECT predict('penguins', {'x': 1})`, {output: path}))
    expect(await readFile(path, 'utf8')).toBe('old\n')
    expect((await readdir(ws.dir)).filter(f => f.includes('.tmp-'))).toEqual([])
  })

  it('refuses contradictory output flags as usage errors', async () => {
    for (const options of [
      {format: 'table' as const, output: join(ws.dir, 'x.csv')},
      {output: join(ws.dir, 'x.txt')},
      {json: true, format: 'csv' as const},
      {json: true, output: '-'},
      {format: 'parquet' as const, stdoutIsTTY: true},
    ]) {
      expect(await rejection(ws.run('SELECT 1', options)), JSON.stringify(options)).toBeInstanceOf(UsageError)
    }
  })
})

describe('--save-as', () => {
  it('saves the result as a table that later queries read by name', async () => {
    const saved = await ws.run(
      `SELECT p.*, predict('penguins@production', p) AS predicted FROM ${PENGUINS} p WHERE island = 'Biscoe'`,
      {saveAs: 'biscoe_scored'},
    )
    expect(saved.savedAs).toMatchObject({name: 'biscoe_scored', rows: 168, replaced: false})
    expect(saved.savedAs!.path).toBe(join(ws.dir, '.mlproj', 'tables', 'biscoe_scored.parquet'))
    expect(saved.preview!.rowCount).toBe(168)
    const rows = await rowsOf(ws, 'SELECT count(*) AS n, count(DISTINCT predicted) AS k FROM biscoe_scored')
    expect(rows).toEqual([{n: 168, k: 2}])
    const {saved: listed} = await listTables({workspace: {explicit: ws.dir}})
    expect(listed.find(t => t.name === 'biscoe_scored')).toMatchObject({
      rows: 168,
      models: ['penguins:1'],
      columns: expect.arrayContaining([{name: 'predicted', type: 'VARCHAR'}]),
    })
    expect((await readdir(join(ws.dir, '.mlproj', 'tables'))).filter(f => f.startsWith('.'))).toEqual([])
  })

  it('refuses to overwrite a saved table without --replace, and replaces it with', async () => {
    await ws.run('SELECT 1 AS a', {saveAs: 'once'})
    const error = await rejection(ws.run('SELECT 2 AS a', {saveAs: 'ONCE'}))
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).code).toBe('E_USAGE_TABLE_EXISTS')
    const replaced = await ws.run('SELECT 2 AS a', {saveAs: 'once', replace: true})
    expect(replaced.savedAs!.replaced).toBe(true)
    expect(await rowsOf(ws, 'SELECT a FROM once')).toEqual([{a: 2}])
  })

  it('refuses names that are not plain SQL names or belong to the workspace', async () => {
    for (const name of ['runs', 'Models', 'two words', '1st', 'a-b']) {
      expect(await rejection(ws.run('SELECT 1', {saveAs: name})), name).toBeInstanceOf(UsageError)
    }
  })
})

describe('SQL errors', () => {
  it('give DuckDB’s message and the line and column in the SQL as written', async () => {
    const sql = `SELECT 1;\nSELECT species,\n       nope FROM ${PENGUINS}`
    const error = await rejection(ws.run(sql))
    expect(error).toBeInstanceOf(DataError)
    expect((error as DataError).code).toBe('E_DATA_SQL')
    expect(error.message).toMatch(/^Binder Error: Referenced column "nope" not found/)
    expect((error as DataError).details).toMatchObject({line: 3, column: 8})
    expect(error.message).toContain('\n         nope FROM')
  })

  it('point at syntax errors inside a statement with a rewritten prediction call', async () => {
    const sql = `SELECT predict('diabetes', d), predict('penguins', p) FROM 'data/diabetes.csv' d, ${PENGUINS} p WHER 1`
    const error = await rejection(ws.run(sql))
    expect(error).toBeInstanceOf(DataError)
    expect((error as DataError).details).toMatchObject({offset: sql.indexOf('WHER')})
    expect(error.message).toContain('syntax error at or near "WHER"')
  })

  it('name the missing file', async () => {
    const error = await rejection(ws.run(`SELECT * FROM 'data/nope.csv'`))
    expect(error).toBeInstanceOf(DataError)
    expect(error.message).toContain('nope.csv')
  })

  it('are usage errors when there is no statement at all', async () => {
    expect(await rejection(ws.run(' -- nothing\n;'))).toBeInstanceOf(UsageError)
  })
})

describe('without a workspace', () => {
  it('queries files, and says a workspace is needed for models', async () => {
    const dir = await tempDir('mlproj-query-nows-')
    await writeFile(join(dir, 'x.csv'), 'a\n1\n2\n')
    const rows = await inDir(dir, () => query({workspace: {}, sql: `SELECT sum(a) AS s FROM 'x.csv'`, json: true}))
    expect(rows.rows).toEqual([{s: 3}])
    const error = await rejection(
      inDir(dir, () => query({workspace: {}, sql: `SELECT predict('m', t) FROM 'x.csv' t`})),
    )
    expect(error).toBeInstanceOf(EnvironmentError)
    expect(existsSync(join(dir, '.mlproj'))).toBe(false)
  })
})

async function bareWorkspace(): Promise<{dir: string}> {
  const dir = await tempDir('mlproj-query-bare-')
  const {initWorkspace} = await import('../../src/workspace/workspace.js')
  await initWorkspace(dir)
  return {dir}
}
