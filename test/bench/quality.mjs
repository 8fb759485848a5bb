// Quality benchmark (issue #2, "What must hold" 3): mlproj logistic / linear against scikit-learn
// LogisticRegression(C=1) / Ridge(alpha=1) on identical train/test CSV splits of the shared datasets.
// Exits 1 when mlproj's accuracy is more than 0.01 from sklearn's, or its RMSE more than 2% from sklearn's.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {machine, machineLine} from './machine.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const {values: opts} = parseArgs({
  options: {
    seeds: {type: 'string', default: '0,1,2,3,4,5,6,7,8,9'},
    python: {type: 'string', default: process.env.PYTHON ?? '/usr/bin/python3'},
    data: {type: 'string', default: process.env.MLPROJ_BENCH_DATA ?? '/work/shared/data'},
    cli: {type: 'string', default: resolve(here, '../../bin/run.js')},
    keep: {type: 'boolean', default: false},
    help: {type: 'boolean', short: 'h', default: false},
  },
})
if (opts.help) {
  console.log(`usage: node test/bench/quality.mjs [--seeds 0,1,2,3,4,5,6,7,8,9] [--python /usr/bin/python3] [--data DIR] [--keep]

The first seed is the reference split: the bounds are checked on it and on the mean over all seeds.`)
  process.exit(0)
}

const ACCURACY_BOUND = 0.01 // absolute
const RMSE_BOUND = 0.02 // relative
const SLACK = 1e-9

const seeds = opts.seeds.split(',').map(s => Number.parseInt(s, 10))
const work = mkdtempSync(join(tmpdir(), 'mlproj-bench-quality-'))
const workspace = join(work, 'ws')

function mlproj(args) {
  const out = execFileSync(process.execPath, [opts.cli, ...args, '--workspace', workspace, '--json', '--quiet'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  return JSON.parse(out)
}

const mean = xs => xs.reduce((a, b) => a + b, 0) / xs.length
const sd = xs => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)))

try {
  const t0 = performance.now()
  const reference = JSON.parse(
    execFileSync(
      opts.python,
      [join(here, 'quality_sklearn.py'), '--data', opts.data, '--out', work, '--seeds', seeds.join(',')],
      {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      },
    ),
  )

  const rows = []
  for (const r of reference.results) {
    const algo = r.task === 'classification' ? 'logistic' : 'linear'
    const trained = mlproj(['train', r.train, '--target', r.target, '--algo', algo, '--test-size', '0'])
    const evaluated = mlproj(['evaluate', `run:${trained.runId}`, r.test])
    const metric = r.task === 'classification' ? 'accuracy' : 'rmse'
    rows.push({...r, metric, sk: r.sklearn[metric], ml: evaluated.metrics[metric]})
    process.stderr.write(
      `${r.dataset} seed ${r.seed}: ${metric} mlproj ${evaluated.metrics[metric]} sklearn ${r.sklearn[metric]}\n`,
    )
  }

  const fmt = v => v.toFixed(4)
  const gap = (metric, ml, sk) => (metric === 'rmse' ? ml / sk - 1 : ml - sk)
  const fmtGap = (metric, g) =>
    metric === 'rmse' ? `${g >= 0 ? '+' : ''}${(100 * g).toFixed(3)}%` : `${g >= 0 ? '+' : ''}${g.toFixed(4)}`
  const within = (metric, g) => Math.abs(g) <= (metric === 'rmse' ? RMSE_BOUND : ACCURACY_BOUND) + SLACK

  let failed = false
  const lines = [
    `| dataset | metric | rows train/test | mlproj (seed ${seeds[0]}) | sklearn (seed ${seeds[0]}) | gap | mlproj mean ± sd (${seeds.length} seeds) | sklearn mean ± sd | mean gap | worst split gap | bound | holds |`,
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ]
  for (const dataset of [...new Set(rows.map(r => r.dataset))]) {
    const rs = rows.filter(r => r.dataset === dataset)
    const {metric} = rs[0]
    const first = rs.find(r => r.seed === seeds[0])
    const ml = rs.map(r => r.ml)
    const sk = rs.map(r => r.sk)
    const gap0 = gap(metric, first.ml, first.sk)
    const gapMean = gap(metric, mean(ml), mean(sk))
    const worst = rs.map(r => gap(metric, r.ml, r.sk)).reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a))
    const holds = within(metric, gap0) && within(metric, gapMean)
    failed ||= !holds
    lines.push(
      `| ${dataset} | ${metric} | ${first.nTrain}/${first.nTest} | ${fmt(first.ml)} | ${fmt(first.sk)} | ${fmtGap(metric, gap0)} | ${fmt(mean(ml))} ± ${fmt(sd(ml))} | ${fmt(mean(sk))} ± ${fmt(sd(sk))} | ${fmtGap(metric, gapMean)} | ${fmtGap(metric, worst)} | ${metric === 'rmse' ? '±2%' : '±0.01'} | ${holds ? 'yes' : 'NO'} |`,
    )
  }
  const warned = rows.filter(r => r.warnings.length > 0)
  console.log(`machine: ${machineLine(machine(opts.python))}\n`)
  console.log(lines.join('\n'))
  console.log(
    `\nsklearn ${reference.sklearn}; splits: train_test_split(test_size=0.2, random_state=seed, stratify=y for classification), seeds ${seeds.join(',')}; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  )
  for (const r of warned) console.log(`sklearn warned on ${r.dataset} seed ${r.seed}: ${r.warnings.join(', ')}`)
  console.log(failed ? 'FAIL: a bound does not hold' : 'OK: every bound holds')
  process.exitCode = failed ? 1 : 0
} finally {
  if (opts.keep) process.stderr.write(`kept ${work}\n`)
  else rmSync(work, {recursive: true, force: true})
}
