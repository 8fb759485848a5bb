// `mlproj query` and `mlproj tables list` as a user runs them: the built CLI as a process, its exit codes, stdout and
// stderr, with models trained by `mlproj train` from data/*.csv.
import {spawnSync} from 'node:child_process'
import {chmod, copyFile, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {BIN, dataset, mlproj, mlprojJson, tempDir} from '../helpers/cli.js'

let dir: string

beforeAll(async () => {
  dir = await tempDir('mlproj-query-cli-')
  await copyFile(dataset('penguins.csv'), join(dir, 'penguins.csv'))
  const train = await mlproj(
    [
      'train',
      'penguins.csv',
      '--target',
      'species',
      '--experiment',
      'penguins',
      '--save',
      'penguins',
      '--alias',
      'candidate',
      '-q',
    ],
    {cwd: dir},
  )
  expect(train.code).toBe(0)
})

interface QueryDoc {
  statements: number
  columns: Array<{name: string; type: string}>
  rowCount: number
  rows?: Array<Record<string, unknown>>
  output?: {path: string; format: string; rows: number}
  savedAs?: {name: string; path: string; rows: number; replaced: boolean}
  models: Array<{ref: string; model: string}>
}

describe('mlproj query', () => {
  it('prints a table with the row count', async () => {
    const r = await mlproj(['query', "SELECT species, count(*) AS n FROM 'penguins.csv' GROUP BY ALL ORDER BY n"], {
      cwd: dir,
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/│ species\s+│ n\s+│/)
    expect(r.stdout).toMatch(/│ Adelie\s+│ 152\s+│/)
    expect(r.stdout.trimEnd().endsWith('3 rows')).toBe(true)
    expect(r.stderr).toBe('')
  })

  it('returns rows, column types and the models used with --json', async () => {
    const r = await mlprojJson<QueryDoc>(
      ['query', "SELECT predict('penguins@candidate', p) AS predicted FROM 'penguins.csv' p LIMIT 2"],
      {cwd: dir},
    )
    expect(r.code).toBe(0)
    expect(r.json).toMatchObject({
      statements: 1,
      columns: [{name: 'predicted', type: 'VARCHAR'}],
      rowCount: 2,
      rows: [{predicted: 'Adelie'}, {predicted: 'Adelie'}],
      models: [{ref: 'penguins@candidate', model: 'penguins:1'}],
    })
  })

  it('reads the SQL from stdin and from --file', async () => {
    const sql = "SELECT count(*) AS n FROM 'penguins.csv';"
    const piped = await mlproj(['query', '--format', 'csv'], {cwd: dir, input: sql})
    expect(piped.stdout).toBe('n\n344\n')
    await writeFile(join(dir, 'count.sql'), `-- how many\n${sql}\n`)
    const file = await mlproj(['query', '--file', 'count.sql', '--format', 'csv'], {cwd: dir})
    expect(file.stdout).toBe('n\n344\n')
  })

  it('writes --output files atomically in the format of their name, saying so on stderr', async () => {
    const r = await mlproj(['query', "SELECT * FROM 'penguins.csv' WHERE sex IS NULL", '--output', 'unsexed.jsonl'], {
      cwd: dir,
    })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('wrote 11 rows to')
    const lines = (await readFile(join(dir, 'unsexed.jsonl'), 'utf8')).trim().split('\n')
    expect(lines).toHaveLength(11)
    expect(JSON.parse(lines[0]!)).toMatchObject({species: 'Adelie', sex: null})
  })

  it('saves a result with --save-as, then reads it by name and lists it', async () => {
    const saved = await mlproj(
      [
        'query',
        "SELECT p.*, predict('penguins@candidate', p) AS predicted FROM 'penguins.csv' p",
        '--save-as',
        'scored',
      ],
      {cwd: dir},
    )
    expect(saved.code).toBe(0)
    expect(saved.stderr).toContain('saved table scored: 344 rows')
    const again = await mlprojJson<QueryDoc>(['query', 'SELECT count(*) AS n FROM scored WHERE predicted = species'], {
      cwd: dir,
    })
    expect(again.json.rows![0]!.n).toBeGreaterThan(330)
    const listed = await mlprojJson<{saved: Array<{name: string; rows: number}>}>(['tables', 'list'], {cwd: dir})
    expect(listed.json.saved).toEqual([expect.objectContaining({name: 'scored', rows: 344})])
    const twice = await mlproj(['query', 'SELECT 1', '--save-as', 'scored'], {cwd: dir})
    expect(twice.code).toBe(2)
    expect(twice.stderr).toContain('--replace')
  })

  it('exits 3 on a SQL error, with DuckDB’s message and the line and column', async () => {
    const r = await mlproj(['query', "SELECT species,\n  bill_lenght_mm FROM 'penguins.csv'"], {cwd: dir})
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('Binder Error: Referenced column "bill_lenght_mm" not found')
    expect(r.stderr).toContain('(line 2, column 3)')
    expect(r.stderr).toContain('Candidate bindings: "bill_length_mm"')
  })

  it('exits 3 with a JSON error document under --json', async () => {
    const r = await mlprojJson<{error: {code: string; exitCode: number; details: {line: number}}}>(
      ['query', 'SELEC 1'],
      {
        cwd: dir,
      },
    )
    expect(r.code).toBe(3)
    expect(r.json.error).toMatchObject({code: 'E_DATA_SQL', exitCode: 3, details: {line: 1, column: 1}})
  })

  it('exits 4 for an unknown model', async () => {
    const r = await mlproj(['query', "SELECT predict('churn@production', p) FROM 'penguins.csv' p"], {cwd: dir})
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('no model named "churn"')
    expect(r.stderr).toContain('Hint: registered models: penguins')
  })

  it('exits 4 for a row without a column the model needs', async () => {
    const r = await mlproj(['query', "SELECT predict('penguins', {'island': island}) FROM 'penguins.csv'"], {cwd: dir})
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('model penguins:1 needs columns "bill_length_mm"')
  })

  it('exits 2 for contradictory flags', async () => {
    const r = await mlproj(['query', 'SELECT 1', '--output', 'x.txt'], {cwd: dir})
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('cannot tell the format')
  })

  it('exits 5 for a model where there is no workspace', async () => {
    const bare = await tempDir('mlproj-query-bare-')
    await copyFile(dataset('penguins.csv'), join(bare, 'penguins.csv'))
    const files = await mlproj(['query', "SELECT count(*) AS n FROM 'penguins.csv'", '--format', 'csv'], {cwd: bare})
    expect(files.stdout).toBe('n\n344\n')
    const model = await mlproj(['query', "SELECT predict('penguins', p) FROM 'penguins.csv' p"], {cwd: bare})
    expect(model.code).toBe(5)
  })

  it('reads only what the user running it can read', async () => {
    const user = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []
    const secret = await tempDir('mlproj-query-perm-')
    await chmod(secret, 0o755)
    await writeFile(join(secret, 'secret.csv'), 'a\n1\n')
    await chmod(join(secret, 'secret.csv'), 0o600)
    const [command, ...args] = [...user, process.execPath, BIN, 'query', "SELECT * FROM 'secret.csv'"]
    const r = spawnSync(command!, args, {cwd: secret, encoding: 'utf8', env: {...process.env, HOME: secret}})
    expect(r.status).toBe(3)
    expect(r.stderr).toContain('Permission denied')
  })

  it('shows help examples that work', async () => {
    const help = await mlproj(['query', '--help'], {cwd: dir})
    const examples = help.stdout
      .slice(help.stdout.indexOf('EXAMPLES'))
      .split('\n')
      .map(l => l.trim())
      .filter(l => l.startsWith('$ mlproj query ') && !l.includes('# a SQL shell'))
    expect(examples.length).toBeGreaterThanOrEqual(4)
    await writeFile(join(dir, 'report.sql'), "SELECT island, count(*) AS n FROM 'data/penguins.csv' GROUP BY ALL;")
    await mkdir(join(dir, 'data'), {recursive: true})
    await copyFile(dataset('penguins.csv'), join(dir, 'data', 'penguins.csv'))
    for (const example of examples) {
      const args = shellWords(example.slice('$ mlproj '.length))
      const r = await mlproj(args, {cwd: dir})
      expect(r.code, `${example}\n${r.stderr}`).toBe(0)
    }
  })
})

/** Splits a help example the way a shell would (double-quoted words, no escapes in them). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map(m => m[1] ?? m[2]!)
}
