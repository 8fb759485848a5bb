import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {table} from '../../cli/render.js'
import {listRuns} from '../../services/runs.js'
import type {RunRecord} from '../../workspace/runs.js'

export default class RunsList extends BaseCommand {
  static override summary = 'List training runs, newest first or sorted by a test metric'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --experiment iris --sort accuracy',
    '<%= config.bin %> <%= command.id %> --sort rmse --limit 5 --json',
  ]

  static override flags = {
    experiment: Flags.string({char: 'e', summary: 'Only runs of this experiment.'}),
    sort: Flags.string({
      summary: 'Sort by this test-split metric, best first (prefix - for highest first, + for lowest first).',
    }),
    status: Flags.string({summary: 'Only runs with this status.', options: ['running', 'finished', 'failed']}),
    limit: Flags.integer({summary: 'At most this many runs.', min: 1}),
  }

  async run(): Promise<{runs: RunRecord[]}> {
    const {flags} = await this.parse(RunsList)
    const result = await listRuns({
      workspace: this.workspaceOptions(flags),
      experiment: flags.experiment,
      sort: flags.sort,
      status: flags.status as RunRecord['status'] | undefined,
      limit: flags.limit,
    })
    const metric = flags.sort?.replace(/^[-+]/, '')
    const shown = (r: RunRecord) => metric ?? (r.task === 'regression' ? 'rmse' : 'accuracy')
    this.print(
      table(
        ['run', 'name', 'experiment', 'status', 'algo', 'task', metric ?? 'main metric (test)', 'started'],
        result.runs.map(r => [
          r.id,
          r.name,
          r.experiment,
          r.status,
          r.algo ?? '',
          r.task ?? '',
          r.metrics.test?.[shown(r)] ?? '',
          r.startedAt.slice(0, 19).replace('T', ' '),
        ]),
      ),
    )
    return result
  }
}
