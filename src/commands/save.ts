import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {type SaveResult, save} from '../services/save.js'

export default class Save extends BaseCommand {
  static override summary = 'Register a model version: from a training run, or an ONNX file trained elsewhere'
  static override description =
    `Each save adds version N+1 of NAME. --alias points an alias (production, candidate, ...) at the new version; moving an alias is one transaction, so readers see the old version or the new one. An imported ONNX model's signature is read from its inputs and outputs (a [N, k] input becomes k columns, named with --columns).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> 3f9a1c2b7d4e --name iris --alias production',
    '<%= config.bin %> <%= command.id %> --onnx sklearn_model.onnx --name churn --columns age,income,plan --target churned',
  ]

  static override args = {
    run: Args.string({description: 'Id (or unique prefix) of a finished training run'}),
  }

  static override flags = {
    name: Flags.string({char: 'n', summary: 'Model name to register under.', required: true}),
    alias: Flags.string({summary: 'Point this alias at the new version (repeatable).', multiple: true}),
    onnx: Flags.string({summary: 'Import this ONNX file instead of a run.'}),
    columns: Flags.string({
      summary: 'With --onnx: names of the columns of a 2-D model input, in order.',
      delimiter: ',',
      multiple: true,
    }),
    target: Flags.string({summary: 'With --onnx: the name of what the model predicts (names predicted_<target>).'}),
  }

  async run(): Promise<SaveResult> {
    const {args, flags} = await this.parse(Save)
    this.setQuiet(flags.quiet)
    const result = await save({
      workspace: this.workspaceOptions(flags),
      runId: args.run,
      onnx: flags.onnx,
      name: flags.name,
      aliases: flags.alias ?? [],
      columns: flags.columns,
      target: flags.target,
      onProgress: this.progress,
    })
    this.print(
      `${result.name}:${result.version}${result.aliases.map(a => ` @${a}`).join('')} · ${result.task} · ${result.signature.inputs.length} inputs · ${result.artifactPath}`,
    )
    return result
  }
}
