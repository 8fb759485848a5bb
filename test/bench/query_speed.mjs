// Speed benchmark of issue #6 ("What must hold" 3): SELECT avg(predict_proba(...)) over a generated 2,000,000-row
// CSV, against the same query without the model (what the model costs) and against predict-batch on the same file when
// that command exists (target: query within 1.5× of predict-batch's rows/s). Cases run alternately, in a rotating
// order, on a shared machine: medians are what count. Exits 1 when the predict-batch bound is measured and fails.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {load, machine, machineLine} from './machine.mjs'
import {generateChurn} from './query_data.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const {values: opts} = parseArgs({
  options: {
    rows: {type: 'string', default: '2000000'},
    rounds: {type: 'string', default: '5'},
    algos: {type: 'string', default: 'logistic,gbdt'},
    cli: {type: 'string', default: resolve(here, '../../bin/run.js')},
    keep: {type: 'boolean', default: false},
    help: {type: 'boolean', short: 'h', default: false},
  },
})
if (opts.help) {
  console.log(
    `usage: node test/bench/query_speed.mjs [--rows 2000000] [--rounds 5] [--algos logistic,gbdt] [--cli bin/run.js] [--keep]`,
  )
  process.exit(0)
}

const rows = Number(opts.rows)
const work = mkdtempSync(join(tmpdir(), 'mlproj-bench-query-'))
const cli = resolve(opts.cli)
const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const fmt = (x, d = 2) => x.toFixed(d)

/** Runs the CLI under /usr/bin/time: wall seconds, peak RSS, CPU seconds, stdout. */
function timed(args) {
  const timeFile = join(work, `time-${process.hrtime.bigint()}`)
  return new Promise((resolvePromise, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %M %U %S', '-o', timeFile, process.execPath, cli, ...args], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => {
      stdout += d
    })
    child.stderr.on('data', d => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', code => {
      if (code !== 0) return reject(new Error(`mlproj ${args.join(' ')} exited with ${code}:\n${stderr}`))
      const [wall, rssKb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number)
      resolvePromise({wall, rssMb: rssKb / 1024, cpu: user + sys, stdout})
    })
  })
}

function mlproj(args) {
  const r = spawnSync(process.execPath, [cli, ...args], {cwd: work, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`mlproj ${args.join(' ')} exited with ${r.status}:\n${r.stderr}`)
  return r.stdout
}

const m = machine('/usr/bin/python3')
console.log(`# query speed — ${new Date().toISOString()}\n\n${machineLine(m)}; load at start ${load()}\n`)
console.log(`data: ${rows} rows (test/bench/query_data.mjs), in ${work}`)
const t0 = Date.now()
await generateChurn(join(work, 'churn.csv'), rows)
await generateChurn(join(work, 'train.csv'), 20_000)
console.log(`generated in ${fmt((Date.now() - t0) / 1000, 1)} s`)
const algos = opts.algos.split(',')
for (const algo of algos) {
  mlproj([
    'train',
    'train.csv',
    '--target',
    'churned',
    '--ignore',
    'customer_id',
    '--algo',
    algo,
    '--save',
    `churn-${algo}`,
    '-q',
  ])
}
const hasBatch = spawnSync(process.execPath, [cli, 'predict-batch', '--help'], {cwd: work}).status === 0

const sqlCase = (name, sql) => ({name, args: ['query', sql, '--json'], rows})
const cases = [
  sqlCase(
    'query, no model: avg(age + tenure + charges + calls + len(plan) + len(region))',
    "SELECT avg(age + tenure_months + monthly_charges + support_calls + length(plan) + length(region)) FROM 'churn.csv' t",
  ),
  ...algos.map(algo =>
    sqlCase(
      `query: avg(predict_proba('churn-${algo}', t))`,
      `SELECT avg(predict_proba('churn-${algo}', t)) FROM 'churn.csv' t`,
    ),
  ),
  ...(hasBatch
    ? algos.flatMap(algo =>
        [
          ['all input columns kept', []],
          ['--keep customer_id', ['--keep', 'customer_id']],
        ].map(([what, keep]) => {
          const out = join(work, `out-${algo}-${keep.length}.parquet`)
          return {
            name: `predict-batch churn-${algo} → parquet, ${what}`,
            batch: algo,
            args: ['predict-batch', `churn-${algo}`, '--input', 'churn.csv', '--output', out, ...keep, '--json', '-q'],
            rows,
            cleanup: () => rmSync(out, {recursive: true, force: true}),
          }
        }),
      )
    : []),
  sqlCase('query: SELECT 1 (start-up)', 'SELECT 1'),
]

const results = new Map(cases.map(c => [c.name, []]))
for (let round = 0; round < Number(opts.rounds); round++) {
  // Rotate the order so that no case always runs after the same one (caches, load bursts).
  const order = cases.map((_, i) => cases[(i + round) % cases.length])
  for (const c of order) {
    c.cleanup?.()
    const r = await timed(c.args)
    let internal
    try {
      internal = JSON.parse(r.stdout).elapsedMs / 1000
    } catch {}
    results.get(c.name).push({...r, internal})
    process.stderr.write(`round ${round + 1} ${c.name}: ${fmt(r.wall)} s (load ${load()})\n`)
  }
}

console.log(`\n${opts.rounds} rounds, load at end ${load()}\n`)
console.log('| case | median wall s | min–max s | median in-query s | rows/s (wall) | peak RSS MB |')
console.log('|---|---:|---:|---:|---:|---:|')
const med = {}
for (const c of cases) {
  const rs = results.get(c.name)
  const wall = median(rs.map(r => r.wall))
  const internal = rs.every(r => r.internal !== undefined) ? median(rs.map(r => r.internal)) : undefined
  med[c.name] = {wall, internal}
  const rate = c.name.includes('SELECT 1') ? '' : Math.round(c.rows / wall).toLocaleString('en-US')
  console.log(
    `| ${c.name} | ${fmt(wall)} | ${fmt(Math.min(...rs.map(r => r.wall)))}–${fmt(Math.max(...rs.map(r => r.wall)))} | ${internal === undefined ? '' : fmt(internal)} | ${rate} | ${Math.round(median(rs.map(r => r.rssMb)))} |`,
  )
}
const base = med[cases[0].name].wall
console.log('\nWhat the model costs (median wall minus the no-model query):')
for (const algo of algos) {
  const q = med[`query: avg(predict_proba('churn-${algo}', t))`].wall
  console.log(`- ${algo}: +${fmt(q - base)} s, ${fmt(((q - base) / rows) * 1e6, 3)} µs per row`)
}
let failed = false
if (hasBatch) {
  console.log('\nQuery against predict-batch (rows/s ratio; bound: query ≥ predict-batch / 1.5):')
  for (const c of cases.filter(c => c.batch)) {
    const q = med[`query: avg(predict_proba('churn-${c.batch}', t))`].wall
    const b = med[c.name].wall
    const holds = q <= b * 1.5
    failed ||= !holds
    console.log(
      `- ${c.name}: query ${fmt(q)} s, predict-batch ${fmt(b)} s → query at ${fmt(b / q)}× predict-batch's rows/s: ${holds ? 'holds' : 'DOES NOT HOLD'}`,
    )
  }
} else console.log('\npredict-batch is not a command in this build: that comparison was not run.')

if (!opts.keep) rmSync(work, {recursive: true, force: true})
process.exit(failed ? 1 : 0)
