#!/usr/bin/env node
// `npm run build`: compile into a private folder, then swap it in for dist/ with renames, so that commands
// running meanwhile (or a second build) never see a half-written dist/.
import {execFileSync} from 'node:child_process'
import {existsSync, renameSync, rmSync} from 'node:fs'
import {join, resolve} from 'node:path'

const root = resolve(import.meta.dirname, '..')
const next = join(root, `dist.next.${process.pid}`)
const bin = name => join(root, 'node_modules', '.bin', name)
try {
  execFileSync(bin('tsc'), ['-p', 'tsconfig.build.json', '--outDir', next], {cwd: root, stdio: 'inherit'})
  for (let attempt = 0; ; attempt++) {
    const old = join(root, `dist.old.${process.pid}.${attempt}`)
    if (existsSync(join(root, 'dist'))) renameSync(join(root, 'dist'), old)
    try {
      renameSync(next, join(root, 'dist'))
      rmSync(old, {recursive: true, force: true})
      break
    } catch (error) {
      rmSync(old, {recursive: true, force: true})
      if (attempt >= 5) throw error
    }
  }
  execFileSync(bin('oclif'), ['manifest'], {
    cwd: root,
    stdio: 'inherit',
    env: {...process.env, OCLIF_SKIP_UPDATE_CHECK: '1'},
  })
} finally {
  rmSync(next, {recursive: true, force: true})
}
