// Every bad input of predict-batch (issue #4): the documented exit code, a message naming what is wrong and where,
// nothing written on failure, and the job recorded either way. Also: rows set aside with --on-error skip, and
// warnings for categories never seen in training and values far outside the training range.
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {datasetLines, type JobRecord, penguinsWorkspace, predictBatch, readCsv, writeCsv} from '../batch/helpers.js'
import {dataset, mlprojJson} from '../helpers/cli.js'

let dir: string
let header: string
let rows: string[]

beforeAll(async () => {
  dir = await penguinsWorkspace()
  ;({header, rows} = await datasetLines('penguins.csv'))
})

/** A copy of penguins.csv with some data rows replaced (0-based index → line text). */
async function penguinsWith(name: string, replace: Record<number, string>): Promise<string> {
  return writeCsv(
    join(dir, 'in'),
    name,
    header,
    rows.map((r, i) => replace[i] ?? r),
  )
}

async function lastJob(): Promise<JobRecord> {
  const r = await mlprojJson<{jobs: JobRecord[]}>(['jobs', 'list', '--limit', '1'], {cwd: dir})
  return r.json.jobs[0]!
}

async function outputsIn(folder: string): Promise<string[]> {
  return (await readdir(folder).catch(() => [] as string[])).sort()
}

describe('a row that cannot be scored', () => {
  let input: string

  beforeAll(async () => {
    // Data rows 100 and 200 (lines 102 and 202) hold text in numeric columns.
    input = await penguinsWith('bad-values.csv', {
      100: '"Adelie","Dream",forty,18.4,184,3475,"female",2009',
      200: '"Gentoo","Biscoe",46.1,13.2,"2 1 1",4500,"female",2007',
    })
  })

  it('stops the job with exit 3 naming file, line, column and value, and writes nothing', async () => {
    const out = join(dir, 'fail-out')
    const r = await predictBatch(['penguins', '--input', input, '--output', `${out}/`], dir)
    expect(r.code).toBe(3)
    expect(r.json.error.code).toBe('E_DATA_BAD_ROW')
    expect(r.json.error.message).toBe(
      `${input}: line 102: column "bill_length_mm" holds "forty", which is not a number`,
    )
    expect(r.json.error.details).toEqual({file: input, row: 101, line: 102, column: 'bill_length_mm', value: 'forty'})
    expect(r.json.error.hint).toContain('--on-error skip')
    expect(await outputsIn(out)).toEqual([])
    const job = await lastJob()
    expect(job.status).toBe('failed')
    expect(job.error?.code).toBe('E_DATA_BAD_ROW')
    expect(job.inputs.map(i => i.path)).toEqual([input])
  })

  it('with --on-error skip is set aside in a rejects file with its reason, and counted', async () => {
    const out = join(dir, 'skip-out.csv')
    const r = await predictBatch(['penguins', '--input', input, '--output', out, '--on-error', 'skip'], dir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.rows).toEqual({in: 344, out: 342, rejected: 2})
    expect(r.json.inputs[0]).toEqual(expect.objectContaining({rows: 344, rejected: 2}))
    const rejectsPath = join(dir, 'skip-out.rejects.csv')
    expect(r.json.outputs).toEqual([
      expect.objectContaining({kind: 'predictions', path: out, rows: 342}),
      expect.objectContaining({kind: 'rejects', path: rejectsPath, rows: 2, format: 'csv'}),
    ])
    const rejects = await readCsv(rejectsPath)
    expect(rejects.map(r => [r.input_row, r.input_line, r.reject_column, r.reject_value, r.reject_reason])).toEqual([
      ['101', '102', 'bill_length_mm', 'forty', 'is not a number'],
      ['201', '202', 'flipper_length_mm', '2 1 1', 'is not a number'],
    ])
    expect(rejects[0]).toEqual(expect.objectContaining({input_file: input, species: 'Adelie', island: 'Dream'}))
    const scored = await readCsv(out)
    expect(scored).toHaveLength(342)
    expect(scored.some(s => s.bill_length_mm === 'forty')).toBe(false)
  })

  it('is found by its line when quoted fields span lines', async () => {
    const multiline = await writeCsv(
      join(dir, 'in'),
      'multiline.csv',
      'note,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year',
      [
        '"two\nlines",Dream,39.5,17.4,186,3800,female,2007',
        'plain,Dream,39.5,17.4,186,3800,female,2007',
        '"three\nmore\nlines",Dream,39.5,17.4,wide,3800,female,2007',
      ],
    )
    const r = await predictBatch(['penguins', '--input', multiline, '--output', join(dir, 'ml.csv')], dir)
    expect(r.code).toBe(3)
    expect(r.json.error.details).toEqual(
      expect.objectContaining({row: 3, line: 5, column: 'flipper_length_mm', value: 'wide'}),
    )
  })
})

