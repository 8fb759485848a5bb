// Benchmark of issue #4 ("What must hold" 3 and 5): `mlproj predict-batch` against the pandas script people write
// by hand (load a pickled scikit-learn pipeline → pd.read_csv → predict_proba → to_csv), side by side in one run.
// - speed (point 5): a generated 2,000,000-row CSV scored end to end by each tool, with gbdt (100 trees, 31 leaves)
//   and logistic models trained on the same 200,000-row sample, alternately (order reversed every other round).
//   Bound: mlproj's rows/s ≥ 2 × the pandas script's (medians, CSV in and out; against pandas's faster thread
//   setting). Parquet in / out is reported for mlproj (and pandas, when pyarrow or fastparquet is installed).
// - memory (point 3): peak RSS of scoring a generated 5,000,000-row CSV. Bound: < 1 GB (10^9 bytes).
// Every process runs under /usr/bin/time -f '%e %M %U %S'. Exits 1 when a bound does not hold or a command fails.
//
//   node test/bench/batch.mjs                        # full run (see README.md for durations)
//   node test/bench/batch.mjs --rows 200000 --train-rows 20000 --rounds 1 --memory-rows 300000   # smoke run
import {spawn, spawnSync} from 'node:child_process'
import {createReadStream, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {DuckDBInstance} from '@duckdb/node-api'
import {load, machine, machineLine} from './machine.mjs'
import {generateChurn} from './query_data.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const {values: opts} = parseArgs({
  options: {
    rows: {type: 'string', default: '2000000'},
    'train-rows': {type: 'string', default: '200000'},
    'memory-rows': {type: 'string', default: '5000000'},
    rounds: {type: 'string', default: '3'},
    algos: {type: 'string', default: 'gbdt,logistic'},
    only: {type: 'string', default: 'speed,memory'},
    'skip-memory': {type: 'boolean', default: false},
    python: {type: 'string', default: process.env.PYTHON ?? '/usr/bin/python3'},
    cli: {type: 'string', default: resolve(here, '../../bin/run.js')},
    keep: {type: 'boolean', default: false},
    help: {type: 'boolean', short: 'h', default: false},
  },
})
if (opts.help) {
  console.log(`usage: node test/bench/batch.mjs [--rows 2000000] [--train-rows 200000] [--memory-rows 5000000]
                  [--rounds 3] [--algos gbdt,logistic] [--only speed|memory] [--skip-memory]
                  [--python /usr/bin/python3] [--cli bin/run.js] [--keep]

--rows: rows of the file scored for speed; --train-rows: the training sample (with the target) both tools fit on;
--memory-rows: rows of the file scored for peak RSS. --only speed or --only memory runs one part.`)
  process.exit(0)
}

const SPEED_BOUND = 2 // mlproj rows/s ≥ 2 × pandas's, medians, CSV → CSV
const MEMORY_BOUND = 1e9 // bytes of peak RSS
const TARGET = 'churned'
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
const SKLEARN_MODEL = {gbdt: 'hgb', logistic: 'logistic'}
const SKLEARN_NAME = {gbdt: 'HistGradientBoosting', logistic: 'LogisticRegression pipeline'}
const HEAD_ROWS = 100_000 // rows of the two tools' outputs compared (same model, same rows)

