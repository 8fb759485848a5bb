// Speed benchmark (issue #2, "What must hold" 5): `mlproj --version` / `--help` wall time, and training logistic
// regression on a generated 1M-row CSV against scikit-learn (pandas + the same pipeline), run alternately, with
// wall time, peak RSS and phase times of both. Exits 1 when a start-up median is >= 0.3 s or mlproj is slower.
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {load, machine, machineLine} from './machine.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const {values: opts} = parseArgs({
  options: {
    rows: {type: 'string', default: '1000000'},
    rounds: {type: 'string', default: '3'},
    'startup-runs': {type: 'string', default: '10'},
    seed: {type: 'string', default: '0'},
    data: {type: 'string'},
    python: {type: 'string', default: process.env.PYTHON ?? '/usr/bin/python3'},
    cli: {type: 'string', default: resolve(here, '../../bin/run.js')},
    profile: {type: 'boolean', default: false},
    'skip-startup': {type: 'boolean', default: false},
    'skip-train': {type: 'boolean', default: false},
    keep: {type: 'boolean', default: false},
    help: {type: 'boolean', short: 'h', default: false},
  },
})
if (opts.help) {
  console.log(`usage: node test/bench/speed.mjs [--rows 1000000] [--rounds 3] [--startup-runs 10] [--seed 0]
                  [--data big.csv] [--profile] [--skip-startup] [--skip-train] [--python PATH] [--cli bin/run.js] [--keep]

--data reuses a CSV written by gen_data.py instead of generating one in a temporary folder.
--profile adds one mlproj run under node --cpu-prof and prints the functions with the most self time.`)
  process.exit(0)
}

const STARTUP_BOUND = 0.3 // seconds, median
const work = mkdtempSync(join(tmpdir(), 'mlproj-bench-speed-'))
const m = machine(opts.python)
const seconds = ms => (ms / 1000).toFixed(3)
const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
let failed = false

