import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {importanceTable, metricsTable, table} from '../cli/render.js'
import {ALGO_NAMES} from '../ml/algorithms.js'
import {type TrainResult, train} from '../services/train.js'

export default class Train extends BaseCommand {
  static override summary = 'Train a model on a CSV, Parquet or JSON Lines table, log the run and export it as ONNX'
  static override description =
    `The task is inferred from the target (text, booleans or two distinct numbers → classification; other numbers → regression) unless --task says otherwise. Preprocessing (imputation, scaling, one-hot encoding) is part of the exported model. Metrics are computed by ONNX Runtime on the held-out split and on the training split (at most 100,000 of its rows, a seeded sample). Creates a workspace in the current folder when none is found.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> data/iris.csv --target species',
    '<%= config.bin %> <%= command.id %> data/penguins.csv --target species --algo logistic --param c=0.5 --save penguins --alias candidate',
    '<%= config.bin %> <%= command.id %> data/diabetes.csv --target progression --test-size 0.25 --seed 7 --json',
    'cat data/iris.csv | <%= config.bin %> <%= command.id %> - --target species --experiment iris',
  ]

  static override args = {
    data: Args.string({
      description: 'CSV / Parquet / JSON Lines file, folder, glob ("data/*.csv"), or - for stdin',
      required: true,
    }),
  }

  static override flags = {
    target: Flags.string({char: 't', summary: 'Column to predict.', required: true}),
    algo: Flags.string({
      char: 'a',
      summary: `Algorithm: ${ALGO_NAMES.join(', ')}, or auto to fit the candidates and keep the best (default: logistic for classification, linear for regression).`,
    }),
    task: Flags.string({summary: 'Override the inferred task.', options: ['classification', 'regression']}),
    features: Flags.string({
      summary: 'Comma-separated feature columns (default: all but the target).',
      delimiter: ',',
      multiple: true,
    }),
    ignore: Flags.string({
      summary: 'Comma-separated columns to leave out (ids, names, leaks).',
      delimiter: ',',
      multiple: true,
    }),
    'test-size': Flags.string({
      summary: 'Fraction of rows held out for test metrics (stratified for classification).',
      default: '0.2',
    }),
    seed: Flags.integer({summary: 'Seed for the split and any randomness in training.', default: 42}),
    param: Flags.string({
      char: 'p',
      summary: 'Hyperparameter key=value (repeatable), e.g. --param c=0.5.',
      multiple: true,
    }),
    tag: Flags.string({summary: 'Label the run with key=value (repeatable), e.g. --tag owner=ana.', multiple: true}),
    experiment: Flags.string({char: 'e', summary: 'Experiment to log the run in.', default: 'default'}),
    'run-name': Flags.string({summary: 'Name of the run (default: <algo>-<n>).'}),
    save: Flags.string({summary: 'Register the trained model under this name.'}),
    alias: Flags.string({
      summary: 'With --save: point this alias (e.g. candidate) at the new version (repeatable).',
      multiple: true,
    }),
    format: Flags.string({
      summary: 'Input format when the extension does not tell.',
      options: ['csv', 'parquet', 'jsonl'],
    }),
  }

  async run(): Promise<TrainResult> {
    const {args, flags} = await this.parse(Train)
    this.setQuiet(flags.quiet)
    const result = await train({
      workspace: this.workspaceOptions(flags),
      data: args.data,
      target: flags.target,
      algo: flags.algo,
      task: flags.task as TrainResult['task'] | undefined,
      features: flags.features,
      ignore: flags.ignore,
      testSize: Number(flags['test-size']),
      seed: flags.seed,
      params: flags.param ?? [],
      tags: flags.tag,
      experiment: flags.experiment,
      runName: flags['run-name'],
      save: flags.save,
      aliases: flags.alias,
      format: flags.format as 'csv' | undefined,
      onProgress: this.progress,
    })
    if (result.candidates) {
      this.print(
        table(
          ['candidate run', 'algo', result.candidates[0]!.metric],
          result.candidates.map(c => [c.runId, c.algo, c.value ?? '']),
        ),
      )
    }
    this.print(
      `run ${result.runId} · ${result.algo} · ${result.task} · ${result.dataset.rows} rows · experiment ${result.experiment}`,
    )
    this.print(metricsTable(result.metrics))
    if (result.importance) this.print(importanceTable(result.importance))
    this.print(`model: ${result.artifacts.model}`)
    if (result.model)
      this.print(
        `saved: ${result.model.name}:${result.model.version}${result.model.aliases.map(a => ` @${a}`).join('')}`,
      )
    return result
  }
}
