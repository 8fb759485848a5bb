// predict-batch and jobs through the CLI, as cron and a user run them: where outputs land, what they hold, the
// formats, --incremental, the job records, stdin/stdout, and that the examples in --help work.
import {mkdir, readdir, readFile, stat, utimes, writeFile} from 'node:fs/promises'
import {join, relative} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {duckdb, literal} from '../../src/data/duckdb.js'
import {
  csvHeader,
  datasetLines,
  type JobRecord,
  penguinsWorkspace,
  predictBatch,
  readCsv,
  writeCsv,
} from '../batch/helpers.js'
import {dataset, mlproj, mlprojJson} from '../helpers/cli.js'

const PENGUIN_COLUMNS = [
  'species',
  'island',
  'bill_length_mm',
  'bill_depth_mm',
  'flipper_length_mm',
  'body_mass_g',
  'sex',
  'year',
]
const PREDICTIONS = ['predicted_species', 'probability_Adelie', 'probability_Chinstrap', 'probability_Gentoo']

let dir: string

beforeAll(async () => {
  dir = await penguinsWorkspace()
})

describe('predict-batch writes predictions', () => {
  let job: JobRecord

  beforeAll(async () => {
    const r = await predictBatch(['penguins@production', '--input', dataset('penguins.csv')], dir)
    expect(r.code, r.stderr).toBe(0)
    job = r.json
  })

  it('into a new file .mlproj/predictions/<model>/<date>/<job-id>.csv without --output', () => {
    const date = job.startedAt.slice(0, 10)
    expect(relative(dir, job.output!)).toBe(join('.mlproj', 'predictions', 'penguins', date, `${job.id}.csv`))
  })

  it('with every input column, then the prediction columns, one row per input row in input order', async () => {
    expect(await csvHeader(job.output!)).toEqual([...PENGUIN_COLUMNS, ...PREDICTIONS])
    const rows = await readCsv(job.output!)
    const input = await readCsv(dataset('penguins.csv'))
    expect(rows).toHaveLength(344)
    // Values are carried as written (NA is a missing value, written empty).
    expect(rows.map(r => r.bill_length_mm)).toEqual(input.map(r => (r.bill_length_mm === 'NA' ? '' : r.bill_length_mm)))
    expect(rows.map(r => r.year)).toEqual(input.map(r => r.year))
    for (const r of rows) {
      const p = PREDICTIONS.slice(1).map(c => Number(r[c]))
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9)
    }
    const accuracy = rows.filter(r => r.predicted_species === r.species).length / rows.length
    expect(accuracy).toBeGreaterThan(0.95)
  })

  it('and records the job with the version the alias pointed to', () => {
    expect(job.status).toBe('finished')
    expect(job.model).toEqual({ref: 'penguins@production', name: 'penguins', version: 1, runId: expect.any(String)})
    expect(job.rows).toEqual({in: 344, out: 344, rejected: 0})
    expect(job.inputs).toEqual([
      expect.objectContaining({path: dataset('penguins.csv'), rows: 344, rejected: 0, size: expect.any(Number)}),
    ])
    expect(job.inputs[0]!.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(job.outputs).toEqual([
      expect.objectContaining({kind: 'predictions', path: job.output, format: 'csv', rows: 344}),
    ])
  })

  it('adds a new file on every run and never rewrites an earlier one', async () => {
    const before = await readFile(job.output!)
    const again = await predictBatch(['penguins', '--input', dataset('penguins.csv')], dir)
    expect(again.code).toBe(0)
    expect(again.json.output).not.toBe(job.output)
    expect(await readFile(job.output!)).toEqual(before)
    expect(await readFile(again.json.output!)).toEqual(before)
  })

  it('leaves nothing but finished files in the predictions folder', async () => {
    const folder = join(dir, '.mlproj', 'predictions', 'penguins', job.startedAt.slice(0, 10))
    const names = await readdir(folder)
    expect(names.filter(n => n.startsWith('.'))).toEqual([])
    expect(names.every(n => /^[0-9a-f]{12}\.csv$/.test(n))).toBe(true)
  })
})

