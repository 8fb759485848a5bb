#!/usr/bin/env node
// `npm run demo`: the model lifecycle on the Palmer penguins data shipped in data/, in a temporary
// workspace. Each step prints the command it runs (paste-able) and what it did.
import {spawnSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

const root = resolve(import.meta.dirname, '..')
const bin = join(root, 'bin', 'run.js')
const data = join(root, 'data', 'penguins.csv')
const work = mkdtempSync(join(tmpdir(), 'mlproj-demo-'))

function step(title, args, {json = false} = {}) {
  console.log(`\n── ${title}`)
  console.log(`$ mlproj ${args.map(a => (/[\s"@<>]/.test(a) ? `'${a}'` : a)).join(' ')}`)
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
console.log(`\nThe workspace stays in ${work}/.mlproj (model files under artifacts/).`)