describe('a column the model needs is missing', () => {
  it('exits 4 before any output, naming the columns', async () => {
    // penguins.csv has no quoted commas: dropping the 7th field drops column "sex".
    const drop = (line: string) =>
      line
        .split(',')
        .filter((_, j) => j !== 6)
        .join(',')
    const input = await writeCsv(join(dir, 'in'), 'no-sex.csv', drop(header), rows.map(drop))
    const out = join(dir, 'missing-out')
    const r = await predictBatch(['penguins', '--input', input, '--output', `${out}/`], dir)
    expect(r.code).toBe(4)
    expect(r.json.error.code).toBe('E_MODEL_SIGNATURE')
    expect(r.json.error.message).toContain('lacks column "sex" that model penguins:1 needs')
    expect(r.json.error.hint).toContain('the model reads: island')
    expect(await outputsIn(out)).toEqual([])
    expect((await lastJob()).status).toBe('failed')
  })
})

describe('other bad inputs', () => {
  const cases: Array<{name: string; args: () => Promise<string[]>; code: number; error: string; message?: string}> = [
    {
      name: 'an unknown model exits 4',
      args: async () => ['nosuchmodel', '--input', dataset('penguins.csv')],
      code: 4,
      error: 'E_MODEL_NOT_FOUND',
      message: 'nosuchmodel',
    },
    {
      name: 'an unknown alias exits 4',
      args: async () => ['penguins@staging', '--input', dataset('penguins.csv')],
      code: 4,
      error: 'E_MODEL_NOT_FOUND',
      message: '@staging',
    },
    {
      name: 'a missing input file exits 3',
      args: async () => ['penguins', '--input', join(dir, 'nope.csv')],
      code: 3,
      error: 'E_DATA_NOT_FOUND',
      message: 'nope.csv',
    },
    {
      name: 'a glob matching nothing exits 3 without --incremental',
      args: async () => ['penguins', '--input', join(dir, 'none-*.csv')],
      code: 3,
      error: 'E_DATA_NOT_FOUND',
    },
    {
      name: 'a malformed CSV exits 3 naming the line',
      args: async () => [
        'penguins',
        '--input',
        await penguinsWith('unterminated.csv', {10: '"Adelie","Torgersen,39.1,18.7,181,3750,"male",2007'}),
      ],
      code: 3,
      error: 'E_DATA_MALFORMED',
      message: 'line 12',
    },
    {
      name: 'a file that is not really Parquet exits 3',
      args: async () => {
        await mkdir(join(dir, 'in'), {recursive: true})
        await writeFile(join(dir, 'in', 'fake.parquet'), 'species,island\nAdelie,Torgersen\n')
        return ['penguins', '--input', join(dir, 'in', 'fake.parquet')]
      },
      code: 3,
      error: 'E_DATA_UNREADABLE',
      message: 'fake.parquet',
    },
    {
      name: 'files with different columns in one folder exit 3',
      args: async () => {
        await writeCsv(join(dir, 'mixed'), 'a.csv', header, rows.slice(0, 5))
        await writeCsv(join(dir, 'mixed'), 'b.csv', header.replace('year', 'yr'), rows.slice(5, 10))
        return ['penguins', '--input', join(dir, 'mixed')]
      },
      code: 3,
      error: 'E_DATA_SCHEMA_MISMATCH',
    },
    {
      name: 'a --keep column the input lacks exits 3',
      args: async () => ['penguins', '--input', dataset('penguins.csv'), '--keep', 'island,customer_id'],
      code: 3,
      error: 'E_DATA_MISSING_COLUMN',
      message: '"customer_id"',
    },
    {
      name: '--format that contradicts the output file name exits 2',
      args: async () => [
        'penguins',
        '--input',
        dataset('penguins.csv'),
        '--output',
        join(dir, 'x.csv'),
        '--format',
        'parquet',
      ],
      code: 2,
      error: 'E_USAGE_FORMAT',
    },
    {
      name: 'an unknown --on-error exits 2',
      args: async () => ['penguins', '--input', dataset('penguins.csv'), '--on-error', 'ignore'],
      code: 2,
      error: 'E_USAGE',
    },
    {
      name: '--output - with --json exits 2',
      args: async () => ['penguins', '--input', dataset('penguins.csv'), '--output', '-'],
      code: 2,
      error: 'E_USAGE_STDOUT',
    },
    {
      name: 'an output that is one of the inputs exits 2',
      args: async () => {
        const input = await penguinsWith('self.csv', {})
        return ['penguins', '--input', input, '--output', input]
      },
      code: 2,
      error: 'E_USAGE_OUTPUT',
    },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const r = await predictBatch(await c.args(), dir)
      expect(r.code, r.stderr).toBe(c.code)
      expect(r.json.error.code).toBe(c.error)
      expect(r.json.error.exitCode).toBe(c.code)
      if (c.message) expect(r.json.error.message).toContain(c.message)
      expect(r.json.error.hint).toBeTruthy()
    })
  }

  it('leaves no temporary file behind after the failures above', async () => {
    const names = await readdir(dir)
    expect(names.filter(n => n.includes('.tmp-'))).toEqual([])
    const jobs = await mlprojJson<{jobs: JobRecord[]}>(['jobs', 'list', '--status', 'running'], {cwd: dir})
    expect(jobs.json.jobs).toEqual([])
  })
})

