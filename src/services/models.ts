// `mlproj models list` and `mlproj models show`: the registry as plain data.
import {type EvaluationRecord, listEvaluations} from '../workspace/evaluations.js'
import {
  listVersions,
  type ModelSummary,
  type ModelVersion,
  listModels as registryModels,
} from '../workspace/registry.js'
import {type LocateOptions, withWorkspace} from '../workspace/workspace.js'

export async function listModels(options: {workspace: LocateOptions}): Promise<{models: ModelSummary[]}> {
  return withWorkspace({...options.workspace, readOnly: true}, ws => ({models: registryModels(ws)}))
}

export interface ShowModelResult {
  readonly name: string
  readonly aliases: Record<string, number>
  readonly versions: readonly ModelVersion[]
  /** Latest evaluations of any version, newest first (at most 10). */
  readonly evaluations: readonly EvaluationRecord[]
}

export async function showModel(options: {workspace: LocateOptions; name: string}): Promise<ShowModelResult> {
  return withWorkspace({...options.workspace, readOnly: true}, ws => {
    const versions = listVersions(ws, options.name)
    const aliases: Record<string, number> = {}
    for (const v of versions) for (const a of v.aliases) aliases[a] = v.version
    return {name: options.name, aliases, versions, evaluations: listEvaluations(ws, options.name).slice(0, 10)}
  })
}
