// Starting a worker thread from its module next to the caller: the compiled .js in dist/, or, from TypeScript
// sources (tests, bin/dev.js), the .ts file compiled on the fly by tsx.
import {Worker, type WorkerOptions} from 'node:worker_threads'

/** Starts the worker module `name` (without extension) that sits beside the module at `here` (import.meta.url). */
export function spawnWorker(name: string, here: string, options: WorkerOptions = {}): Worker {
  const url = new URL(here.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, here)
  if (url.pathname.endsWith('.ts')) {
    const code = `import('tsx/esm/api').then(m => { m.register(); return import(${JSON.stringify(url.href)}) })`
    return new Worker(code, {...options, eval: true})
  }
  return new Worker(url, options)
}
