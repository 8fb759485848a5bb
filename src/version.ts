// mlproj's own version, read once from package.json (recorded with runs and in exported models).
import {readFileSync} from 'node:fs'

export const MLPROJ_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string}
).version
