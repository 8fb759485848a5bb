// The job store and locks in-process: a lock is free when its holder's process is gone (or its pid now belongs to
// another process), and a dead job is rolled back while it was scoring or rolled forward once recorded.
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {getJob, publishJob, reapStaleJobs, type StartJob, startJob, wasProcessed} from '../../src/workspace/jobs.js'
import {currentProcess, processAlive, tryLock} from '../../src/workspace/lock.js'
import {openWorkspace, type Workspace} from '../../src/workspace/workspace.js'
import {tempDir} from '../helpers/cli.js'

let ws: Workspace
let deadPid: number

beforeAll(async () => {
  ws = await openWorkspace({explicit: await tempDir(), create: true})
  // A process that has exited: its pid is (almost certainly) not running anything now.
  deadPid = spawnSync(process.execPath, ['-e', '0']).pid!
})

afterAll(() => ws.db.close())

function job(staging: StartJob['staging']): StartJob {
  return {
    modelRef: 'm',
    modelName: 'm',
    modelVersion: 1,
    runId: null,
    modelKey: 'm:1',
    input: 'in.csv',
    output: null,
    format: 'csv',
    options: {incremental: true, onError: 'fail', keep: null},
    staging,
    mlprojVersion: 'test',
  }
}

describe('tryLock', () => {
  it('gives the lock when free, names the holder while held, and frees it on release', () => {
    const first = tryLock(ws, 'k1', 'job-a')
    expect('release' in first).toBe(true)
    const second = tryLock(ws, 'k1', 'job-b')
    expect(second).toEqual(expect.objectContaining({jobId: 'job-a', pid: process.pid}))
    if ('release' in first) first.release()
    expect('release' in tryLock(ws, 'k1', 'job-b')).toBe(true)
  })

  it('takes over a lock whose holder process is gone', () => {
    ws.db
      .prepare(
        `INSERT INTO batch_locks (key, job_id, pid, pid_start, host, acquired_at) VALUES ('k2', 'dead', ?, NULL, ?, 'then')`,
      )
      .run(deadPid, currentProcess().host)
    const lock = tryLock(ws, 'k2', 'job-c')
    expect('release' in lock && lock.tookOver?.jobId).toBe('dead')
  })

  it('takes over a lock whose pid now belongs to another process (a different start time)', () => {
    const me = currentProcess()
    if (me.pidStart === null) return // no /proc: the start time cannot be read on this system
    expect(processAlive({pid: me.pid, pidStart: me.pidStart, host: me.host})).toBe(true)
    expect(processAlive({pid: me.pid, pidStart: String(Number(me.pidStart) + 1), host: me.host})).toBe(false)
  })

  it('treats a holder on another host as alive', () => {
    expect(processAlive({pid: deadPid, pidStart: null, host: 'another-host.example'})).toBe(true)
  })
})

describe('reapStaleJobs', () => {
  it('rolls back a job that died while scoring: failed, temporary file removed, inputs unprocessed', async () => {
    const temp = join(ws.dir, '.out.csv.tmp-j1')
    await writeFile(temp, 'half a file')
    startJob(ws, 'aaaa00000001', job([{temp, final: join(ws.dir, 'out.csv')}]))
    ws.db.prepare('UPDATE batch_jobs SET pid = ?, pid_start = NULL WHERE id = ?').run(deadPid, 'aaaa00000001')
    expect(reapStaleJobs(ws).rolledBack).toEqual(['aaaa00000001'])
    const record = getJob(ws, 'aaaa00000001')
    expect(record.status).toBe('failed')
    expect(record.error?.code).toBe('E_JOB_INTERRUPTED')
    expect(existsSync(temp)).toBe(false)
    expect(existsSync(join(ws.dir, 'out.csv'))).toBe(false)
  })

  it('rolls forward a job that died after recording its result: the file is renamed into place', async () => {
    const final = join(ws.dir, 'done.csv')
    const temp = join(ws.dir, '.done.csv.tmp-j2')
    await writeFile(temp, 'a,b\n1,2\n')
    startJob(ws, 'aaaa00000002', job([{temp, final}]))
    const input = {path: '/data/in.csv', format: 'csv', size: 8, mtime: '1', sha256: 'ab', rows: 1, rejected: 0}
    publishJob(
      ws,
      'aaaa00000002',
      {
        inputs: [input],
        outputs: [{kind: 'predictions', path: final, format: 'csv', rows: 1, bytes: 8}],
        inputsSkipped: 0,
        rows: {in: 1, out: 1, rejected: 0},
        warnings: [],
        output: final,
      },
      'publishing',
    )
    ws.db.prepare('UPDATE batch_jobs SET pid = ?, pid_start = NULL WHERE id = ?').run(deadPid, 'aaaa00000002')
    expect(reapStaleJobs(ws).rolledForward).toEqual(['aaaa00000002'])
    expect(getJob(ws, 'aaaa00000002').status).toBe('finished')
    expect(await readFile(final, 'utf8')).toBe('a,b\n1,2\n')
    expect(existsSync(temp)).toBe(false)
    expect(wasProcessed(ws, 'm:1', input)).toBe(true)
    expect(wasProcessed(ws, 'm:1', {...input, sha256: 'other'})).toBe(false)
    expect(wasProcessed(ws, 'm:2', input)).toBe(false)
  })

  it('leaves jobs of live processes alone', () => {
    startJob(ws, 'aaaa00000003', job([]))
    expect(reapStaleJobs(ws)).toEqual({rolledBack: [], rolledForward: []})
    expect(getJob(ws, 'aaaa00000003').status).toBe('running')
  })
})