describe('predict-batch options', () => {
  it('carries only the --keep columns', async () => {
    const out = join(dir, 'keep.csv')
    const r = await predictBatch(
      ['penguins', '--input', dataset('penguins.csv'), '--output', out, '--keep', 'sex,island'],
      dir,
    )
    expect(r.code, r.stderr).toBe(0)
    expect(await csvHeader(out)).toEqual(['sex', 'island', ...PREDICTIONS])
  })

  it('writes CSV to stdout with --output - and nothing else there', async () => {
    const input = await readFile(dataset('penguins.csv'), 'utf8')
    const r = await mlproj(['predict-batch', 'penguins', '--input', '-', '--output', '-', '--keep', 'island'], {
      cwd: dir,
      input,
    })
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(['island', ...PREDICTIONS].join(','))
    expect(lines).toHaveLength(345)
    expect(r.stderr).toContain('→ stdout')
  })

  it('writes Parquet and JSON Lines, by extension or --format, with the same predictions', async () => {
    const csv = join(dir, 'fmt.csv')
    await predictBatch(['penguins', '--input', dataset('penguins.csv'), '--output', csv], dir)
    const parquet = join(dir, 'fmt.parquet')
    const jsonl = join(dir, 'out-jsonl')
    expect((await predictBatch(['penguins', '--input', dataset('penguins.csv'), '--output', parquet], dir)).code).toBe(
      0,
    )
    const j = await predictBatch(
      ['penguins', '--input', dataset('penguins.csv'), '--output', `${jsonl}/`, '--format', 'jsonl'],
      dir,
    )
    expect(j.code, j.stderr).toBe(0)
    expect(j.json.output!.endsWith('.jsonl')).toBe(true)
    const con = await duckdb()
    const read = async (from: string) =>
      (await con.runAndReadAll(`SELECT predicted_species, probability_Gentoo, body_mass_g FROM ${from}`)).getRowsJS()
    const fromCsv = await read(`read_csv(${literal(csv)}, all_varchar = true)`)
    const fromParquet = await read(`read_parquet(${literal(parquet)})`)
    const fromJson = await read(`read_json(${literal(j.json.output!)})`)
    expect(fromParquet).toHaveLength(344)
    for (const rows of [fromParquet, fromJson]) {
      expect(rows.map(r => r[0])).toEqual(fromCsv.map(r => r[0]))
      expect(rows.map(r => r[1])).toEqual(fromCsv.map(r => Number(r[1])))
      // Typed outputs carry numbers as numbers (whole ones as integers), missing ones as null.
      expect(rows.map(r => r[2])).toEqual(fromCsv.map(r => (r[2] === null ? null : BigInt(r[2] as string))))
    }
  })

  it('keeps whole numbers exact in Parquet and JSON Lines, ids past 2^53 included', async () => {
    const {header, rows} = await datasetLines('penguins.csv')
    const ids = rows.slice(0, 5).map((_, i) => `${9_007_199_254_740_993n + BigInt(i)}`)
    await writeCsv(
      join(dir, 'ids'),
      'in.csv',
      `customer_id,${header}`,
      rows.slice(0, 5).map((r, i) => `${ids[i]},${r}`),
    )
    const con = await duckdb()
    for (const ext of ['parquet', 'jsonl']) {
      const out = join(dir, 'ids', `out.${ext}`)
      const r = await predictBatch(['penguins', '--input', join(dir, 'ids', 'in.csv'), '--output', out], dir)
      expect(r.code, r.stderr).toBe(0)
      const from = ext === 'parquet' ? `read_parquet(${literal(out)})` : `read_json(${literal(out)})`
      const read = await con.runAndReadAll(`SELECT customer_id::VARCHAR, "year"::VARCHAR FROM ${from}`)
      expect(read.getRowsJS()).toEqual(ids.map(id => [id, '2007']))
    }
  })

  it('reads a folder, a glob and Parquet, keeping the files in name order', async () => {
    const {header, rows} = await datasetLines('penguins.csv')
    const folder = join(dir, 'parts')
    await writeCsv(folder, 'b.csv', header, rows.slice(100, 344))
    await writeCsv(folder, 'a.csv', header, rows.slice(0, 100))
    const whole = await readCsv(
      (await predictBatch(['penguins', '--input', dataset('penguins.csv'), '--output', join(dir, 'whole.csv')], dir))
        .json.output!,
    )
    for (const input of [folder, join(folder, '*.csv')]) {
      const r = await predictBatch(['penguins', '--input', input, '--output', join(dir, 'parts.csv')], dir)
      expect(r.code, r.stderr).toBe(0)
      expect(r.json.inputs.map(i => [relative(folder, i.path), i.rows])).toEqual([
        ['a.csv', 100],
        ['b.csv', 244],
      ])
      expect(await readCsv(join(dir, 'parts.csv'))).toEqual(whole)
    }
    const parquet = await predictBatch(
      ['penguins', '--input', join(dir, 'fmt.parquet'), '--output', join(dir, 'p2.csv'), '--keep', 'species'],
      dir,
    )
    expect(parquet.code, parquet.stderr).toBe(0)
    expect((await readCsv(join(dir, 'p2.csv'))).map(r => r.predicted_species)).toEqual(
      whole.map(r => r.predicted_species),
    )
  })
})

