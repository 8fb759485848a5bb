import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {formatNumber, importanceTable, table} from '../cli/render.js'
import {EXIT_CODES} from '../errors.js'
import {type EvaluateResult, evaluate} from '../services/evaluate.js'

export default class Evaluate extends BaseCommand {
  static override summary = 'Score a model on labelled data: metrics, confusion matrix and quality gates for CI'
  static override description =
    `MODEL is NAME (latest version), NAME:VERSION, NAME@ALIAS or run:RUN_ID. Predictions come from the model's ONNX file through ONNX Runtime. Each --fail-if gate fails the evaluation when its comparison holds; then the command exits ${EXIT_CODES.gate} after printing the results. Every evaluation is recorded in the workspace.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> iris@production data/iris.csv',
    '<%= config.bin %> <%= command.id %> iris:1 data/iris.csv --fail-if "accuracy<0.9" --fail-if "log_loss>0.5"',
    '<%= config.bin %> <%= command.id %> run:3f9a1c2b7d4e data/iris.csv --target species --json',
  ]

  static override args = {
    model: Args.string({description: 'Model reference: NAME, NAME:VERSION, NAME@ALIAS or run:RUN_ID', required: true}),
    data: Args.string({
      description: 'Labelled CSV / Parquet / JSON Lines file, folder, glob, or - for stdin',
      required: true,
    }),
  }

  static override flags = {
    target: Flags.string({char: 't', summary: 'Target column in DATA (default: the one the model was trained on).'}),
    'fail-if': Flags.string({
      summary: 'Quality gate such as "auc<0.85" or "rmse>=12" (repeatable); exit 6 when one holds.',
      multiple: true,
    }),
    format: Flags.string({
      summary: 'Input format when the extension does not tell.',
      options: ['csv', 'parquet', 'jsonl'],
    }),
  }

  async run(): Promise<EvaluateResult> {
    const {args, flags} = await this.parse(Evaluate)
    this.setQuiet(flags.quiet)
    const result = await evaluate({
      workspace: this.workspaceOptions(flags),
      model: args.model,
      data: args.data,
      target: flags.target,
      gates: flags['fail-if'] ?? [],
      format: flags.format as 'csv' | undefined,
      onProgress: this.progress,
    })
    this.print(
      `${result.model.name ? `${result.model.name}:${result.model.version}` : result.model.ref} on ${result.dataset.path} · ${result.dataset.rows} rows · ${result.task}`,
    )
    this.print(table(['metric', 'value'], Object.entries(result.metrics)))
    if ('confusionMatrix' in result.details) {
      const {labels, confusionMatrix, perClass} = result.details
      this.print(
        table(
          ['class', 'precision', 'recall', 'f1', 'support'],
          perClass.map(c => [c.label, c.precision, c.recall, c.f1, c.support]),
        ),
      )
      this.print(
        `confusion matrix (rows: true, columns: predicted)\n${table(
          ['', ...labels],
          confusionMatrix.map((row, i) => [labels[i]!, ...row]),
        )}`,
      )
    }
    if (result.importance) this.print(importanceTable(result.importance))
    for (const gate of result.gates) {
      const value = gate.value === undefined ? ` (${gate.reason})` : ` (${gate.metric} = ${formatNumber(gate.value)})`
      this.progress(`gate ${gate.failed ? 'FAILED' : 'passed'}: ${gate.expression}${value}`)
    }
    if (!result.passed) process.exitCode = EXIT_CODES.gate
    return result
  }
}
