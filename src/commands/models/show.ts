import {Args} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {table} from '../../cli/render.js'
import {type ShowModelResult, showModel} from '../../services/models.js'

export default class ModelsShow extends BaseCommand {
  static override summary = 'Show a model: versions, aliases, signature and recent evaluations'
  static override examples = [
    '<%= config.bin %> <%= command.id %> iris',
    '<%= config.bin %> <%= command.id %> iris --json',
  ]
  static override args = {name: Args.string({description: 'Model name', required: true})}

  async run(): Promise<ShowModelResult> {
    const {args, flags} = await this.parse(ModelsShow)
    const result = await showModel({workspace: this.workspaceOptions(flags), name: args.name})
    this.print(
      table(
        ['version', 'aliases', 'source', 'algo', 'task', 'run', 'created'],
        result.versions.map(v => [
          v.version,
          v.aliases.map(a => `@${a}`).join(' '),
          v.source,
          v.algo ?? '',
          v.task,
          v.runId ?? '',
          v.createdAt.slice(0, 19).replace('T', ' '),
        ]),
      ),
    )
    const latest = result.versions[0]!
    const sig = latest.signature
    this.print(
      `signature of version ${latest.version}: predicts "${sig.target}" (${sig.task}${sig.classes ? `; classes: ${sig.classes.join(', ')}` : ''})`,
    )
    this.print(
      table(
        ['input column', 'type', 'onnx input', 'categories / training range'],
        sig.inputs.map(i => [
          i.name,
          i.type,
          `${i.onnxName}${i.index === undefined ? '' : `[${i.index}]`} (${i.elemType})`,
          i.categories ? i.categories.join(', ') : i.range ? `${i.range[0]} … ${i.range[1]}` : '',
        ]),
      ),
    )
    if (result.evaluations.length > 0) {
      this.print('recent evaluations')
      this.print(
        table(
          ['when', 'version', 'data', 'rows', 'passed', 'metrics'],
          result.evaluations.map(e => [
            e.createdAt.slice(0, 19).replace('T', ' '),
            e.modelVersion ?? '',
            String(e.dataset.path),
            String(e.dataset.rows),
            e.passed ? 'yes' : 'NO',
            Object.entries(e.metrics)
              .slice(0, 3)
              .map(([k, v]) => `${k}=${v.toPrecision(4)}`)
              .join(' '),
          ]),
        ),
      )
    }
    return result
  }
}
