// Crash safety of predict-batch (issue #4, "what must hold" 1): the process is killed with SIGKILL at named points
// of a long job (MLPROJ_TEST_CRASH_AT) and at arbitrary moments from outside. Afterwards no partial output is
// visible, an interrupted input counts as unprocessed, and the next --incremental run produces the complete,
// correct output exactly once.
import {spawn} from 'node:child_process'
import {cp, readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {generatedRows, type JobRecord, predictBatch, writeCsv} from '../batch/helpers.js'
import {BIN, mlproj, mlprojJson, tempDir} from '../helpers/cli.js'

const FILES = 3
const ROWS = 150_000

let dir: string
/** The predictions of a clean run, per input file name. */
const reference = new Map<string, string[]>()
/** How long the clean runs took together, to spread the external kills over a job's life. */
let cleanMs = 0

beforeAll(async () => {
  dir = await tempDir('mlproj-crash-')
  expect((await mlproj(['init'], {cwd: dir})).code).toBe(0)
  const train = generatedRows(3000, 1_000_000)
  const trainFile = await writeCsv(dir, 'train.csv', train.header, train.rows)
  const r = await mlproj(['train', trainFile, '--target', 'label', '--save', 'gen', '--quiet'], {cwd: dir})
  expect(r.code, r.stderr).toBe(0)
  // A copy of the workspace holds the same model and has processed nothing: the reference runs there.
  const refDir = join(dir, 'reference')
  await cp(join(dir, '.mlproj'), join(refDir, '.mlproj'), {recursive: true})
  const inputs = await makeInputs('reference-inputs')
  const start = Date.now()
  for (let k = 0; k < FILES; k++) {
    const out = join(refDir, `part${k}.csv`)
    const ref = await predictBatch(['gen', '--input', join(inputs, `part${k}.csv`), '--output', out], refDir)
    expect(ref.code, ref.stderr).toBe(0)
    reference.set(`part${k}.csv`, dataLines(await readFile(out, 'utf8')))
  }
  cleanMs = Date.now() - start
}, 300_000)

/** A folder of FILES generated inputs, ROWS rows each (ids 0 … FILES × ROWS - 1). */
async function makeInputs(name: string): Promise<string> {
  const folder = join(dir, name)
  for (let k = 0; k < FILES; k++) {
    const {header, rows} = generatedRows(ROWS, k * ROWS)
    await writeCsv(folder, `part${k}.csv`, header, rows)
  }
  return folder
}

function dataLines(csv: string): string[] {
  return csv.trimEnd().split('\n').slice(1)
}

/** Names in `folder` that a reader would take for output: everything but hidden temporary files. */
async function visible(folder: string): Promise<string[]> {
  return (await readdir(folder).catch(() => [] as string[])).filter(n => !n.startsWith('.')).sort()
}

async function jobs(): Promise<JobRecord[]> {
  return (await mlprojJson<{jobs: JobRecord[]}>(['jobs', 'list'], {cwd: dir})).json.jobs
}

/**
 * After a finished run: every row of every input appears exactly once across the visible output files, each file
 * being the concatenation of the reference predictions of the inputs its job processed.
 */
async function expectExactlyOnce(out: string): Promise<void> {
  const byOutput = new Map((await jobs()).filter(j => j.output).map(j => [j.output!, j]))
  const seen: string[] = []
  for (const name of await visible(out)) {
    const job = byOutput.get(join(out, name))
    expect(job?.status, name).toBe('finished')
    const expected = job!.inputs.flatMap(i => reference.get(i.path.split('/').pop()!)!)
    expect(dataLines(await readFile(join(out, name), 'utf8'))).toEqual(expected)
    seen.push(...job!.inputs.map(i => i.path))
  }
  expect(seen.map(p => p.split('/').pop()).sort()).toEqual(['part0.csv', 'part1.csv', 'part2.csv'])
  expect((await readdir(out)).filter(n => n.startsWith('.'))).toEqual([])
}

describe('predict-batch killed at a named point', () => {
  const points: Array<{point: string; committed: boolean}> = [
    {point: 'scoring', committed: false},
    {point: 'scored', committed: false},
    {point: 'published', committed: true},
    {point: 'renamed', committed: true},
  ]
  for (const {point, committed} of points) {
    it(`${committed ? 'is rolled forward' : 'is rolled back'} when killed at "${point}", then the next run completes it exactly once`, async () => {
      const inputs = await makeInputs(`inputs-${point}`)
      const out = join(dir, `out-${point}`)
      const args = ['predict-batch', 'gen', '--input', inputs, '--output', `${out}/`, '--incremental']
      // When
      const killed = await mlproj(args, {cwd: dir, env: {MLPROJ_TEST_CRASH_AT: point}})
      // Then
      expect(killed.code, killed.stderr).toBe(-1)
      expect(killed.stderr).toContain(`crash point ${point}`)
      const left = await visible(out)
      if (point === 'renamed') expect(left).toHaveLength(1)
      else expect(left).toEqual([])
      const next = await predictBatch(['gen', '--input', inputs, '--output', `${out}/`, '--incremental'], dir)
      expect(next.code, next.stderr).toBe(0)
      if (committed) {
        expect(next.stderr).toContain('0 new inputs')
        expect(next.json.inputsSkipped).toBe(FILES)
      } else {
        expect(next.json.rows.in).toBe(FILES * ROWS)
      }
      await expectExactlyOnce(out)
      const dead = (await jobs()).find(j => j.output?.startsWith(out) && j.id !== next.json.id)!
      expect(dead.status).toBe(committed ? 'finished' : 'failed')
      if (!committed) expect(dead.error?.code).toBe('E_JOB_INTERRUPTED')
    })
  }
})

describe('a killed job seen from query', () => {
  it('shows as failed in `query … FROM jobs`, not as running, without another command in between', async () => {
    const inputs = await makeInputs('inputs-query')
    const out = join(dir, 'out-query')
    const killed = await mlproj(['predict-batch', 'gen', '--input', inputs, '--output', `${out}/`], {
      cwd: dir,
      env: {MLPROJ_TEST_CRASH_AT: 'scoring'},
    })
    expect(killed.code, killed.stderr).toBe(-1)
    // When
    const sql = `SELECT status, error_code FROM jobs WHERE output LIKE '${out}/%'`
    const query = await mlproj(['query', sql, '--format', 'json'], {cwd: dir})
    // Then
    expect(query.code, query.stderr).toBe(0)
    expect(JSON.parse(query.stdout)).toEqual([{status: 'failed', error_code: 'E_JOB_INTERRUPTED'}])
  })
})

describe('predict-batch killed from outside at arbitrary moments', () => {
  it('never leaves a partial file, and the next run completes the work exactly once', async () => {
    const inputs = await makeInputs('inputs-external')
    const out = join(dir, 'out-external')
    const args = [BIN, 'predict-batch', 'gen', '--input', inputs, '--output', `${out}/`, '--incremental']
    for (const fraction of [0.2, 0.4, 0.6, 0.8, 0.95]) {
      // When: killed part way through a job (one job does the work of the three clean runs, in one process)
      const delayMs = Math.round(fraction * cleanMs)
      const code = await new Promise<number | null>(resolve => {
        const child = spawn(process.execPath, args, {cwd: dir, stdio: 'ignore', env: cleanEnv()})
        const timer = setTimeout(() => child.kill('SIGKILL'), delayMs)
        child.on('exit', c => {
          clearTimeout(timer)
          resolve(c)
        })
      })
      // Then: what a reader sees right after the kill (before any mlproj command settles the dead job) is only
      // complete outputs of jobs that recorded their result
      const seen = await visible(out)
      const contents = await Promise.all(seen.map(async name => dataLines(await readFile(join(out, name), 'utf8'))))
      const recorded = new Map((await jobs()).filter(j => j.status === 'finished' && j.output).map(j => [j.output!, j]))
      seen.forEach((name, k) => {
        const job = recorded.get(join(out, name))
        expect(job, `${name} after a kill at ${delayMs} ms (exit ${code})`).toBeDefined()
        expect(contents[k]).toHaveLength(job!.rows.out!)
      })
    }
    const next = await predictBatch(['gen', '--input', inputs, '--output', `${out}/`, '--incremental'], dir)
    expect(next.code, next.stderr).toBe(0)
    await expectExactlyOnce(out)
    expect((await jobs()).filter(j => j.status === 'running' || j.status === 'publishing')).toEqual([])
  })
})

/** This process's environment without MLPROJ_WORKSPACE, as test/helpers/cli.ts runs the CLI. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = {...process.env}
  delete env.MLPROJ_WORKSPACE
  return env
}
