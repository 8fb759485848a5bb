// Quality benchmark for tree models (issue #3, "What must hold" 3): mlproj gbdt / forest against scikit-learn's
// HistGradientBoosting* / RandomForest* (XGBoost hist beside them) on identical train/test CSV splits of the
// shared datasets and of generated 125,000-row data with categorical columns and missing values.
// Exits 1 when, on the mean over the splits, mlproj's accuracy is more than 0.01 below the reference's or its
// RMSE more than 3% above it, or when an mlproj command fails.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {load, machine, machineLine} from './machine.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const {values: opts} = parseArgs({
  options: {
    seeds: {type: 'string', default: '0,1,2,3,4,5,6,7,8,9'},
    'gen-seeds': {type: 'string', default: '0'},
    'gen-rows': {type: 'string', default: '125000'},
    only: {type: 'string', default: ''},
    algos: {type: 'string', default: 'gbdt,forest'},
    python: {type: 'string', default: process.env.PYTHON ?? '/usr/bin/python3'},
    data: {type: 'string', default: process.env.MLPROJ_BENCH_DATA ?? '/work/shared/data'},
    cli: {type: 'string', default: resolve(here, '../../bin/run.js')},
    'node-options': {type: 'string', default: ''},
    keep: {type: 'boolean', default: false},
    help: {type: 'boolean', short: 'h', default: false},
  },
})
if (opts.help) {
  console.log(`usage: node test/bench/trees_quality.mjs [--seeds 0,...,9] [--gen-seeds 0] [--gen-rows 125000]
                  [--only breast_cancer,penguins,wine,diabetes,generated_classification,generated_regression]
                  [--algos gbdt,forest] [--node-options "--max-old-space-size=12000"]
                  [--python /usr/bin/python3] [--data DIR] [--cli bin/run.js] [--keep]

--seeds are the split seeds of the shared datasets, --gen-seeds those of the generated data ('' skips it).
--node-options go to node before the CLI path (e.g. a larger heap); by default mlproj runs as a user runs it.`)
  process.exit(0)
}

const ACCURACY_BOUND = 0.01 // absolute: mlproj no more than 1 point below
const RMSE_BOUND = 0.03 // relative: mlproj no more than 3% above
const SLACK = 1e-9
const REFERENCE = {gbdt: 'hgb', forest: 'rf'}
const REFERENCE_NAME = {hgb: 'HistGradientBoosting', rf: 'RandomForest'}

const seeds = opts.seeds.split(',').filter(Boolean)
const work = mkdtempSync(join(tmpdir(), 'mlproj-bench-trees-quality-'))
const workspace = join(work, 'ws')
const nodeOptions = opts['node-options'].split(' ').filter(Boolean)
const algos = opts.algos.split(',').filter(Boolean)

/** Runs the CLI; on failure returns the exit code or signal and the last lines of stderr instead of throwing. */
function mlproj(args) {
  try {
    const out = execFileSync(
      process.execPath,
      [...nodeOptions, opts.cli, ...args, '--workspace', workspace, '--json', '--quiet'],
      {encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe']},
    )
    return JSON.parse(out)
  } catch (error) {
    const lines = String(error.stderr ?? '')
      .split('\n')
      .filter(l => l.trim())
    // A crash of node itself prints its reason above a native stack; otherwise the last lines say what failed.
    const fatal = lines.find(l => /FATAL ERROR|^\w*Error\b/.test(l))
    const tail = fatal ?? lines.slice(-3).join(' / ')
    return {error: `${error.signal ? `killed by ${error.signal}` : `exit ${error.status}`}: ${tail.slice(0, 300)}`}
  }
}

function mlprojParams(algo, task) {
  if (algo === 'gbdt') {
    return {
      nEstimators: 100,
      learningRate: 0.1,
      numLeaves: 31,
      maxDepth: -1,
      minDataInLeaf: 20,
      lambdaL2: 0,
      maxBins: 255,
      earlyStoppingRounds: 0,
    }
  }
  return {
    nEstimators: 100,
    maxFeatures: task === 'classification' ? 'sqrt' : 'all',
    minSamplesLeaf: 1,
    maxDepth: -1,
    bootstrap: true,
  }
}

const mean = xs => xs.reduce((a, b) => a + b, 0) / xs.length
const sd = xs => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)))

