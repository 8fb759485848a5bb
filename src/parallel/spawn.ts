// Worker threads: how many mlproj may use (MLPROJ_THREADS), and starting one from its module next to the caller:
// the compiled .js in dist/, or, from TypeScript sources (tests, bin/dev.js), the .ts file compiled by tsx.
import {Worker, type WorkerOptions} from 'node:worker_threads'
import {UsageError} from '../errors.js'

/**
 * MLPROJ_THREADS: the threads training and batch scoring may use (1 keeps all work on the main thread);
 * undefined when unset or empty.
 */
export function configuredThreads(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const set = env.MLPROJ_THREADS
  if (set === undefined || set.trim() === '') return undefined
  const n = Number(set)
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError('E_USAGE_THREADS', `MLPROJ_THREADS="${set}" is not a whole number of threads ≥ 1`, {
      hint: 'set MLPROJ_THREADS to the threads mlproj may use (1 keeps all work on the main thread), or unset it',
    })
  }
  return n
}

/** Starts the worker module `name` (without extension) that sits beside the module at `here` (import.meta.url). */
export function spawnWorker(name: string, here: string, options: WorkerOptions = {}): Worker {
  const url = new URL(here.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, here)
  if (url.pathname.endsWith('.ts')) {
    const code = `import('tsx/esm/api').then(m => { m.register(); return import(${JSON.stringify(url.href)}) })`
    return new Worker(code, {...options, eval: true})
  }
  return new Worker(url, options)
}
