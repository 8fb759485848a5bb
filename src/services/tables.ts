// `mlproj tables list`: the tables saved by `query --save-as`, and the workspace's own tables that queries can name.
import {WORKSPACE_TABLES} from '../query/workspace-tables.js'
import {listSavedTables, type SavedTable} from '../workspace/tables.js'
import {type LocateOptions, withWorkspace} from '../workspace/workspace.js'

export interface TablesResult {
  readonly saved: readonly SavedTable[]
  /** The workspace's tables, with whether this workspace keeps each one yet. */
  readonly workspace: ReadonlyArray<{readonly name: string; readonly description: string; readonly available: boolean}>
}

export async function listTables(options: {readonly workspace: LocateOptions}): Promise<TablesResult> {
  return withWorkspace({...options.workspace, readOnly: true}, ws => ({
    saved: listSavedTables(ws),
    workspace: WORKSPACE_TABLES.map(t => ({name: t.name, description: t.description, available: t.exists(ws)})),
  }))
}