const rows = Number(opts.rows)
const trainRows = Number(opts['train-rows'])
const memoryRows = Number(opts['memory-rows'])
const rounds = Number(opts.rounds)
const algos = opts.algos.split(',')
const only = new Set(opts.only.split(','))
const doSpeed = only.has('speed')
const doMemory = only.has('memory') && !opts['skip-memory']
const cli = resolve(opts.cli)
const script = join(here, 'batch_sklearn.py')
const work = mkdtempSync(join(tmpdir(), 'mlproj-bench-batch-'))
const m = machine(opts.python)
const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const fmt = (x, d = 2) => x.toFixed(d)
const int = x => Math.round(x).toLocaleString('en-US')
const mb = bytes => bytes / 2 ** 20
const log = message => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`)
const failures = []

/** Runs a command under /usr/bin/time (as speed.mjs): wall seconds, peak RSS, CPU seconds, stdout, stderr. */
function timed(command, args, {env} = {}) {
  const timeFile = join(work, `time-${process.hrtime.bigint()}`)
  return new Promise((resolvePromise, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%e %M %U %S', '-o', timeFile, command, ...args], {
      cwd: work,
      env: {...process.env, ...env},
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
    child.on('close', (code, signal) => {
      const timeLines = readFileSync(timeFile, 'utf8').trim().split('\n')
      rmSync(timeFile, {force: true})
      if (code !== 0) {
        const tail = [...stderr.split('\n'), ...timeLines]
          .filter(l => l.trim())
          .slice(-6)
          .join(' / ')
        reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}: ${tail}`))
        return
      }
      const [wall, rssKb, user, sys] = timeLines.at(-1).split(' ').map(Number)
      resolvePromise({wall, rssBytes: rssKb * 1024, rssMb: rssKb / 1024, cpu: user + sys, stdout, stderr})
    })
  })
}

const mlprojArgs = args => [cli, ...args]

/** "name seconds" lines of batch_sklearn.py's stderr. */
const pythonPhases = stderr =>
  Object.fromEntries(
    stderr
      .split('\n')
      .map(l => /^(\w+) ([\d.]+)$/.exec(l))
      .filter(Boolean)
      .map(([, name, s]) => [name, Number(s)]),
  )

/** predicted_<target> and probability of the first n rows of a CSV written by either tool. */
async function head(path, n) {
  const stream = createReadStream(path)
  const lines = createInterface({input: stream, crlfDelay: Number.POSITIVE_INFINITY})
  let header
  const pred = []
  const prob = []
  for await (const line of lines) {
    const cells = line.split(',') // no quoted fields in this data
    if (!header) {
      header = [cells.indexOf(`predicted_${TARGET}`), cells.indexOf('probability')]
      if (header.includes(-1)) throw new Error(`${path}: no predicted_${TARGET} or probability column`)
      continue
    }
    pred.push(cells[header[0]].toLowerCase()) // pandas writes booleans as True/False
    prob.push(Number(cells[header[1]]))
    if (pred.length >= n) break
  }
  lines.close()
  stream.destroy()
  return {pred, prob}
}

// ---- data ----------------------------------------------------------------------------------------------------
/** One churn table (query_data.mjs) cut into the training sample (with the target) and the files to score (without). */
async function prepareData() {
  const scoredRows = Math.max(doSpeed ? rows : 0, doMemory ? memoryRows : 0)
  const total = scoredRows + trainRows
  const source = join(work, 'source.csv')
  const t0 = performance.now()
  await generateChurn(source, total)
  const instance = await DuckDBInstance.create(':memory:')
  const con = await instance.connect()
  // VARCHAR: DuckDB would read yes/no as booleans and write them back as true/false.
  const from = `read_csv('${source}', types = {'${TARGET}': 'VARCHAR'})`
  // The training rows come after the scored ones: the same distribution, not the same customers.
  const files = {train: join(work, 'train.csv')}
  await con.run(`COPY (SELECT * FROM ${from} WHERE customer_id >= ${scoredRows}) TO '${files.train}' (HEADER true)`)
  const cut = async (name, n) => {
    await con.run(
      `COPY (SELECT * EXCLUDE (${TARGET}) FROM ${from} WHERE customer_id < ${n}) TO '${join(work, name)}' (HEADER true)`,
    )
    return join(work, name)
  }
  if (doSpeed) {
    files.csv = await cut('big.csv', rows)
    files.parquet = join(work, 'big.parquet')
    await con.run(`COPY (SELECT * FROM read_csv('${files.csv}')) TO '${files.parquet}' (FORMAT parquet)`)
  }
  if (doMemory) files.memory = await cut('memory.csv', memoryRows)
  con.closeSync()
  rmSync(source)
  log(`generated the data in ${fmt((performance.now() - t0) / 1000, 1)} s`)
  const size = f => `${fmt(mb(statSync(f).size), 0)} MB`
  console.log(
    `\nData (test/bench/query_data.mjs): training sample ${int(trainRows)} rows with \`${TARGET}\` (${size(files.train)})` +
      (doSpeed ? `; speed: ${int(rows)} rows without it, CSV ${size(files.csv)}, Parquet ${size(files.parquet)}` : '') +
      (doMemory ? `; memory: ${int(memoryRows)} rows, CSV ${size(files.memory)}` : ''),
  )
  return files
}

