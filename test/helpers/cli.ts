// Test helpers: temporary folders, the example datasets, and running the built CLI as a real process
// (so exit codes, stdout/stderr separation and --json are tested exactly as scripts and cron see them).
import {spawn} from 'node:child_process'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {afterAll} from 'vitest'

export const ROOT = resolve(import.meta.dirname, '..', '..')
export const DATA = join(ROOT, 'data')
export const BIN = join(ROOT, 'bin', 'run.js')

export function dataset(name: string): string {
  return join(DATA, name)
}

/** A fresh temporary folder, removed after the test file. */
export async function tempDir(prefix = 'mlproj-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  afterAll(() => rm(dir, {recursive: true, force: true}))
  return dir
}

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface CliOptions {
  readonly cwd: string
  readonly input?: string | Buffer
  readonly env?: Record<string, string | undefined>
}

/** Runs `mlproj ARGS` in `cwd` as a child process. */
export function mlproj(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      MLPROJ_WORKSPACE: undefined,
      NO_COLOR: '1',
      ...options.env,
    }
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
    const child = spawn(process.execPath, [BIN, ...args], {cwd: options.cwd, env: env as NodeJS.ProcessEnv})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', code =>
      resolvePromise({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    )
    child.stdin.end(options.input ?? '')
  })
}

/** Runs with --json and parses stdout, which must be exactly one JSON document. */
export async function mlprojJson<T = Record<string, unknown>>(
  args: readonly string[],
  options: CliOptions,
): Promise<CliResult & {json: T}> {
  const result = await mlproj([...args, '--json'], options)
  let json: T
  try {
    json = JSON.parse(result.stdout) as T
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`,
    )
  }
  return {...result, json}
}
