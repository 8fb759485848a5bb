import {BaseCommand} from '../../cli/base-command.js'
import {table} from '../../cli/render.js'
import {listTables, type TablesResult} from '../../services/tables.js'

export default class TablesList extends BaseCommand {
  static override summary = 'List the tables queries can name: saved with query --save-as, and the workspace’s own'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    `<%= config.bin %> query "SELECT * FROM 'data/penguins.csv' WHERE sex IS NULL" --save-as unsexed && <%= config.bin %> <%= command.id %> --json`,
  ]

  async run(): Promise<TablesResult> {
    const {flags} = await this.parse(TablesList)
    const result = await listTables({workspace: this.workspaceOptions(flags)})
    if (result.saved.length === 0) this.print('no saved tables yet: mlproj query "SELECT ..." --save-as NAME')
    else {
      this.print(
        table(
          ['name', 'rows', 'columns', 'models', 'updated', 'file'],
          result.saved.map(t => [
            t.name,
            t.rows,
            t.columns.length,
            t.models.join(' '),
            t.updatedAt.slice(0, 19).replace('T', ' '),
            t.path,
          ]),
        ),
      )
    }
    const own = result.workspace.filter(t => t.available).map(t => t.name)
    this.print(`workspace tables: ${own.join(', ')}`)
    return result
  }
}