// ---- models --------------------------------------------------------------------------------------------------
async function trainModels(files) {
  spawnSync(process.execPath, [cli, 'init', work, '--quiet'])
  console.log(`\n### Models, fitted on the ${int(trainRows)}-row training sample (untimed by the bound)\n`)
  console.log('| model | tool | command | fit wall s | train accuracy |\n|---|---|---|---:|---:|')
  for (const algo of algos) {
    const args = [
      'train',
      'train.csv',
      '--target',
      TARGET,
      '--ignore',
      'customer_id',
      '--algo',
      algo,
      ...(algo === 'gbdt' ? GBDT_PARAMS.flatMap(p => ['--param', p]) : []),
      '--test-size',
      '0',
      '--save',
      `churn-${algo}`,
      '--json',
      '-q',
    ]
    const r = await timed(process.execPath, mlprojArgs(args))
    const accuracy = JSON.parse(r.stdout).metrics.train.accuracy
    log(`trained churn-${algo} with mlproj in ${fmt(r.wall)} s`)
    console.log(`| churn-${algo} | mlproj | \`mlproj ${args.join(' ')}\` | ${fmt(r.wall)} | ${fmt(accuracy, 4)} |`)
    // One OpenMP thread: on a shared 2-CPU machine two threads can make this fit take minutes (README.md, trees).
    const pyArgs = [script, 'fit', files.train, '--target', TARGET, '--ignore', 'customer_id']
    pyArgs.push('--model', SKLEARN_MODEL[algo], '--out', join(work, `churn-${algo}.joblib`))
    const p = await timed(opts.python, pyArgs, {env: {OMP_NUM_THREADS: '1'}})
    const out = JSON.parse(p.stdout)
    log(`fitted ${SKLEARN_NAME[algo]} in ${fmt(p.wall)} s`)
    console.log(
      `| churn-${algo} | scikit-learn | \`OMP_NUM_THREADS=1 batch_sklearn.py fit train.csv --model ${SKLEARN_MODEL[algo]}\` | ${fmt(p.wall)} | ${fmt(out.train_accuracy, 4)} |`,
    )
  }
}

// ---- speed ---------------------------------------------------------------------------------------------------
function pythonHasParquet() {
  return ['pyarrow', 'fastparquet'].some(
    mod => spawnSync(opts.python, ['-c', `import ${mod}`], {stdio: 'ignore'}).status === 0,
  )
}

function speedCases(files) {
  const parquet = pythonHasParquet()
  const cases = []
  const ext = {csv: 'csv', parquet: 'parquet'}
  for (const algo of algos) {
    const mlproj = (input, output) => ({
      algo,
      tool: 'mlproj',
      io: `${input} → ${output}`,
      name: `mlproj predict-batch churn-${algo}`,
      out: join(work, `out-${algo}-mlproj-${input}.${ext[output]}`),
      args: out => [cli, 'predict-batch', `churn-${algo}`, '--input', files[input], '--output', out, '--quiet'],
    })
    const pandas = (input, output, threads) => ({
      algo,
      tool: 'pandas',
      threads,
      io: `${input} → ${output}`,
      name: `pandas + ${SKLEARN_NAME[algo]}${threads ? ` (OMP_NUM_THREADS=${threads})` : ''}`,
      out: join(work, `out-${algo}-pandas${threads ?? ''}-${input}.${ext[output]}`),
      env: threads ? {OMP_NUM_THREADS: String(threads)} : {},
      args: out => [script, 'predict', join(work, `churn-${algo}.joblib`), files[input], out],
    })
    cases.push(
      mlproj('csv', 'csv'),
      pandas('csv', 'csv'),
      pandas('csv', 'csv', 1),
      mlproj('parquet', 'parquet'),
      mlproj('csv', 'parquet'),
      mlproj('parquet', 'csv'),
    )
    if (parquet) cases.push(pandas('parquet', 'parquet'))
  }
  return {cases, parquet}
}