const MTIME = 1_700_000_000

describe('predict-batch --incremental', () => {
  let folder: string
  let out: string

  beforeAll(async () => {
    folder = join(dir, 'incoming')
    out = join(dir, 'incremental-out')
    const {header, rows} = await datasetLines('penguins.csv')
    await writeCsv(folder, '2024-01-01.csv', header, rows.slice(0, 50))
    await writeCsv(folder, '2024-01-02.csv', header, rows.slice(50, 120))
    // A whole-second modification time, so that the test below can set it back exactly (utimes takes seconds).
    await utimes(join(folder, '2024-01-02.csv'), MTIME, MTIME)
  })

  const run = (model = 'penguins') =>
    predictBatch([model, '--input', folder, '--output', `${out}/`, '--incremental'], dir)

  it('processes every file the first time', async () => {
    const r = await run()
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.rows.in).toBe(120)
    expect(r.json.inputsSkipped).toBe(0)
  })

  it('exits 0 saying "0 new inputs" when nothing is new, and writes nothing', async () => {
    const before = await readdir(out)
    const r = await run()
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('0 new inputs')
    expect(r.json.output).toBeNull()
    expect(r.json.inputsSkipped).toBe(2)
    expect(r.json.rows).toEqual({in: 0, out: 0, rejected: 0})
    expect(await readdir(out)).toEqual(before)
  })

  it('processes only a new file and a changed one', async () => {
    const {header, rows} = await datasetLines('penguins.csv')
    await writeCsv(folder, '2024-01-03.csv', header, rows.slice(120, 130))
    // Same size and modification time, other bytes: the content hash tells.
    const second = join(folder, '2024-01-02.csv')
    const before = await stat(second, {bigint: true})
    const text = await readFile(second, 'utf8')
    await writeFile(second, text.replace('Adelie', 'Adelif'))
    await utimes(second, MTIME, MTIME)
    const after = await stat(second, {bigint: true})
    expect([after.size, after.mtimeNs]).toEqual([before.size, before.mtimeNs])
    const r = await run()
    expect(r.code, r.stderr).toBe(0)
    expect(r.json.inputs.map(i => relative(folder, i.path))).toEqual(['2024-01-02.csv', '2024-01-03.csv'])
    expect(r.json.rows.in).toBe(80)
    expect(r.json.inputsSkipped).toBe(1)
    expect(await readCsv(r.json.output!)).toHaveLength(80)
  })

  it('counts inputs per model version: another model processes them all', async () => {
    const r = await run(`run:${await runIdOf('penguins')}`)
    expect(r.json.rows.in).toBe(130)
  })

  it('treats an empty folder as no new inputs', async () => {
    const empty = join(dir, 'empty-incoming')
    await mkdir(empty)
    const r = await predictBatch(['penguins', '--input', empty, '--incremental'], dir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain('0 new inputs')
  })
})

async function runIdOf(model: string): Promise<string> {
  const r = await mlprojJson<{versions: Array<{runId: string}>}>(['models', 'show', model], {cwd: dir})
  return r.json.versions[0]!.runId
}

