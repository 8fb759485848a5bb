// Overlap safety of predict-batch (issue #4, "what must hold" 2): two runs for the same model and destination at
// once — the second exits 5 naming the job that holds the lock (pid, start time), or waits for it with --wait; a
// lock left by a killed process is free; another destination is not blocked.
import {type ChildProcess, spawn} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {generatedRows, type JobRecord, predictBatch, writeCsv} from '../batch/helpers.js'
import {BIN, mlproj, mlprojJson, tempDir} from '../helpers/cli.js'

let dir: string
let input: string
/**
 * Rows of the input: enough for a job to hold its lock a few seconds, so that a second process started after it
 * finds the lock still held on a loaded machine (400,000 rows, about 1.3 s, once lost that race).
 */
const ROWS = 1_000_000

beforeAll(async () => {
  dir = await tempDir('mlproj-lock-')
  expect((await mlproj(['init'], {cwd: dir})).code).toBe(0)
  const train = generatedRows(3000, 1_000_000)
  const r = await mlproj(
    [
      'train',
      await writeCsv(dir, 'train.csv', train.header, train.rows),
      '--target',
      'label',
      '--save',
      'gen',
      '--quiet',
    ],
    {cwd: dir},
  )
  expect(r.code, r.stderr).toBe(0)
  const big = generatedRows(ROWS)
  input = await writeCsv(dir, 'big.csv', big.header, big.rows)
}, 120_000)

/** Starts predict-batch in the background; resolves once it holds the lock (it prints its job line then). */
async function startHolder(
  args: readonly string[],
): Promise<{child: ChildProcess; jobId: string; done: Promise<number | null>}> {
  const child = spawn(process.execPath, [BIN, 'predict-batch', ...args], {
    cwd: dir,
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const done = new Promise<number | null>(resolve => child.on('exit', resolve))
  let stderr = ''
  const jobId = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString()
      const m = /^job ([0-9a-f]{12}): /m.exec(stderr)
      if (m) resolve(m[1]!)
    })
    child.on('exit', code => reject(new Error(`exited ${code} before holding the lock:\n${stderr}`)))
  })
  return {child, jobId, done}
}

describe('two predict-batch runs for the same model and destination', () => {
  it('the second exits 5 saying which job holds the lock, with its pid and start time', async () => {
    const out = join(dir, 'same.csv')
    const holder = await startHolder(['gen', '--input', input, '--output', out])
    const second = await predictBatch(['gen', '--input', input, '--output', out], dir)
    expect(second.code).toBe(5)
    expect(second.json.error.code).toBe('E_ENV_LOCKED')
    expect(second.json.error.message).toContain(`job ${holder.jobId} (pid ${holder.child.pid}, started 20`)
    expect(second.json.error.details).toEqual(
      expect.objectContaining({jobId: holder.jobId, pid: holder.child.pid, startedAt: expect.any(String)}),
    )
    expect(second.json.error.hint).toContain('--wait')
    expect(await holder.done).toBe(0)
    // The refused run is recorded too.
    const jobs = await mlprojJson<{jobs: JobRecord[]}>(['jobs', 'list', '--status', 'failed'], {cwd: dir})
    expect(jobs.json.jobs[0]!.error?.code).toBe('E_ENV_LOCKED')
  })

  it('with --wait the second waits for the first, then writes a complete file', async () => {
    const out = join(dir, 'waited.csv')
    const holder = await startHolder(['gen', '--input', input, '--output', out])
    const second = await predictBatch(['gen', '--input', input, '--output', out, '--wait', '300'], dir)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stderr).toContain(`waiting up to 300 s for job ${holder.jobId}`)
    expect(await holder.done).toBe(0)
    const first = await mlprojJson<JobRecord>(['jobs', 'show', holder.jobId], {cwd: dir})
    expect(Date.parse(second.json.endedAt!)).toBeGreaterThan(Date.parse(first.json.endedAt!))
    expect((await readFile(out, 'utf8')).trimEnd().split('\n')).toHaveLength(ROWS + 1)
  })

  it('does not block a run of the same model writing elsewhere', async () => {
    const holder = await startHolder(['gen', '--input', input, '--output', join(dir, 'one.csv')])
    const other = await predictBatch(['gen', '--input', input, '--output', join(dir, 'other.csv')], dir)
    expect(other.code, other.stderr).toBe(0)
    expect(await holder.done).toBe(0)
  })

  it('takes over a lock whose holder was killed', async () => {
    const out = join(dir, 'taken.csv')
    const holder = await startHolder(['gen', '--input', input, '--output', out])
    holder.child.kill('SIGKILL')
    await holder.done
    const next = await predictBatch(['gen', '--input', input, '--output', out], dir)
    expect(next.code, next.stderr).toBe(0)
    const dead = await mlprojJson<JobRecord>(['jobs', 'show', holder.jobId], {cwd: dir})
    expect(dead.json.status).toBe('failed')
    expect(dead.json.error?.code).toBe('E_JOB_INTERRUPTED')
  })
})

/** This process's environment without MLPROJ_WORKSPACE, as test/helpers/cli.ts runs the CLI. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = {...process.env}
  delete env.MLPROJ_WORKSPACE
  return env
}
