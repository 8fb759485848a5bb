// Speed, memory and model-size benchmark for tree models (issue #3, "What must hold" 4 and 5).
// - gbdt: `mlproj train --algo gbdt` on a generated 500,000 × 30 binary task against scikit-learn's
//   HistGradientBoostingClassifier (OpenMP threads as installed, and with OMP_NUM_THREADS=1) and XGBoost hist,
//   alternately, each whole process (start-up, reading the CSV, 80/20 split, fit, test accuracy) under
//   /usr/bin/time. Bound: mlproj's median wall time ≤ 1.5 × HistGradientBoosting's (its faster configuration).
// - forest: `mlproj train --algo forest` (100 trees) on 100,000 × 30 rows against RandomForestClassifier(n_jobs=-1).
//   Bound: mlproj's median wall time ≤ RandomForest's.
// - memory: peak RSS of each against 3 × rows × 30 × 8 bytes, and each tool's peak on a 200-row table (its fixed
//   cost). Bound: mlproj's median peak minus its fixed cost ≤ 3 × rows × 30 × 8 bytes.
// - ONNX: gbdt with 500 trees × 31 leaves: file size, its trees and leaves, and `mlproj evaluate` on it.
// Exits 1 when a bound does not hold or a command fails.
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {load, machine, machineLine} from './machine.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const {values: opts} = parseArgs({
  options: {
    rounds: {type: 'string', default: '3'},
    'gbdt-rows': {type: 'string', default: '500000'},
    'forest-rows': {type: 'string', default: '100000'},
    features: {type: 'string', default: '30'},
    'onnx-trees': {type: 'string', default: '500'},
    seed: {type: 'string', default: '0'},
    only: {type: 'string', default: 'gbdt,forest,tiny,onnx'},
    python: {type: 'string', default: process.env.PYTHON ?? '/usr/bin/python3'},
    cli: {type: 'string', default: resolve(here, '../../bin/run.js')},
    phases: {type: 'boolean', default: false},
    profile: {type: 'boolean', default: false},
    keep: {type: 'boolean', default: false},
    help: {type: 'boolean', short: 'h', default: false},
  },
})
if (opts.help) {
  console.log(`usage: node test/bench/trees_speed.mjs [--rounds 3] [--only gbdt,forest,tiny,onnx]
                  [--gbdt-rows 500000] [--forest-rows 100000] [--features 30] [--onnx-trees 500] [--seed 0]
                  [--phases] [--profile] [--python /usr/bin/python3] [--cli bin/run.js] [--keep]

--phases adds one in-process replay of mlproj's training steps per algorithm (trees_phases.mjs: read, fit,
ONNX export, ONNX Runtime load and scoring, each timed). --profile adds one mlproj run per algorithm under
node --cpu-prof and prints the functions with the most main-thread self time.`)
  process.exit(0)
}

const GBDT_BOUND = 1.5 // mlproj median wall ≤ 1.5 × HistGradientBoosting's
const FOREST_BOUND = 1.0 // mlproj median wall ≤ RandomForest's
const rounds = Number(opts.rounds)
const nFeatures = Number(opts.features)
const only = new Set(opts.only.split(','))
const work = mkdtempSync(join(tmpdir(), 'mlproj-bench-trees-speed-'))
const m = machine(opts.python)
const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const mb = bytes => bytes / 2 ** 20
let failed = false
const failures = []