try {
  const t0 = performance.now()
  const loadStart = load()
  const reference = JSON.parse(
    execFileSync(
      opts.python,
      [
        join(here, 'trees_quality.py'),
        '--data',
        opts.data,
        '--out',
        work,
        '--seeds',
        seeds.join(','),
        '--gen-seeds',
        opts['gen-seeds'],
        '--gen-rows',
        opts['gen-rows'],
        '--only',
        opts.only,
      ],
      {encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit']},
    ),
  )
  const pythonSeconds = (performance.now() - t0) / 1000

  const rows = []
  const failures = []
  const mlprojSeconds = {gbdt: 0, forest: 0}
  for (const r of reference.results) {
    const metric = r.task === 'classification' ? 'accuracy' : 'rmse'
    for (const algo of algos) {
      const t = performance.now()
      const params = Object.entries(mlprojParams(algo, r.task)).flatMap(([k, v]) => ['--param', `${k}=${v}`])
      const trained = mlproj([
        'train',
        r.train,
        '--target',
        r.target,
        '--algo',
        algo,
        '--test-size',
        '0',
        '--seed',
        String(r.seed),
        ...params,
      ])
      const evaluated = trained.error ? trained : mlproj(['evaluate', `run:${trained.runId}`, r.test])
      mlprojSeconds[algo] += (performance.now() - t) / 1000
      const ref = REFERENCE[algo]
      const row = {
        ...r,
        algo,
        metric,
        ref: r.reference[ref][metric],
        xgb: r.reference.xgb?.[metric],
        ml: evaluated.metrics?.[metric],
      }
      if (evaluated.error) {
        row.error = `${trained.error ? 'train' : 'evaluate'}: ${evaluated.error}`
        failures.push(row)
      }
      rows.push(row)
      process.stderr.write(
        `${r.dataset} seed ${r.seed} ${algo}: ${metric} mlproj ${row.error ?? row.ml} ${REFERENCE_NAME[ref]} ${row.ref} xgboost ${row.xgb} (load ${load()})\n`,
      )
    }
  }

  const fmt = v => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(4))
  const gap = (metric, ml, sk) => (metric === 'rmse' ? ml / sk - 1 : ml - sk)
  const fmtGap = (metric, g) =>
    Number.isNaN(g)
      ? '–'
      : metric === 'rmse'
        ? `${g >= 0 ? '+' : ''}${(100 * g).toFixed(2)}%`
        : `${g >= 0 ? '+' : ''}${g.toFixed(4)}`
  // One-sided: mlproj may be better by any margin, not worse by more than the bound.
  const within = (metric, g) => (metric === 'rmse' ? g <= RMSE_BOUND + SLACK : g >= -ACCURACY_BOUND - SLACK)
  const better = (metric, g) => (metric === 'rmse' ? g < -SLACK : g > SLACK)
  const worse = (metric, g) => (metric === 'rmse' ? g > SLACK : g < -SLACK)

  let failed = failures.length > 0
  console.log(`machine: ${machineLine(machine(opts.python))}; load ${loadStart} at the start, ${load()} at the end`)
  for (const algo of algos) {
    const ref = REFERENCE[algo]
    console.log(`\n### mlproj ${algo} against scikit-learn ${REFERENCE_NAME[ref]}* (XGBoost hist beside)\n`)
    const lines = [
      `| dataset | metric | rows train/test | splits | mlproj mean ± sd | ${ref} mean ± sd | xgboost mean ± sd | mean gap | gap, first split | worst split gap | mlproj better/equal/worse | bound | holds |`,
      '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ]
    for (const dataset of [...new Set(rows.map(r => r.dataset))]) {
      const rs = rows.filter(r => r.dataset === dataset && r.algo === algo)
      const {metric} = rs[0]
      const ok = rs.filter(r => !r.error)
      const bound = metric === 'rmse' ? `≤ +${100 * RMSE_BOUND}%` : `≥ −${ACCURACY_BOUND}`
      if (ok.length < rs.length) {
        lines.push(
          `| ${dataset} | ${metric} | ${rs[0].nTrain}/${rs[0].nTest} | ${rs.length} | FAILED on ${rs.length - ok.length} of ${rs.length} splits | ${fmt(mean(rs.map(r => r.ref)))} ± ${fmt(sd(rs.map(r => r.ref)))} | ${fmt(mean(rs.map(r => r.xgb)))} | – | – | – | – | ${bound} | NO |`,
        )
        continue
      }
      const ml = ok.map(r => r.ml)
      const sk = ok.map(r => r.ref)
      const xg = ok.map(r => r.xgb)
      const gaps = ok.map(r => gap(metric, r.ml, r.ref))
      const gapMean = gap(metric, mean(ml), mean(sk))
      const worst = gaps.reduce((a, b) => (metric === 'rmse' ? Math.max(a, b) : Math.min(a, b)))
      const holds = within(metric, gapMean)
      failed ||= !holds
      const tally = `${gaps.filter(g => better(metric, g)).length}/${gaps.filter(g => !better(metric, g) && !worse(metric, g)).length}/${gaps.filter(g => worse(metric, g)).length}`
      lines.push(
        `| ${dataset} | ${metric} | ${ok[0].nTrain}/${ok[0].nTest} | ${ok.length} | ${fmt(mean(ml))} ± ${fmt(sd(ml))} | ${fmt(mean(sk))} ± ${fmt(sd(sk))} | ${xg.every(v => v !== undefined) ? `${fmt(mean(xg))} ± ${fmt(sd(xg))}` : '–'} | ${fmtGap(metric, gapMean)} | ${fmtGap(metric, gaps[0])} | ${fmtGap(metric, worst)} | ${tally} | ${bound} | ${holds ? 'yes' : 'NO'} |`,
      )
    }
    console.log(lines.join('\n'))
  }
  console.log(
    `\nsklearn ${reference.sklearn}, xgboost ${reference.xgboost ?? 'not installed'}; splits: train_test_split(test_size=0.2, random_state=seed, stratify=y for classification); shared-data seeds ${seeds.join(',') || '–'}, generated-data seeds ${opts['gen-seeds'] || '–'} (${Number(opts['gen-rows']).toLocaleString('en')} rows); gap = mlproj − reference (accuracy) or mlproj / reference − 1 (RMSE); ${((performance.now() - t0) / 1000).toFixed(0)} s in all (Python ${pythonSeconds.toFixed(0)} s, mlproj gbdt ${mlprojSeconds.gbdt.toFixed(0)} s, forest ${mlprojSeconds.forest.toFixed(0)} s)${nodeOptions.length ? `; node options: ${nodeOptions.join(' ')}` : ''}`,
  )
  for (const r of reference.results.filter(x => x.warnings.length > 0)) {
    console.log(`python warned on ${r.dataset} seed ${r.seed}: ${r.warnings.join(', ')}`)
  }
  for (const f of failures) console.log(`mlproj ${f.algo} FAILED on ${f.dataset} seed ${f.seed}: ${f.error}`)
  console.log(failed ? 'FAIL: a bound does not hold' : 'OK: every bound holds')
  process.exitCode = failed ? 1 : 0
} finally {
  if (opts.keep) process.stderr.write(`kept ${work}\n`)
  else rmSync(work, {recursive: true, force: true})
}
