import {Args} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {table} from '../../cli/render.js'
import {showJob} from '../../services/jobs.js'
import type {JobRecord} from '../../workspace/jobs.js'

export default class JobsShow extends BaseCommand {
  static override summary = 'Show one batch prediction job: model version, inputs, outputs, row counts, warnings'
  static override examples = [
    '<%= config.bin %> <%= command.id %> 3f9a1c2b7d4e',
    '<%= config.bin %> <%= command.id %> 3f9a --json',
  ]
  static override args = {
    job: Args.string({description: 'Job id or a unique prefix of it (4+ characters)', required: true}),
  }

  async run(): Promise<JobRecord> {
    const {args, flags} = await this.parse(JobsShow)
    const job = await showJob({workspace: this.workspaceOptions(flags), jobId: args.job})
    const model = job.model.name ? `${job.model.name}:${job.model.version}` : job.modelKey
    this.print(
      `job ${job.id} · ${model}${job.model.ref === model ? '' : ` (${job.model.ref})`} · ${job.status}${job.durationMs === null ? '' : ` in ${(job.durationMs / 1000).toFixed(2)} s`}`,
    )
    if (job.error) this.print(`error: ${job.error.message}${job.error.code ? ` [${job.error.code}]` : ''}`)
    this.print(
      `input: ${job.input}${job.options.incremental ? ` · incremental (${job.inputsSkipped ?? 0} skipped)` : ''} · on error: ${job.options.onError}`,
    )
    this.print(`rows: ${job.rows.in ?? '?'} in, ${job.rows.out ?? '?'} out, ${job.rows.rejected ?? '?'} rejected`)
    if (job.inputs.length > 0)
      this.print(
        table(
          ['input', 'rows', 'rejected', 'bytes', 'sha256'],
          job.inputs.map(i => [i.path, i.rows ?? '', i.rejected ?? '', i.size, `${i.sha256.slice(0, 16)}…`]),
        ),
      )
    if (job.outputs.length > 0)
      this.print(
        table(
          ['output', 'file', 'format', 'rows', 'bytes'],
          job.outputs.map(o => [o.kind, o.path, o.format, o.rows, o.bytes ?? '']),
        ),
      )
    for (const w of job.warnings) this.print(`warning: ${w.message}`)
    return job
  }
}
