#!/usr/bin/env node
// `npm run demo`: the model lifecycle on the Palmer penguins data shipped in data/, in a temporary
// workspace. Each step prints the command it runs (paste-able) and what it did.
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {createInterface} from 'node:readline'

const root = resolve(import.meta.dirname, '..')
const bin = join(root, 'bin', 'run.js')
const data = join(root, 'data', 'penguins.csv')
const work = mkdtempSync(join(tmpdir(), 'mlproj-demo-'))

// Quotes an argument for a POSIX shell, so that each printed command can be pasted as it is.
function quote(arg) {
  if (!/[\s"'@<>*?$`\\;&|()]/.test(arg)) return arg
  return arg.includes("'") ? `"${arg.replace(/["$`\\]/g, '\\$&')}"` : `'${arg}'`
}

function step(title, args, {json = false} = {}) {
  console.log(`\n── ${title}`)
  console.log(`$ mlproj ${args.map(quote).join(' ')}`)
  const r = spawnSync(process.execPath, [bin, ...args, ...(json ? ['--json'] : [])], {cwd: work, encoding: 'utf8'})
  if (r.stderr) console.log(r.stderr.trimEnd().replace(/^/gm, '  │ '))
  if (!json && r.stdout) process.stdout.write(r.stdout)
  if (r.status !== 0 && r.status !== 6) {
    console.error(`step failed with exit code ${r.status}`)
    process.exit(r.status ?? 1)
  }
  console.log(`  exit code ${r.status}`)
  return json ? JSON.parse(r.stdout) : undefined
}

console.log(`mlproj demo in ${work} on ${data}`)
step('1. create a workspace', ['init'])
const run = step(
  '2. train a classifier for the species; the task and algorithm are inferred',
  ['train', data, '--target', 'species', '--experiment', 'penguins', '--save', 'penguins', '--alias', 'candidate'],
  {json: true},
)
console.log(
  `  → run ${run.runId}: ${run.algo} ${run.task}, test accuracy ${run.metrics.test.accuracy.toFixed(4)}, registered penguins:${run.model.version} @candidate`,
)
step('3. look at the run: params, metrics, dataset fingerprint', ['runs', 'show', run.runId])
step('4. try a stronger penalty in the same experiment', [
  'train',
  data,
  '--target',
  'species',
  '--experiment',
  'penguins',
  '--param',
  'c=0.01',
])
step('5. compare the runs, best accuracy first', ['runs', 'list', '--experiment', 'penguins', '--sort', 'accuracy'])
step('6. gate the candidate as CI would (exit 6 if a gate fails)', [
  'evaluate',
  'penguins@candidate',
  data,
  '--fail-if',
  'accuracy<0.95',
  '--fail-if',
  'log_loss>0.2',
])
step('7. promote the run to production', ['save', run.runId, '--name', 'penguins', '--alias', 'production'])
step('8. the registry', ['models', 'show', 'penguins'])
step('9. score the data with the production model: a batch job, as cron would run it', [
  'predict-batch',
  'penguins@production',
  '--input',
  data,
  '--incremental',
])
step('10. the jobs: model version, inputs, rows', ['jobs', 'list'])
step('11. the same command again: the file was scored by this model version, so "0 new inputs"', [
  'predict-batch',
  'penguins@production',
  '--input',
  data,
  '--incremental',
])
step('12. SQL with the model as a function, saved as a workspace table', [
  'query',
  `SELECT island, predict('penguins@production', p) AS predicted, count(*) AS n FROM '${data}' p GROUP BY ALL ORDER BY ALL`,
  '--save-as',
  'species_by_island',
])
step('13. the saved tables', ['tables', 'list'])
await serveStep('14. serve the production model over HTTP, score one row, stop it with SIGTERM')
console.log(
  `\nThe workspace stays in ${work}/.mlproj (model files under artifacts/, batch outputs under predictions/, saved tables under tables/).`,
)

async function serveStep(title) {
  const port = await freePort()
  const args = ['serve', 'penguins@production', '--port', String(port)]
  console.log(`\n── ${title}`)
  console.log(`$ mlproj ${args.map(quote).join(' ')} &`)
  const server = spawn(process.execPath, [bin, ...args], {cwd: work, stdio: ['ignore', 'inherit', 'pipe']})
  createInterface({input: server.stderr}).on('line', line => console.log(`  │ ${line}`))
  const exited = new Promise(resolve => server.once('exit', (code, signal) => resolve({code, signal})))
  const fail = message => {
    console.error(message)
    server.kill('SIGTERM')
    process.exit(1)
  }
  const url = `http://127.0.0.1:${port}`
  if (!(await ready(`${url}/ping`, exited))) fail('serve did not become ready in 30 s')
  const row = {
    island: 'Biscoe',
    bill_length_mm: 45.1,
    bill_depth_mm: 14.5,
    flipper_length_mm: 215,
    body_mass_g: 5000,
    sex: 'female',
    year: 2008,
  }
  const body = JSON.stringify({dataframe_records: [row]})
  console.log(`$ curl -s localhost:${port}/invocations -H 'Content-Type: application/json' -d '${body}'`)
  const response = await fetch(`${url}/invocations`, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body,
  })
  const answer = await response.text()
  console.log(answer)
  if (!response.ok) fail(`the request failed with HTTP ${response.status}`)
  const [prediction] = JSON.parse(answer).predictions
  console.log(
    `  → ${prediction.predicted_species} (probability_Gentoo ${prediction.probability_Gentoo.toFixed(4)}), answered by penguins:${response.headers.get('mlproj-model-version')}`,
  )
  console.log(`$ kill -TERM ${server.pid}`)
  server.kill('SIGTERM')
  const {code, signal} = await exited
  if (code !== 0) {
    console.error(`serve exited with ${code ?? signal}, not 0`)
    process.exit(code || 1)
  }
  console.log(`  exit code ${code}`)
}

/** A port nothing listens on now (the OS picks it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const {port} = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

/** Polls a readiness URL until it answers 200; false if the server exits first or 30 s pass. */
async function ready(url, exited) {
  let gone = false
  exited.then(() => {
    gone = true
  })
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !gone; ) {
    const ok = await fetch(url).then(
      r => r.ok,
      () => false,
    )
    if (ok) return true
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return false
}
