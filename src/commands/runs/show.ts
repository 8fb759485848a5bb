import {Args} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {importanceTable, metricsTable, table} from '../../cli/render.js'
import {showRun} from '../../services/runs.js'
import type {RunRecord} from '../../workspace/runs.js'

export default class RunsShow extends BaseCommand {
  static override summary = 'Show one run: status, params, metrics, dataset and artifacts'
  static override examples = [
    '<%= config.bin %> <%= command.id %> 3f9a1c2b7d4e',
    '<%= config.bin %> <%= command.id %> 3f9a --json',
  ]
  static override args = {
    run: Args.string({description: 'Run id or a unique prefix of it (4+ characters)', required: true}),
  }

  async run(): Promise<RunRecord> {
    const {args, flags} = await this.parse(RunsShow)
    const run = await showRun({workspace: this.workspaceOptions(flags), runId: args.run})
    this.print(
      `run ${run.id} (${run.name}) · experiment ${run.experiment} · ${run.status}${run.durationMs === null ? '' : ` in ${(run.durationMs / 1000).toFixed(2)} s`}`,
    )
    if (run.error) this.print(`error: ${run.error.message}${run.error.code ? ` [${run.error.code}]` : ''}`)
    if (run.algo) this.print(`algo: ${run.algo} · task: ${run.task ?? '?'}`)
    if (run.dataset)
      this.print(
        `data: ${run.dataset.path} · ${run.dataset.rows} rows · sha256 ${run.dataset.sha256.slice(0, 16)}…${run.dataset.target ? ` · target ${run.dataset.target}` : ''}`,
      )
    if (Object.keys(run.tags).length > 0)
      this.print(
        `tags: ${Object.entries(run.tags)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      )
    if (Object.keys(run.params).length > 0)
      this.print(
        table(
          ['param', 'value'],
          Object.entries(run.params).map(([k, v]) => [k, String(v)]),
        ),
      )
    if (Object.keys(run.metrics).length > 0) this.print(metricsTable(run.metrics))
    if (run.importance) this.print(importanceTable(run.importance))
    if (run.artifactDir) this.print(`artifacts: ${run.artifactDir}`)
    return run
  }
}