async function speed(files) {
  const {cases, parquet} = speedCases(files)
  const runs = new Map(cases.map(c => [c, []]))
  const heads = new Map()
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 ? cases : [...cases].reverse()
    for (const c of order) {
      rmSync(c.out, {recursive: true, force: true})
      const before = load()
      const command = c.tool === 'mlproj' ? process.execPath : opts.python
      try {
        const r = await timed(command, c.args(c.out), {env: c.env})
        const outMb = mb(statSync(c.out).size)
        runs.get(c).push({...r, round, load: before, outMb, phases: c.tool === 'pandas' ? pythonPhases(r.stderr) : {}})
        log(`round ${round} ${c.name}, ${c.io}: ${fmt(r.wall)} s, ${fmt(r.rssMb, 0)} MB (load ${before})`)
        const key = `${c.algo} ${c.tool}`
        if (c.io === 'csv → csv' && !c.threads && !heads.has(key)) heads.set(key, await head(c.out, HEAD_ROWS))
      } catch (error) {
        failures.push(`${c.name}, ${c.io}: ${error.message}`)
        log(`round ${round} ${c.name}, ${c.io}: FAILED ${error.message}`)
      }
      rmSync(c.out, {recursive: true, force: true})
    }
  }

  const summary = new Map()
  for (const c of cases) {
    const rs = runs.get(c)
    if (rs.length === 0) continue
    const wall = median(rs.map(r => r.wall))
    summary.set(c, {
      wall,
      min: Math.min(...rs.map(r => r.wall)),
      max: Math.max(...rs.map(r => r.wall)),
      cpu: median(rs.map(r => r.cpu)),
      rssMb: median(rs.map(r => r.rssMb)),
      outMb: median(rs.map(r => r.outMb)),
      rate: rows / wall,
    })
  }
  // The reference for each model: pandas CSV → CSV in its faster thread setting (median wall).
  const reference = new Map()
  for (const algo of algos) {
    const candidates = cases.filter(c => c.algo === algo && c.tool === 'pandas' && c.io === 'csv → csv')
    const best = candidates.filter(c => summary.has(c)).sort((a, b) => summary.get(a).wall - summary.get(b).wall)[0]
    if (best) reference.set(algo, best)
  }

  console.log(`\n### Speed: ${int(rows)} rows scored end to end, ${rounds} round(s), load at end ${load()}\n`)
  console.log(
    `mlproj: \`mlproj predict-batch churn-<algo> --input big.csv --output out.csv --quiet\` (big.parquet / out.parquet` +
      ` for Parquet); pandas: \`${opts.python} batch_sklearn.py predict churn-<algo>.joblib big.csv out.csv\`.` +
      ` Ratio: rows/s ÷ the faster pandas CSV → CSV setting's, same model.` +
      (parquet ? '' : ' pandas has no Parquet engine here (no pyarrow or fastparquet): Parquet is mlproj only.') +
      '\n',
  )
  console.log(
    '| command | in → out | rows/s (median) | wall s median (min–max) | CPU s | peak RSS MB | output MB | ratio |\n|---|---|---:|---:|---:|---:|---:|---:|',
  )
  for (const c of cases) {
    const s = summary.get(c)
    if (!s) {
      console.log(`| ${c.name} | ${c.io} | failed | | | | | |`)
      continue
    }
    const ref = summary.get(reference.get(c.algo))
    console.log(
      `| ${c.name} | ${c.io} | ${int(s.rate)} | ${fmt(s.wall)} (${fmt(s.min)}–${fmt(s.max)}) | ${fmt(s.cpu)} | ${fmt(s.rssMb, 0)} | ${fmt(s.outMb, 0)} | ${ref ? `${fmt(ref.wall / s.wall)}×` : ''} |`,
    )
  }

  console.log('\npandas phases, median seconds (import; load the pickled pipeline; read; predict_proba; write):\n')
  console.log('| command | in → out | import | load | read | predict | write |\n|---|---|---:|---:|---:|---:|---:|')
  for (const c of cases.filter(c => c.tool === 'pandas' && runs.get(c).length)) {
    const ph = name => fmt(median(runs.get(c).map(r => r.phases[name] ?? Number.NaN)))
    console.log(
      `| ${c.name} | ${c.io} | ${ph('import')} | ${ph('load')} | ${ph('read')} | ${ph('predict')} | ${ph('write')} |`,
    )
  }

  console.log(`\nSame predictions? The first ${int(HEAD_ROWS)} rows of each tool's CSV output, per model:\n`)
  for (const algo of algos) {
    const a = heads.get(`${algo} mlproj`)
    const b = heads.get(`${algo} pandas`)
    if (!a || !b) continue
    const n = Math.min(a.pred.length, b.pred.length)
    let same = 0
    let sumDiff = 0
    let maxDiff = 0
    for (let i = 0; i < n; i++) {
      if (a.pred[i] === b.pred[i]) same++
      const d = Math.abs(a.prob[i] - b.prob[i])
      sumDiff += d
      maxDiff = Math.max(maxDiff, d)
    }
    console.log(
      `- churn-${algo}: same predicted class on ${fmt((100 * same) / n, 2)}% of ${int(n)} rows; |Δ probability| mean ${sumDiff / n < 1e-4 ? (sumDiff / n).toExponential(1) : fmt(sumDiff / n, 4)}, max ${maxDiff < 1e-4 ? maxDiff.toExponential(1) : fmt(maxDiff, 4)}`,
    )
  }

  console.log(`\nBound: mlproj rows/s ≥ ${SPEED_BOUND} × pandas's, CSV → CSV (medians over the rounds):\n`)
  const bounds = []
  for (const algo of algos) {
    const c = cases.find(c => c.algo === algo && c.tool === 'mlproj' && c.io === 'csv → csv')
    const ref = reference.get(algo)
    if (!summary.has(c) || !ref) {
      failures.push(`churn-${algo}: the speed bound could not be measured`)
      continue
    }
    const ratio = summary.get(ref).wall / summary.get(c).wall
    // Also per round, against the same round's run of the reference (information: how steady the ratio is).
    const perRound = runs
      .get(c)
      .map(r => {
        const p = runs.get(ref).find(q => q.round === r.round)
        return p ? p.wall / r.wall : undefined
      })
      .filter(x => x !== undefined)
    const holds = ratio >= SPEED_BOUND
    if (!holds) failures.push(`churn-${algo}: mlproj at ${fmt(ratio)}× pandas's rows/s, bound ${SPEED_BOUND}×`)
    bounds.push({c, ref, ratio, holds})
    console.log(
      `- churn-${algo}: mlproj ${int(summary.get(c).rate)} rows/s, ${ref.name} ${int(summary.get(ref).rate)} rows/s → ${fmt(ratio)}× (per-round ratios: ${perRound.map(x => fmt(x)).join(', ')}): ${holds ? 'holds' : 'DOES NOT HOLD'}`,
    )
  }
  return {summary, cases, reference, bounds}
}

