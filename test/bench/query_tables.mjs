// What the workspace tables cost a query: `runs` is rebuilt from SQLite (better-sqlite3 → one JSON document →
// DuckDB from_json) for every statement that names it. Fills a workspace with N runs, each with 12 params, 8 test and
// 8 train metrics (written straight into SQLite: training N models would take hours), then times a query on runs
// against SELECT 1, alternately.
//
//   node test/bench/query_tables.mjs [--runs 1000,10000,50000] [--rounds 5]
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import Database from 'better-sqlite3'
import {load} from './machine.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const {values: opts} = parseArgs({
  options: {
    runs: {type: 'string', default: '1000,10000,50000'},
    rounds: {type: 'string', default: '5'},
    cli: {type: 'string', default: resolve(here, '../../bin/run.js')},
  },
})
const median = xs => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function query(dir, sql) {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, [resolve(opts.cli), 'query', sql, '--json'], {cwd: dir, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(r.stderr)
  return {wall: (performance.now() - t0) / 1000, internal: JSON.parse(r.stdout).elapsedMs / 1000}
}

function fill(dir, n) {
  const db = new Database(join(dir, '.mlproj', 'mlproj.db'))
  const at = new Date().toISOString()
  db.transaction(() => {
    db.prepare(`INSERT INTO experiments (id, name, created_at) VALUES (1, 'bench', ?), (2, 'other', ?)`).run(at, at)
    const run = db.prepare(
      `INSERT INTO runs (id, experiment_id, name, status, algo, task, started_at, ended_at, duration_ms, dataset)
       VALUES (?, ?, ?, 'finished', 'gbdt', 'classification', ?, ?, 1000, ?)`,
    )
    const param = db.prepare('INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)')
    const metric = db.prepare('INSERT INTO metrics (run_id, split, key, value) VALUES (?, ?, ?, ?)')
    const dataset = JSON.stringify({path: 'train.csv', rows: 20000, sha256: 'x'.repeat(64), target: 'churned'})
    for (let i = 0; i < n; i++) {
      const id = i.toString(16).padStart(12, '0')
      run.run(id, 1 + (i % 2), `gbdt-${i}`, at, at, dataset)
      for (let k = 0; k < 12; k++) param.run(id, `param${k}`, JSON.stringify(k === 0 ? 'auto' : i * k))
      for (const split of ['test', 'train'])
        for (let k = 0; k < 8; k++) metric.run(id, split, `metric${k}`, Math.random())
    }
  })()
  db.close()
}

console.log(`# workspace tables — ${new Date().toISOString()}, load ${load()}\n`)
console.log(
  '| runs in workspace | median wall s, SELECT 1 | median wall s, query on runs | median in-query s, SELECT 1 | median in-query s, runs | cost of runs (in-query) |',
)
console.log('|---:|---:|---:|---:|---:|---:|')
for (const n of opts.runs.split(',').map(Number)) {
  const dir = mkdtempSync(join(tmpdir(), 'mlproj-bench-tables-'))
  spawnSync(process.execPath, [resolve(opts.cli), 'init', '-q'], {cwd: dir})
  fill(dir, n)
  const sql = `SELECT experiment, count(*) AS runs, max(metrics.metric3) AS best FROM runs GROUP BY ALL`
  const one = []
  const runs = []
  for (let r = 0; r < Number(opts.rounds); r++) {
    one.push(query(dir, 'SELECT 1'))
    runs.push(query(dir, sql))
  }
  const [w1, wr, i1, ir] = [
    one.map(x => x.wall),
    runs.map(x => x.wall),
    one.map(x => x.internal),
    runs.map(x => x.internal),
  ].map(median)
  console.log(
    `| ${n.toLocaleString('en-US')} | ${w1.toFixed(2)} | ${wr.toFixed(2)} | ${i1.toFixed(3)} | ${ir.toFixed(3)} | ${(ir - i1).toFixed(3)} s |`,
  )
  rmSync(dir, {recursive: true, force: true})
}
