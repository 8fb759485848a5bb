import {BaseCommand} from '../../cli/base-command.js'
import {table} from '../../cli/render.js'
import {listModels} from '../../services/models.js'
import type {ModelSummary} from '../../workspace/registry.js'

export default class ModelsList extends BaseCommand {
  static override summary = 'List registered models with their latest version and aliases'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<{models: ModelSummary[]}> {
    const {flags} = await this.parse(ModelsList)
    const result = await listModels({workspace: this.workspaceOptions(flags)})
    if (result.models.length === 0)
      this.print('no models yet: register one with mlproj train DATA --target COL --save NAME')
    else {
      this.print(
        table(
          ['name', 'latest', 'versions', 'aliases', 'task', 'algo', 'updated'],
          result.models.map(m => [
            m.name,
            m.latestVersion,
            m.versions,
            Object.entries(m.aliases)
              .map(([a, v]) => `@${a}→${v}`)
              .join(' '),
            m.task,
            m.algo ?? 'imported',
            m.updatedAt.slice(0, 19).replace('T', ' '),
          ]),
        ),
      )
    }
    return result
  }
}
