// The machine a benchmark ran on (CPU count and model, RAM, Node and scikit-learn versions, load), for the
// header of its results.
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {availableParallelism, loadavg, totalmem} from 'node:os'

export function machine(python) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  let sklearn = 'not found'
  try {
    sklearn = execFileSync(python, ['-c', 'import sklearn; print(sklearn.__version__)'], {encoding: 'utf8'}).trim()
  } catch {}
  return {
    cpus: availableParallelism(),
    model: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    sklearn,
    python,
  }
}

export function machineLine(m) {
  return `${m.cpus} CPUs (${m.model}), ${m.ramGiB} GiB RAM, Node ${m.node}, scikit-learn ${m.sklearn} (${m.python})`
}

/** The 1-minute load average, rounded: other work on the machine skews timings. */
export function load() {
  return loadavg()[0].toFixed(2)
}
