// `mlproj init`: create a workspace (idempotent).
import {resolve} from 'node:path'
import {initWorkspace} from '../workspace/workspace.js'

export interface InitResult {
  readonly dir: string
  readonly created: boolean
}

export async function init(options: {dir: string}): Promise<InitResult> {
  return initWorkspace(resolve(options.dir))
}
