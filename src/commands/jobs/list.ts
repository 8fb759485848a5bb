import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {table} from '../../cli/render.js'
import {listJobs} from '../../services/jobs.js'
import type {JobRecord, JobStatus} from '../../workspace/jobs.js'

export default class JobsList extends BaseCommand {
  static override summary = 'List batch prediction jobs, newest first'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --model penguins --status failed',
    '<%= config.bin %> <%= command.id %> --limit 5 --json',
  ]

  static override flags = {
    model: Flags.string({char: 'm', summary: 'Only jobs of this model (NAME, NAME:VERSION or run:RUN_ID).'}),
    status: Flags.string({
      summary: 'Only jobs with this status.',
      options: ['running', 'publishing', 'finished', 'failed'],
    }),
    limit: Flags.integer({summary: 'At most this many jobs.', min: 1}),
  }

  async run(): Promise<{jobs: JobRecord[]}> {
    const {flags} = await this.parse(JobsList)
    const result = await listJobs({
      workspace: this.workspaceOptions(flags),
      model: flags.model,
      status: flags.status as JobStatus | undefined,
      limit: flags.limit,
    })
    this.print(
      table(
        ['job', 'model', 'status', 'inputs', 'rows in', 'out', 'rejected', 'started', 'seconds'],
        result.jobs.map(j => [
          j.id,
          j.model.name ? `${j.model.name}:${j.model.version}` : j.modelKey,
          j.status,
          j.inputs.length,
          j.rows.in ?? '',
          j.rows.out ?? '',
          j.rows.rejected ?? '',
          j.startedAt.slice(0, 19).replace('T', ' '),
          j.durationMs === null ? '' : (j.durationMs / 1000).toFixed(1),
        ]),
      ),
    )
    return result
  }
}