// ---- memory --------------------------------------------------------------------------------------------------
async function memory(files) {
  const results = []
  for (const algo of algos) {
    for (const tool of ['mlproj', 'pandas']) {
      const out = join(work, `memory-out-${algo}-${tool}.csv`)
      const before = load()
      const [name, command, args] =
        tool === 'mlproj'
          ? [
              `mlproj predict-batch churn-${algo}`,
              process.execPath,
              [cli, 'predict-batch', `churn-${algo}`, '--input', files.memory, '--output', out, '--quiet'],
            ]
          : [
              `pandas + ${SKLEARN_NAME[algo]}`,
              opts.python,
              [script, 'predict', join(work, `churn-${algo}.joblib`), files.memory, out],
            ]
      try {
        const r = await timed(command, args)
        results.push({algo, tool, name, ...r, load: before})
        log(`memory ${name}: ${fmt(r.wall)} s, ${fmt(r.rssMb, 0)} MB (load ${before})`)
      } catch (error) {
        if (tool === 'mlproj') failures.push(`memory, ${name}: ${error.message}`)
        results.push({algo, tool, name, error: error.message.slice(0, 200), load: before})
        log(`memory ${name}: FAILED ${error.message}`)
      }
      rmSync(out, {force: true})
    }
  }
  console.log(`\n### Memory: ${int(memoryRows)} rows scored, CSV → CSV, one run each\n`)
  console.log(
    `Bound: mlproj's peak RSS < 1 GB (10^9 bytes = ${fmt(mb(MEMORY_BOUND), 0)} MB as reported here, MB = 2^20 bytes); pandas for comparison, no bound.\n`,
  )
  console.log(
    '| command | rows/s | wall s | CPU s | peak RSS MB | load before | bound | holds |\n|---|---:|---:|---:|---:|---:|---|---|',
  )
  for (const r of results) {
    const bounded = r.tool === 'mlproj'
    if (r.error) {
      console.log(
        `| ${r.name} | failed: ${r.error.replaceAll('|', '/')} | | | | ${r.load} | | ${bounded ? 'NO' : ''} |`,
      )
      continue
    }
    const holds = r.rssBytes < MEMORY_BOUND
    if (bounded && !holds) failures.push(`memory, ${r.name}: peak RSS ${fmt(r.rssMb, 0)} MB`)
    console.log(
      `| ${r.name} | ${int(memoryRows / r.wall)} | ${fmt(r.wall)} | ${fmt(r.cpu)} | ${fmt(r.rssMb, 0)} | ${r.load} | ${bounded ? '< 1 GB' : '–'} | ${bounded ? (holds ? 'yes' : 'NO') : ''} |`,
    )
  }
  return results
}