/** Runs a command under /usr/bin/time; stderr lines are timestamped (ms since spawn) as they arrive. */
function timed(command, args, cwd) {
  const timeFile = join(work, `time-${process.hrtime.bigint()}`)
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now()
    const child = spawn('/usr/bin/time', ['-f', '%e %M %U %S', '-o', timeFile, command, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const lines = []
    let stdout = ''
    let pending = ''
    child.stdout.on('data', d => {
      stdout += d
    })
    child.stderr.on('data', d => {
      pending += d
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        lines.push({ms: performance.now() - t0, text: pending.slice(0, i)})
        pending = pending.slice(i + 1)
      }
    })
    child.on('error', reject)
    child.on('close', code => {
      const ms = performance.now() - t0
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${lines.map(l => l.text).join('\n')}`))
        return
      }
      const [wall, rssKb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number)
      resolvePromise({wall, cpu: user + sys, rssMb: rssKb / 1024, ms, stdout, lines})
    })
  })
}

// ---- start-up ----------------------------------------------------------------------------------------------
function startup() {
  const n = Number(opts['startup-runs'])
  const rows = []
  // `node -e 0` is the floor any Node CLI pays; it has no bound.
  for (const [label, args] of [
    ['node -e 0 (baseline)', ['-e', '0']],
    ['mlproj --version', [opts.cli, '--version']],
    ['mlproj --help', [opts.cli, '--help']],
  ]) {
    spawnSync(process.execPath, args) // warm the file cache
    const times = []
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      const r = spawnSync(process.execPath, args, {encoding: 'utf8'})
      times.push((performance.now() - t0) / 1000)
      if (r.status !== 0) throw new Error(`${label} exited with ${r.status}: ${r.stderr}`)
    }
    const med = median(times)
    const bounded = label.startsWith('mlproj')
    const holds = !bounded || med < STARTUP_BOUND
    failed ||= !holds
    rows.push(
      `| ${label} | ${n} | ${med.toFixed(3)} | ${Math.min(...times).toFixed(3)} | ${Math.max(...times).toFixed(3)} | ${bounded ? `< ${STARTUP_BOUND}` : '–'} | ${bounded ? (holds ? 'yes' : 'NO') : ''} |`,
    )
  }
  console.log(`\n### Start-up (wall seconds, node ${opts.cli}; load ${load()})\n`)
  console.log('| command | runs | median | min | max | bound (median) | holds |\n|---|---:|---:|---:|---:|---|---|')
  console.log(rows.join('\n'))
}

// ---- training ----------------------------------------------------------------------------------------------
const MLPROJ_MARKS = [
  ['start-up, workspace, run record', /^reading /],
  ['read CSV into columns', /^task: /],
  ['target, split', /^training /],
  ['fit, ONNX export, score train+test in ORT, save', /^run \S+ .*finished/],
]

function mlprojPhases(result) {
  const phases = {}
  let prev = 0
  for (const [name, re] of MLPROJ_MARKS) {
    const hit = result.lines.find(l => re.test(l.text))
    phases[name] = hit ? hit.ms - prev : Number.NaN
    if (hit) prev = hit.ms
  }
  phases['print, exit'] = result.ms - prev
  return phases
}

function sklearnPhases(result) {
  return Object.fromEntries(
    result.lines
      .map(l => /^(\w+) ([\d.]+)$/.exec(l.text))
      .filter(Boolean)
      .map(([, name, s]) => [name, Number(s) * 1000]),
  )
}

async function training() {
  let data = opts.data
  if (!data) {
    data = join(work, 'big.csv')
    const t0 = performance.now()
    const r = spawnSync(opts.python, [join(here, 'gen_data.py'), data, '--rows', opts.rows, '--seed', opts.seed], {
      stdio: 'inherit',
    })
    if (r.status !== 0) throw new Error('gen_data.py failed')
    process.stderr.write(`generated ${data} in ${seconds(performance.now() - t0)} s\n`)
  }
  const project = join(work, 'project')
  mkdirSync(project)
  spawnSync(process.execPath, [opts.cli, 'init', project, '--quiet'])
  const mlprojArgs = [
    opts.cli,
    'train',
    data,
    '--target',
    'label',
    '--algo',
    'logistic',
    '--test-size',
    '0.2',
    '--json',
  ]
  const sklearnArgs = [join(here, 'speed_sklearn.py'), data, '--target', 'label', '--test-size', '0.2']

  const runs = []
  let rows = Number(opts.rows)
  for (let round = 1; round <= Number(opts.rounds); round++) {
    for (const tool of ['mlproj', 'sklearn']) {
      const before = load()
      const r =
        tool === 'mlproj'
          ? await timed(process.execPath, mlprojArgs, project)
          : await timed(opts.python, sklearnArgs, project)
      const out = JSON.parse(r.stdout)
      const accuracy = tool === 'mlproj' ? out.metrics.test.accuracy : out.accuracy
      if (tool === 'sklearn') rows = out.rows
      const phases = tool === 'mlproj' ? mlprojPhases(r) : sklearnPhases(r)
      runs.push({round, tool, wall: r.wall, cpu: r.cpu, rssMb: r.rssMb, accuracy, phases, load: before})
      process.stderr.write(
        `round ${round} ${tool}: ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s, ${r.rssMb.toFixed(0)} MB, test accuracy ${accuracy.toFixed(4)} (load ${before})\n`,
      )
    }
  }

  console.log(`\n### Training logistic regression, ${rows.toLocaleString('en')} rows, 80/20 split\n`)
  console.log(`mlproj: \`node ${opts.cli} ${mlprojArgs.slice(1).join(' ')}\``)
  console.log(`sklearn: \`${opts.python} ${sklearnArgs.join(' ')}\`\n`)
  console.log(
    '| round | tool | wall s | CPU s (user+sys) | peak RSS MB | test accuracy | load before |\n|---:|---|---:|---:|---:|---:|---:|',
  )
  for (const r of runs) {
    console.log(
      `| ${r.round} | ${r.tool} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${r.rssMb.toFixed(0)} | ${r.accuracy.toFixed(4)} | ${r.load} |`,
    )
  }
  const summary = {}
  for (const tool of ['mlproj', 'sklearn']) {
    const rs = runs.filter(r => r.tool === tool)
    summary[tool] = {wall: rs.map(r => r.wall), cpu: rs.map(r => r.cpu), rss: rs.map(r => r.rssMb)}
  }
  console.log('\n| tool | wall median (min–max) s | CPU median s | peak RSS median MB |\n|---|---:|---:|---:|')
  for (const [tool, s] of Object.entries(summary)) {
    console.log(
      `| ${tool} | ${median(s.wall).toFixed(2)} (${Math.min(...s.wall).toFixed(2)}–${Math.max(...s.wall).toFixed(2)}) | ${median(s.cpu).toFixed(2)} | ${median(s.rss).toFixed(0)} |`,
    )
  }
  const ratio = median(summary.mlproj.wall) / median(summary.sklearn.wall)
  const holds = ratio <= 1
  failed ||= !holds
  console.log(
    `\nmlproj / sklearn wall time (medians): ${ratio.toFixed(2)} — bound "mlproj no slower than sklearn": ${holds ? 'holds' : 'DOES NOT HOLD'}`,
  )

  for (const tool of ['mlproj', 'sklearn']) {
    const rs = runs.filter(r => r.tool === tool)
    const names = Object.keys(rs[0].phases)
    console.log(`\n${tool} phases, median seconds over ${rs.length} runs:\n`)
    console.log('| phase | s |\n|---|---:|')
    for (const name of names) console.log(`| ${name} | ${seconds(median(rs.map(r => r.phases[name])))} |`)
  }

  if (opts.profile) await profile(mlprojArgs, project)
}

/** One more mlproj run under the V8 sampling profiler: where the time goes, by function self time. */
async function profile(mlprojArgs, project) {
  const dir = join(work, 'cpuprofile')
  const r = await timed(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...mlprojArgs], project)
  const p = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), 'utf8'))
  const nodes = new Map(p.nodes.map(n => [n.id, n]))
  const root = `${resolve(dirname(opts.cli), '..')}/`
  const self = new Map()
  for (let i = 0; i < p.samples.length; i++) {
    const {callFrame: f} = nodes.get(p.samples[i])
    const url = f.url.replace(/^file:\/\//, '')
    const file = url.includes('/node_modules/')
      ? url.slice(url.lastIndexOf('/node_modules/') + 1)
      : url.replace(root, '')
    const key = file ? `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}` : f.functionName
    self.set(key, (self.get(key) ?? 0) + p.timeDeltas[i] / 1000)
  }
  console.log(`\nmlproj under --cpu-prof: ${r.wall.toFixed(2)} s wall; top functions by self time (main thread):\n`)
  console.log('| self s | function |\n|---:|---|')
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`| ${seconds(ms)} | \`${key}\` |`)
  }
}

try {
  console.log(`machine: ${machineLine(m)}`)
  if (!opts['skip-startup']) startup()
  if (!opts['skip-train']) await training()
  console.log(failed ? '\nFAIL: a bound does not hold' : '\nOK: every bound holds')
  process.exitCode = failed ? 1 : 0
} finally {
  if (opts.keep) process.stderr.write(`kept ${work}\n`)
  else rmSync(work, {recursive: true, force: true})
}