describe('drift warnings', () => {
  it('counts categories never seen in training and values far outside the training range, in the job record', async () => {
    const input = await penguinsWith('drift.csv', {
      0: '"Adelie","Atlantis",39.1,18.7,181,3750,"male",2007',
      1: '"Adelie","Atlantis",39.5,17.4,186,3800,"female",2007',
      2: '"Adelie","Torgersen",40.3,18,195,325000,"female",2007',
    })
    const r = await predictBatch(['penguins', '--input', input, '--output', join(dir, 'drift-out.csv')], dir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.rows).toEqual({in: 344, out: 344, rejected: 0})
    expect(r.json.warnings).toEqual([
      expect.objectContaining({kind: 'unseen_category', column: 'island', count: 2, examples: ['Atlantis']}),
      expect.objectContaining({kind: 'out_of_range', column: 'body_mass_g', count: 1, examples: [325000, 325000]}),
    ])
    expect(r.stderr).toContain('warning: column "island": 2 rows hold categories never seen in training ("Atlantis")')
  })

  it('replaces an input column named like a prediction column, with a warning', async () => {
    // An earlier output scored again: it already has predicted_species.
    const input = await writeCsv(
      join(dir, 'in'),
      'rescore.csv',
      `${header},predicted_species`,
      rows.map(r => `${r},Gentoo`),
    )
    const out = join(dir, 'rescored.csv')
    const r = await predictBatch(['penguins', '--input', input, '--output', out], dir)
    expect(r.code, r.stderr).toBe(0)
    const columns = (await readFile(out, 'utf8')).split('\n')[0]!.split(',')
    expect(columns.filter(c => c === 'predicted_species')).toHaveLength(1)
    expect(r.json.warnings).toEqual([expect.objectContaining({kind: 'replaced_column', column: 'predicted_species'})])
    expect((await readCsv(out)).filter(x => x.predicted_species === 'Gentoo').length).toBeLessThan(200)
  })
})
