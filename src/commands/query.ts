import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {EXIT_CODES} from '../errors.js'
import {renderPreview} from '../query/render.js'
import {OUTPUT_FORMATS, type OutputFormat, type QueryResult, query, repl} from '../services/query.js'

export default class Query extends BaseCommand {
  static override summary = 'Run SQL over data files, saved tables and the workspace, with models as SQL functions'
  static override description =
    `DuckDB SQL. Tables: files ('data/x.csv', Parquet, JSON Lines, globs), tables saved with --save-as, and the workspace: runs (metrics.<name>, train_metrics.<name>, params.<name>), models, model_versions, evaluations (and jobs, predictions_log once the workspace keeps them).
predict('MODEL', row) returns the prediction (the label's type, or DOUBLE); predict_proba('MODEL', row) the positive-class probability of a binary classifier, or a MAP class → probability. MODEL is NAME, NAME:VERSION, NAME@ALIAS or run:RUN_ID; row is a table alias (the whole row) or a struct such as {'age': age}; columns are matched to the model by name.
Without SQL or --file, the SQL is read from stdin, or a shell starts on a terminal. Several statements may be given; the last one's result is shown. Exit ${EXIT_CODES.data} for a SQL error (the message gives the line and column), ${EXIT_CODES.model} for an unknown model or a row lacking a model column.`

  static override examples = [
    `<%= config.bin %> <%= command.id %> "SELECT species, count(*) AS n FROM 'data/penguins.csv' GROUP BY ALL"`,
    `<%= config.bin %> <%= command.id %> "SELECT predict('penguins@candidate', p) AS predicted, count(*) FROM 'data/penguins.csv' p GROUP BY ALL"`,
    `<%= config.bin %> <%= command.id %> "SELECT p.*, predict_proba('penguins@candidate', p)['Gentoo'] AS p_gentoo FROM 'data/penguins.csv' p WHERE island = 'Biscoe'" --save-as biscoe_scored`,
    `<%= config.bin %> <%= command.id %> "SELECT id, algo, metrics.accuracy FROM runs WHERE experiment = 'penguins' ORDER BY metrics.accuracy DESC LIMIT 1"`,
    `<%= config.bin %> <%= command.id %> --file report.sql --output report.parquet`,
    `<%= config.bin %> <%= command.id %>    # a SQL shell on a terminal: statements end with ;  .tables  .models  .quit`,
  ]

  static override args = {sql: Args.string({description: 'SQL statement(s), separated by ;'})}

  static override flags = {
    file: Flags.string({char: 'f', summary: 'Read the SQL from this file (- for stdin).'}),
    format: Flags.string({
      summary:
        'Result format: table (default on stdout), or csv, json, jsonl, parquet (default from the --output name).',
      options: [...OUTPUT_FORMATS],
    }),
    output: Flags.string({char: 'o', summary: 'Write the result to this file (written atomically), or - for stdout.'}),
    'save-as': Flags.string({
      summary: 'Save the result as a workspace table with this name, queryable by name afterwards.',
    }),
    replace: Flags.boolean({summary: 'With --save-as: overwrite a table of that name.'}),
    'max-rows': Flags.integer({
      summary: 'Rows a table shows: the first and last half (default 40; 0 for all).',
      min: 0,
    }),
  }

  async run(): Promise<QueryResult | {statements: number}> {
    const {args, flags} = await this.parse(Query)
    this.setQuiet(flags.quiet)
    const width = () => (process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : undefined)
    if (args.sql === undefined && flags.file === undefined && process.stdin.isTTY && !this.jsonEnabled()) {
      return repl({
        workspace: this.workspaceOptions(flags),
        input: process.stdin,
        output: process.stdout,
        terminal: true,
        maxRows: flags['max-rows'],
        width,
      })
    }
    const result = await query({
      workspace: this.workspaceOptions(flags),
      sql: args.sql,
      file: flags.file,
      format: flags.format as OutputFormat | undefined,
      output: flags.output,
      saveAs: flags['save-as'],
      replace: flags.replace,
      maxRows: flags['max-rows'],
      json: this.jsonEnabled(),
      stdoutIsTTY: process.stdout.isTTY === true,
      onProgress: this.progress,
    })
    if (result.preview) this.print(renderPreview(result.preview, {width: width()}))
    return result
  }
}