/** Runs a command under /usr/bin/time; stderr lines are timestamped (ms since spawn) as they arrive. (As speed.mjs.) */
function timed(command, args, {cwd, env} = {}) {
  const timeFile = join(work, `time-${process.hrtime.bigint()}`)
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now()
    const child = spawn('/usr/bin/time', ['-f', '%e %M %U %S', '-o', timeFile, command, ...args], {
      cwd,
      env: {...process.env, ...env},
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
    child.on('close', (code, signal) => {
      const ms = performance.now() - t0
      const timeLines = readFileSync(timeFile, 'utf8').trim().split('\n')
      const [wall, rssKb, user, sys] = timeLines.at(-1).split(' ').map(Number)
      const result = {wall, cpu: user + sys, rssMb: rssKb / 1024, ms, stdout, lines}
      if (code !== 0) {
        const tail = [...lines.map(l => l.text), ...timeLines]
          .filter(l => l.trim())
          .slice(-4)
          .join(' / ')
        reject(
          Object.assign(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}: ${tail}`), {result}),
        )
        return
      }
      resolvePromise(result)
    })
  })
}

function python(args, what) {
  const r = spawnSync(opts.python, [join(here, 'trees_speed.py'), ...args], {stdio: ['ignore', 'inherit', 'inherit']})
  if (r.status !== 0) throw new Error(`${what} failed`)
}

function generate(name, rows, seed) {
  const path = join(work, name)
  const t0 = performance.now()
  python(
    ['gen', path, '--rows', String(rows), '--features', String(nFeatures), '--seed', String(seed)],
    `generating ${name}`,
  )
  process.stderr.write(
    `generated ${path} (${rows} rows, ${(mb(statSync(path).size)).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  )
  return path
}

const project = join(work, 'project')
mkdirSync(project)
spawnSync(process.execPath, [opts.cli, 'init', project, '--quiet'])

const GBDT_PARAMS = [
  'nEstimators=100',
  'learningRate=0.1',
  'numLeaves=31',
  'maxDepth=-1',
  'minDataInLeaf=20',
  'lambdaL2=0',
  'maxBins=255',
  'earlyStoppingRounds=0',
]
const FOREST_PARAMS = ['nEstimators=100', 'maxFeatures=sqrt', 'minSamplesLeaf=1', 'maxDepth=-1', 'bootstrap=true']

function mlprojTool(data, algo, params) {
  return {
    name: 'mlproj',
    command: process.execPath,
    args: [
      opts.cli,
      'train',
      data,
      '--target',
      'label',
      '--algo',
      algo,
      ...params.flatMap(p => ['--param', p]),
      '--test-size',
      '0.2',
      '--json',
    ],
    accuracy: out => out.metrics.test.accuracy,
  }
}

function pythonTool(name, data, model, env) {
  return {
    name,
    command: opts.python,
    args: [join(here, 'trees_speed.py'), 'fit', data, '--target', 'label', '--model', model, '--test-size', '0.2'],
    env,
    accuracy: out => out.accuracy,
  }
}

const show = t =>
  `${
    t.env
      ? `${Object.entries(t.env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')} `
      : ''
  }${t.command === process.execPath ? 'node' : t.command} ${t.args.join(' ').replace(work, '$TMP')}`

// mlproj's progress lines split its run into phases (as speed.mjs).
const MLPROJ_MARKS = [
  ['start-up, workspace, run record', /^reading /],
  ['read CSV into columns (DuckDB), sha256', /^task: /],
  ['target, split', /^training /],
  ['fit, ONNX export, ORT scoring of ≤100k train + test rows, save', /^run \S+ .*finished/],
]
function mlprojPhases(result) {
  const phases = {}
  let prev = 0
  for (const [name, re] of MLPROJ_MARKS) {
    const hit = result.lines.find(l => re.test(l.text))
    phases[name] = hit ? (hit.ms - prev) / 1000 : Number.NaN
    if (hit) prev = hit.ms
  }
  phases['print, exit'] = (result.ms - prev) / 1000
  return phases
}
function pythonPhases(result) {
  return Object.fromEntries(
    result.lines
      .map(l => /^(\w+) ([\d.]+)$/.exec(l.text))
      .filter(Boolean)
      .map(([, name, s]) => [name, Number(s)]),
  )
}

/** Runs the tools alternately (order reversed every other round); returns every run. */
async function race(tools, label) {
  const runs = []
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 ? tools : [...tools].reverse()
    for (const tool of order) {
      const before = load()
      let r
      try {
        r = await timed(tool.command, tool.args, {cwd: project, env: tool.env})
      } catch (error) {
        failures.push(`${label} round ${round} ${tool.name}: ${error.message}`)
        process.stderr.write(`${label} round ${round} ${tool.name}: FAILED ${error.message}\n`)
        runs.push({round, tool: tool.name, failed: true, ...(error.result ?? {}), load: before})
        continue
      }
      const out = JSON.parse(r.stdout)
      const phases = tool.name === 'mlproj' ? mlprojPhases(r) : pythonPhases(r)
      runs.push({
        round,
        tool: tool.name,
        wall: r.wall,
        cpu: r.cpu,
        rssMb: r.rssMb,
        accuracy: tool.accuracy(out),
        phases,
        load: before,
      })
      process.stderr.write(
        `${label} round ${round} ${tool.name}: ${r.wall.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s, ${r.rssMb.toFixed(0)} MB, test accuracy ${tool.accuracy(out).toFixed(4)} (load ${before})\n`,
      )
    }
  }
  return runs
}

function report(title, tools, runs, reference, bound, rows, tiny) {
  console.log(`\n### ${title}\n`)
  for (const t of tools) console.log(`- ${t.name}: \`${show(t)}\``)
  console.log(
    '\n| round | tool | wall s | CPU s (user+sys) | peak RSS MB | test accuracy | load before |\n|---:|---|---:|---:|---:|---:|---:|',
  )
  for (const r of runs) {
    console.log(
      r.failed
        ? `| ${r.round} | ${r.tool} | ${r.wall?.toFixed(2) ?? '–'} | ${r.cpu?.toFixed(2) ?? '–'} | ${r.rssMb?.toFixed(0) ?? '–'} | FAILED | ${r.load} |`
        : `| ${r.round} | ${r.tool} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${r.rssMb.toFixed(0)} | ${r.accuracy.toFixed(4)} | ${r.load} |`,
    )
  }
  const dataMb = mb(3 * rows * nFeatures * 8)
  console.log(
    `\n| tool | runs | wall median (min–max) s | CPU median s | peak RSS median MB | RSS − its 200-row peak MB | peak / (3 × data as float64 = ${dataMb.toFixed(0)} MB) |\n|---|---:|---:|---:|---:|---:|---:|`,
  )
  const summary = {}
  for (const t of tools) {
    const rs = runs.filter(r => r.tool === t.name && !r.failed)
    if (rs.length === 0) {
      console.log(`| ${t.name} | 0 | FAILED | – | – | – | – |`)
      continue
    }
    const wall = rs.map(r => r.wall)
    const rss = median(rs.map(r => r.rssMb))
    summary[t.name] = {wall: median(wall), rss}
    const fixed = tiny?.[t.name]
    console.log(
      `| ${t.name} | ${rs.length} | ${median(wall).toFixed(2)} (${Math.min(...wall).toFixed(2)}–${Math.max(...wall).toFixed(2)}) | ${median(rs.map(r => r.cpu)).toFixed(2)} | ${rss.toFixed(0)} | ${fixed ? (rss - fixed).toFixed(0) : '–'} | ${(rss / dataMb).toFixed(2)} |`,
    )
  }
  // Memory: the data-dependent part of mlproj's peak (above the same command's peak on 200 rows, which is Node,
  // DuckDB and ONNX Runtime loaded: ~190 MB whatever the data) against 3 × the data as float64.
  const fixed = tiny?.mlproj
  if (summary.mlproj && fixed) {
    const above = summary.mlproj.rss - fixed
    const memoryHolds = above <= dataMb
    console.log(
      `\nMemory: mlproj's median peak ${summary.mlproj.rss.toFixed(0)} MB − its 200-row peak ${fixed.toFixed(0)} MB = ${above.toFixed(0)} MB against 3 × data as float64 = ${dataMb.toFixed(0)} MB — ${memoryHolds ? 'holds' : 'DOES NOT HOLD'}`,
    )
    if (!memoryHolds)
      failures.push(
        `${title.split(':')[0]} memory: ${above.toFixed(0)} MB above the fixed cost > ${dataMb.toFixed(0)} MB`,
      )
  }
  // Per-pair ratios: mlproj against each other tool in the same round.
  const ratios = {}
  for (const t of tools.filter(x => x.name !== 'mlproj')) {
    ratios[t.name] = []
    for (let round = 1; round <= rounds; round++) {
      const a = runs.find(r => r.round === round && r.tool === 'mlproj' && !r.failed)
      const b = runs.find(r => r.round === round && r.tool === t.name && !r.failed)
      if (a && b) ratios[t.name].push(a.wall / b.wall)
    }
  }
  console.log('\n| mlproj against | per-round wall ratios | median of ratios | ratio of medians |\n|---|---|---:|---:|')
  for (const [name, rs] of Object.entries(ratios)) {
    console.log(
      `| ${name} | ${rs.map(x => x.toFixed(2)).join(', ') || '–'} | ${rs.length ? median(rs).toFixed(2) : '–'} | ${summary.mlproj && summary[name] ? (summary.mlproj.wall / summary[name].wall).toFixed(2) : '–'} |`,
    )
  }
  // The bound is checked against the reference tool's faster configuration (lower median wall time).
  const refs = reference.filter(name => summary[name])
  const best = refs.sort((a, b) => summary[a].wall - summary[b].wall)[0]
  let holds = false
  if (summary.mlproj && best) {
    const ratioOfMedians = summary.mlproj.wall / summary[best].wall
    const medianRatio = median(ratios[best])
    holds = ratioOfMedians <= bound && medianRatio <= bound
    console.log(
      `\nBound: mlproj's median wall time ≤ ${bound} × ${best}'s (the faster of ${reference.join(', ')}): ratio of medians ${ratioOfMedians.toFixed(2)}, median per-round ratio ${medianRatio.toFixed(2)} — ${holds ? 'holds' : 'DOES NOT HOLD'}`,
    )
  } else {
    console.log(`\nBound: mlproj ≤ ${bound} × ${reference.join('/')}: DOES NOT HOLD (a tool failed every run)`)
  }
  failed ||= !holds

  for (const t of tools) {
    const rs = runs.filter(r => r.tool === t.name && !r.failed)
    if (rs.length === 0) continue
    const names = Object.keys(rs[0].phases)
    console.log(
      `\n${t.name} phases, median seconds over ${rs.length} runs: ${names.map(n => `${n} ${median(rs.map(r => r.phases[n])).toFixed(2)}`).join('; ')}`,
    )
  }
  return summary
}

/** One in-process replay of mlproj's training steps (trees_phases.mjs) on the build under --cli. */
async function phasesReplay(data, algo, params) {
  const dist = resolve(dirname(opts.cli), '..', 'dist')
  const r = await timed(
    process.execPath,
    [join(here, 'trees_phases.mjs'), dist, data, 'label', algo, '--test-size', '0.2', ...params],
    {cwd: project},
  )
  const out = JSON.parse(r.stdout)
  console.log(
    `\nmlproj ${algo} steps replayed in one process (trees_phases.mjs; ${r.wall.toFixed(2)} s wall, peak RSS ${r.rssMb.toFixed(0)} MB, load ${load()}):\n`,
  )
  console.log('| step | s | RSS after MB |\n|---|---:|---:|')
  for (const [name, p] of Object.entries(out.phases))
    if (typeof p === 'object') console.log(`| ${name} | ${p.s.toFixed(2)} | ${p.rssMb.toFixed(0)} |`)
}

/** One more mlproj run under the V8 sampling profiler: where the main thread's time goes, by self time. */
async function profile(tool) {
  const dir = join(work, `cpuprofile-${process.hrtime.bigint()}`)
  const r = await timed(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...tool.args], {cwd: project})
  // One profile per thread: CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
  const files = readdirSync(dir)
  const mainFile = files.find(f => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files.sort()[0]
  const main = JSON.parse(readFileSync(join(dir, mainFile), 'utf8'))
  const nodes = new Map(main.nodes.map(n => [n.id, n]))
  const root = `${resolve(dirname(opts.cli), '..')}/`
  const self = new Map()
  for (let i = 0; i < main.samples.length; i++) {
    const {callFrame: f} = nodes.get(main.samples[i])
    const url = f.url.replace(/^file:\/\//, '')
    const file = url.includes('/node_modules/')
      ? url.slice(url.lastIndexOf('/node_modules/') + 1)
      : url.replace(root, '')
    const key = file ? `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}` : f.functionName
    self.set(key, (self.get(key) ?? 0) + main.timeDeltas[i] / 1e6)
  }
  console.log(`\nmlproj under --cpu-prof: ${r.wall.toFixed(2)} s wall; top functions by main-thread self time:\n`)
  console.log('| self s | function |\n|---:|---|')
  for (const [key, s] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 12))
    console.log(`| ${s.toFixed(2)} | \`${key}\` |`)
}

// ---- tiny data: each tool's fixed cost --------------------------------------------------------------------------
async function tinyPeaks(tiny) {
  const tools = [
    mlprojTool(tiny, 'gbdt', GBDT_PARAMS),
    pythonTool('HistGradientBoosting', tiny, 'hgb'),
    pythonTool('XGBoost', tiny, 'xgb'),
    pythonTool('RandomForest', tiny, 'rf'),
  ]
  const peaks = {}
  const rows = []
  for (const t of tools) {
    const rs = []
    for (let i = 0; i < 3; i++) rs.push(await timed(t.command, t.args, {cwd: project, env: t.env}))
    peaks[t.name] = median(rs.map(r => r.rssMb))
    rows.push(`| ${t.name} | ${median(rs.map(r => r.wall)).toFixed(2)} | ${peaks[t.name].toFixed(0)} |`)
  }
  console.log(`\n### Fixed cost: 200 rows × ${nFeatures} (median of 3 runs each, load ${load()})\n`)
  console.log(`mlproj: \`${show(tools[0])}\` (the other tools as below)\n`)
  console.log('| tool | wall s | peak RSS MB |\n|---|---:|---:|')
  console.log(rows.join('\n'))
  peaks['HistGradientBoosting 1 thread'] = peaks.HistGradientBoosting
  return peaks
}

// ---- ONNX size of a 500-tree model ------------------------------------------------------------------------------
async function onnxSize(data, holdout) {
  const trees = Number(opts['onnx-trees'])
  const params = [`nEstimators=${trees}`, 'numLeaves=31', 'learningRate=0.1', 'maxBins=255', 'earlyStoppingRounds=0']
  const train = await timed(
    process.execPath,
    [
      opts.cli,
      'train',
      data,
      '--target',
      'label',
      '--algo',
      'gbdt',
      ...params.flatMap(p => ['--param', p]),
      '--test-size',
      '0',
      '--json',
    ],
    {cwd: project},
  )
  const trained = JSON.parse(train.stdout)
  const modelPath = join(project, '.mlproj', 'artifacts', trained.runId, 'model.onnx')
  const bytes = readFileSync(modelPath)
  const {onnx} = createRequire(resolve(opts.cli))('onnx-proto')
  const model = onnx.ModelProto.decode(bytes)
  const ensembles = model.graph.node.filter(n => n.opType.startsWith('TreeEnsemble'))
  const attr = (n, name) => n.attribute.find(a => a.name === name)
  let nTrees = 0
  let nLeaves = 0
  let nInterior = 0
  for (const n of ensembles) {
    nTrees += attr(n, 'tree_roots')?.ints.length ?? 0
    const weights = attr(n, 'leaf_weights')
    nLeaves += weights?.t
      ? Number(weights.t.dims[0]?.toNumber?.() ?? weights.t.dims[0])
      : (attr(n, 'leaf_targetids')?.ints.length ?? 0)
    nInterior += attr(n, 'nodes_featureids')?.ints.length ?? 0
  }
  const evalHoldout = await timed(process.execPath, [opts.cli, 'evaluate', `run:${trained.runId}`, holdout, '--json'], {
    cwd: project,
  })
  const evalTrain = await timed(process.execPath, [opts.cli, 'evaluate', `run:${trained.runId}`, data, '--json'], {
    cwd: project,
  })
  const holdoutMetrics = JSON.parse(evalHoldout.stdout).metrics
  const trainMetrics = JSON.parse(evalTrain.stdout).metrics
  const same = Math.abs(trainMetrics.accuracy - trained.metrics.train.accuracy) < 1e-12
  const ok = ensembles.length > 0 && nTrees === trees && same && Number.isFinite(holdoutMetrics.accuracy)
  failed ||= !ok
  console.log(
    `\n### ONNX model of ${trees} trees × 31 leaves (gbdt, ${Number(opts['forest-rows']).toLocaleString('en')} × ${nFeatures} rows)\n`,
  )
  console.log(
    `- train: \`mlproj train forest.csv --target label --algo gbdt ${params.map(p => `--param ${p}`).join(' ')} --test-size 0\`: ${train.wall.toFixed(1)} s, peak ${train.rssMb.toFixed(0)} MB (load ${load()})`,
  )
  console.log(
    `- model.onnx: ${bytes.length.toLocaleString('en')} bytes (${mb(bytes.length).toFixed(2)} MiB); ${ensembles.map(n => `${n.domain}.${n.opType}`).join(', ')}: ${nTrees} trees, ${nLeaves.toLocaleString('en')} leaves (${(nLeaves / Math.max(nTrees, 1)).toFixed(1)} per tree), ${nInterior.toLocaleString('en')} interior nodes; ${(bytes.length / Math.max(nLeaves + nInterior, 1)).toFixed(1)} bytes per node`,
  )
  console.log(
    `- \`mlproj evaluate run:${trained.runId} holdout.csv\` (20,000 new rows): accuracy ${holdoutMetrics.accuracy.toFixed(4)}, AUC ${holdoutMetrics.auc?.toFixed(4)}; ${evalHoldout.wall.toFixed(2)} s wall, peak ${evalHoldout.rssMb.toFixed(0)} MB`,
  )
  console.log(
    `- \`mlproj evaluate\` on the training file: accuracy ${trainMetrics.accuracy.toFixed(6)}, train's own ONNX metric ${trained.metrics.train.accuracy.toFixed(6)} (${same ? 'equal' : 'DIFFERENT'}); ${evalTrain.wall.toFixed(2)} s wall`,
  )
  console.log(`- loads and scores through evaluate: ${ok ? 'yes' : 'NO'}`)
}

try {
  console.log(`machine: ${machineLine(m)}; load ${load()} at the start`)
  const t0 = performance.now()
  const gbdtRows = Number(opts['gbdt-rows'])
  const forestRows = Number(opts['forest-rows'])
  const tiny = generate('tiny.csv', 200, Number(opts.seed) + 7)
  let tinyPeak
  if (only.has('tiny')) tinyPeak = await tinyPeaks(tiny)

  if (only.has('gbdt')) {
    const data = generate('gbdt.csv', gbdtRows, Number(opts.seed))
    const tools = [
      mlprojTool(data, 'gbdt', GBDT_PARAMS),
      pythonTool('HistGradientBoosting', data, 'hgb'),
      pythonTool('HistGradientBoosting 1 thread', data, 'hgb', {OMP_NUM_THREADS: '1'}),
      pythonTool('XGBoost', data, 'xgb'),
    ]
    const runs = await race(tools, 'gbdt')
    report(
      `gbdt: ${gbdtRows.toLocaleString('en')} × ${nFeatures}, binary, 100 trees × 31 leaves, 255 bins, learning rate 0.1, 80/20 split`,
      tools,
      runs,
      ['HistGradientBoosting', 'HistGradientBoosting 1 thread'],
      GBDT_BOUND,
      gbdtRows,
      tinyPeak,
    )
    if (opts.phases) await phasesReplay(data, 'gbdt', GBDT_PARAMS)
    if (opts.profile) await profile(tools[0])
  }

  let forestData
  if (only.has('forest') || only.has('onnx')) forestData = generate('forest.csv', forestRows, Number(opts.seed) + 1)
  if (only.has('forest')) {
    const tools = [mlprojTool(forestData, 'forest', FOREST_PARAMS), pythonTool('RandomForest', forestData, 'rf')]
    const runs = await race(tools, 'forest')
    report(
      `forest: ${forestRows.toLocaleString('en')} × ${nFeatures}, binary, 100 trees, max_features sqrt, 80/20 split`,
      tools,
      runs,
      ['RandomForest'],
      FOREST_BOUND,
      forestRows,
      tinyPeak,
    )
    if (opts.phases) await phasesReplay(forestData, 'forest', FOREST_PARAMS)
    if (opts.profile) await profile(tools[0])
  }

  if (only.has('onnx')) await onnxSize(forestData, generate('holdout.csv', 20_000, Number(opts.seed) + 2))

  for (const f of failures) console.log(`FAILED: ${f}`)
  failed ||= failures.length > 0
  console.log(`\n${((performance.now() - t0) / 1000).toFixed(0)} s in all; load ${load()} at the end`)
  console.log(failed ? 'FAIL: a bound does not hold' : 'OK: every bound holds')
  process.exitCode = failed ? 1 : 0
} finally {
  if (opts.keep) process.stderr.write(`kept ${work}\n`)
  else rmSync(work, {recursive: true, force: true})
}
