// Named locks that survive crashes: a row in SQLite holding the owner's pid, its start time and host. A lock
// whose owner process is gone (killed, crashed, rebooted) is free; checking the start time as well means a
// recycled pid does not keep a dead job's lock.
import {readFileSync} from 'node:fs'
import {hostname} from 'node:os'
import {EnvironmentError} from '../errors.js'
import {now} from './runs.js'
import type {Workspace} from './workspace.js'

/** Who runs this code: enough to tell later whether that process still exists. */
export interface ProcessIdentity {
  readonly pid: number
  /** Start time of the process in clock ticks since boot (Linux /proc), or null elsewhere. */
  readonly pidStart: string | null
  readonly host: string
}

function startTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 22 (starttime); the command name in field 2 may hold spaces, so count from its closing ")".
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

export function currentProcess(): ProcessIdentity {
  return {pid: process.pid, pidStart: startTicks(process.pid), host: hostname()}
}

/** Whether the process is still running. On another host it cannot be checked, so it counts as alive. */
export function processAlive(owner: {pid: number | null; pidStart: string | null; host: string | null}): boolean {
  if (owner.pid === null) return false
  if (owner.host !== null && owner.host !== hostname()) return true
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (owner.pidStart === null) return true
  const start = startTicks(owner.pid)
  return start === null || start === owner.pidStart
}

export interface LockHolder {
  readonly key: string
  readonly jobId: string
  readonly pid: number
  readonly host: string
  readonly acquiredAt: string
}

export interface Lock {
  readonly key: string
  /** Whether the lock was taken over from a process that had died holding it. */
  readonly tookOver: LockHolder | undefined
  release(): void
}

interface LockRow {
  key: string
  job_id: string
  pid: number
  pid_start: string | null
  host: string
  acquired_at: string
}

function holder(row: LockRow): LockHolder {
  return {key: row.key, jobId: row.job_id, pid: row.pid, host: row.host, acquiredAt: row.acquired_at}
}

/** One attempt: takes the lock when it is free or its owner is dead; otherwise returns who holds it. */
export function tryLock(ws: Workspace, key: string, jobId: string): Lock | LockHolder {
  const me = currentProcess()
  return ws.db
    .transaction((): Lock | LockHolder => {
      const row = ws.db.prepare('SELECT * FROM batch_locks WHERE key = ?').get(key) as LockRow | undefined
      if (row && processAlive({pid: row.pid, pidStart: row.pid_start, host: row.host})) return holder(row)
      ws.db
        .prepare(
          `INSERT INTO batch_locks (key, job_id, pid, pid_start, host, acquired_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id, pid = excluded.pid, pid_start = excluded.pid_start,
             host = excluded.host, acquired_at = excluded.acquired_at`,
        )
        .run(key, jobId, me.pid, me.pidStart, me.host, now())
      return {
        key,
        tookOver: row ? holder(row) : undefined,
        release: () => {
          ws.db.prepare('DELETE FROM batch_locks WHERE key = ? AND job_id = ?').run(key, jobId)
        },
      }
    })
    .immediate()
}

export interface AcquireOptions {
  /** Seconds to wait for a busy lock before giving up; 0 gives up at once. */
  readonly waitSeconds: number
  /** What the lock protects, for the message ("model churn writing .mlproj/predictions/churn"). */
  readonly what: string
  /** Called once when the lock is busy and the caller will wait. */
  readonly onWait?: (holder: LockHolder) => void
  readonly pollMs?: number
}

/** Takes the lock, waiting up to `waitSeconds` for its holder to finish; throws EnvironmentError (exit 5) after that. */
export async function acquireLock(ws: Workspace, key: string, jobId: string, options: AcquireOptions): Promise<Lock> {
  const deadline = Date.now() + options.waitSeconds * 1000
  let waited = false
  for (;;) {
    const result = tryLock(ws, key, jobId)
    if ('release' in result) return result
    const remaining = deadline - Date.now()
    if (remaining <= 0) {
      const where = result.host === hostname() ? `pid ${result.pid}` : `pid ${result.pid} on ${result.host}`
      throw new EnvironmentError(
        'E_ENV_LOCKED',
        `${options.what} is locked by job ${result.jobId} (${where}, started ${result.acquiredAt})${waited ? ` after waiting ${options.waitSeconds} s` : ''}`,
        {
          hint: `wait for that job to finish (mlproj jobs show ${result.jobId}), or pass --wait SECONDS to wait for it`,
          details: {lock: key, jobId: result.jobId, pid: result.pid, host: result.host, startedAt: result.acquiredAt},
        },
      )
    }
    if (!waited) options.onWait?.(result)
    waited = true
    await new Promise(resolve => setTimeout(resolve, Math.min(options.pollMs ?? 200, remaining)))
  }
}