describe('jobs', () => {
  it('lists jobs newest first, and shows one by id prefix, with --json', async () => {
    const r = await predictBatch(['penguins', '--input', dataset('penguins.csv'), '--output', join(dir, 'j.csv')], dir)
    const list = await mlprojJson<{jobs: JobRecord[]}>(['jobs', 'list', '--model', 'penguins', '--limit', '3'], {
      cwd: dir,
    })
    expect(list.code).toBe(0)
    expect(list.json.jobs).toHaveLength(3)
    expect(list.json.jobs[0]!.id).toBe(r.json.id)
    const show = await mlprojJson<JobRecord>(['jobs', 'show', r.json.id.slice(0, 6)], {cwd: dir})
    expect(show.code).toBe(0)
    expect(show.json).toEqual(r.json)
    const human = await mlproj(['jobs', 'show', r.json.id], {cwd: dir})
    expect(human.stdout).toContain(`job ${r.json.id} · penguins:1`)
    expect(human.stdout).toContain('344 in, 344 out, 0 rejected')
  })

  it('refuses an unknown job id with exit 2', async () => {
    const r = await mlprojJson<{error: {code: string}}>(['jobs', 'show', 'abcdef'], {cwd: dir})
    expect(r.code).toBe(2)
    expect(r.json.error.code).toBe('E_USAGE_JOB_NOT_FOUND')
  })
})

describe('an empty input', () => {
  it('gives an output with only the header and a job record, for a file with a header and no rows', async () => {
    const {header} = await datasetLines('penguins.csv')
    const input = await writeCsv(dir, 'header-only.csv', header, [])
    const out = join(dir, 'header-only-out.csv')
    const r = await predictBatch(['penguins', '--input', input, '--output', out], dir)
    expect(r.code, r.stderr).toBe(0)
    expect(await readFile(out, 'utf8')).toBe(`${[...PENGUIN_COLUMNS, ...PREDICTIONS].join(',')}\n`)
    expect(r.json.status).toBe('finished')
    expect(r.json.rows).toEqual({in: 0, out: 0, rejected: 0})
  })

  it('gives the model columns and predictions as header for a zero-byte file', async () => {
    const input = join(dir, 'zero.csv')
    await writeFile(input, '')
    const out = join(dir, 'zero-out.csv')
    const r = await predictBatch(['penguins', '--input', input, '--output', out], dir)
    expect(r.code, r.stderr).toBe(0)
    expect(await csvHeader(out)).toEqual([...PENGUIN_COLUMNS.filter(c => c !== 'species'), ...PREDICTIONS])
    expect(r.json.inputs).toEqual([expect.objectContaining({path: input, rows: 0})])
  })
})

describe('predict-batch --help', () => {
  it('shows examples that work as written', async () => {
    const help = await mlproj(['predict-batch', '--help'], {cwd: dir, env: {OCLIF_COLUMNS: '1000'}})
    const examples = help.stdout
      .slice(help.stdout.indexOf('EXAMPLES'))
      .split('\n')
      .map(l => l.trim().replace(/^\$ /, ''))
      .filter(l => l.startsWith('mlproj predict-batch') || l.startsWith('cat data/penguins.csv |'))
    expect(examples).toHaveLength(4)
    // The examples run from the repository root, with new files arriving in incoming/, against a workspace holding
    // penguins@production.
    const root = join(dir, 'repo')
    const {header, rows} = await datasetLines('penguins.csv')
    await writeCsv(join(root, 'data'), 'penguins.csv', header, rows)
    await writeCsv(join(root, 'incoming'), 'penguins-2026-11-28.csv', header, rows)
    for (const example of examples) {
      const command = example.replace(/^cat data\/penguins.csv \| mlproj/, 'mlproj').replace(/ > scored.csv$/, '')
      const args = command
        .match(/"[^"]*"|\S+/g)!
        .slice(1)
        .map(a => a.replace(/^"|"$/g, ''))
      const r = await mlproj([...args, '--workspace', dir], {
        cwd: root,
        input: example.startsWith('cat') ? await readFile(dataset('penguins.csv')) : undefined,
      })
      expect(r.code, `${example}\n${r.stderr}`).toBe(0)
    }
  })
})