// ---- summary -------------------------------------------------------------------------------------------------
function summaryTable(speedResult, memoryResult) {
  console.log('\n### Summary (for RESULTS.md)\n')
  console.log(`${machineLine(m)}; mlproj ${cli}\n`)
  console.log('| command | rows | in → out | rows/s | seconds | peak RSS MB | ratio | bound | holds |')
  console.log('|---|---:|---|---:|---:|---:|---:|---|---|')
  if (speedResult) {
    const {summary, cases, reference, bounds} = speedResult
    for (const c of cases) {
      const s = summary.get(c)
      if (!s) continue
      const ref = summary.get(reference.get(c.algo))
      const b = bounds.find(b => b.c === c)
      console.log(
        `| ${c.name} | ${int(rows)} | ${c.io} | ${int(s.rate)} | ${fmt(s.wall)} | ${fmt(s.rssMb, 0)} | ${ref ? `${fmt(ref.wall / s.wall)}×` : ''} | ${b ? `≥ ${SPEED_BOUND}×` : ''} | ${b ? (b.holds ? 'yes' : 'NO') : ''} |`,
      )
    }
  }
  for (const r of memoryResult ?? []) {
    if (r.error) continue
    const bounded = r.tool === 'mlproj'
    console.log(
      `| ${r.name} | ${int(memoryRows)} | csv → csv | ${int(memoryRows / r.wall)} | ${fmt(r.wall)} | ${fmt(r.rssMb, 0)} | | ${bounded ? 'RSS < 1 GB' : ''} | ${bounded ? (r.rssBytes < MEMORY_BOUND ? 'yes' : 'NO') : ''} |`,
    )
  }
  console.log(
    `\nSpeed: medians over ${rounds} round(s); ratio = rows/s ÷ pandas CSV → CSV's (faster thread setting), same model. Memory: one run.`,
  )
}

try {
  console.log(`# predict-batch benchmark — ${new Date().toISOString()}\n\n${machineLine(m)}; load at start ${load()}`)
  console.log(`mlproj: node ${cli}; work folder ${work}`)
  const files = await prepareData()
  await trainModels(files)
  const speedResult = doSpeed ? await speed(files) : undefined
  const memoryResult = doMemory ? await memory(files) : undefined
  summaryTable(speedResult, memoryResult)
  if (failures.length) console.log(`\nFAIL:\n${failures.map(f => `- ${f}`).join('\n')}`)
  else console.log('\nOK: every bound holds')
  process.exitCode = failures.length ? 1 : 0
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  if (opts.keep) process.stderr.write(`kept ${work}\n`)
  else rmSync(work, {recursive: true, force: true})
}
