import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {EXIT_CODES, UsageError} from '../errors.js'
import {type BatchStatus, type OnError, predictBatch} from '../services/predict-batch.js'
import type {JobRecord} from '../workspace/jobs.js'

export default class PredictBatch extends BaseCommand {
  static override summary = 'Score files with a saved model: a batch job that is safe to run from cron'
  static override description =
    `MODEL is NAME (latest version), NAME:VERSION, NAME@ALIAS or run:RUN_ID; an alias is resolved once, when the job starts, and the job records the version it used. Output rows keep the input order and carry the input columns (or --keep) plus predicted_<target> and, for classifiers, probability (binary) or probability_<class>.

Without --output, each job writes a new file: .mlproj/predictions/<model>/<YYYY-MM-DD>/<job-id>.<ext> (UTC date). Files appear complete or not at all, and every job is recorded (mlproj jobs list). A second job for the same model and destination waits up to --wait seconds, then exits ${EXIT_CODES.environment}.

Exit codes: 0 done (also "0 new inputs"), ${EXIT_CODES.usage} bad flags, ${EXIT_CODES.data} bad input (a row that cannot be scored with --on-error fail, a malformed or missing file), ${EXIT_CODES.model} model not found or a column it needs is missing, ${EXIT_CODES.environment} locked or not writable.`

  static override examples = [
    {
      description: 'Score a file into the workspace (.mlproj/predictions/penguins/<date>/<job-id>.csv)',
      command: '<%= config.bin %> <%= command.id %> penguins@production --input data/penguins.csv',
    },
    {
      description: 'From cron: only files not scored before by this model version, silent unless it fails',
      command: '<%= config.bin %> <%= command.id %> penguins@production --input "incoming/*.csv" --incremental --quiet',
    },
    {
      description: 'Parquet out, two input columns kept, rows that cannot be scored set aside in a rejects file',
      command:
        '<%= config.bin %> <%= command.id %> penguins:1 --input data/penguins.csv --output scored.parquet --keep island,sex --on-error skip',
    },
    {
      description: 'In a pipe',
      command: 'cat data/penguins.csv | <%= config.bin %> <%= command.id %> penguins --input - --output - > scored.csv',
    },
  ]

  static override args = {
    model: Args.string({description: 'Model reference: NAME, NAME:VERSION, NAME@ALIAS or run:RUN_ID', required: true}),
  }

  static override flags = {
    input: Flags.string({
      char: 'i',
      summary: 'CSV / Parquet / JSON Lines file, folder, glob (quoted), or - for stdin.',
      required: true,
    }),
    output: Flags.string({
      char: 'o',
      summary: 'File, folder, or - for stdout (default: a new file under .mlproj/predictions).',
    }),
    format: Flags.string({
      summary: "Output format (default: from --output's extension, else csv).",
      options: ['csv', 'parquet', 'jsonl'],
    }),
    'input-format': Flags.string({
      summary: 'Input format when extensions do not tell.',
      options: ['csv', 'parquet', 'jsonl'],
    }),
    keep: Flags.string({summary: 'Input columns to carry into the output, comma-separated (default: all).'}),
    incremental: Flags.boolean({
      default: false,
      summary: 'Only inputs this model version has not processed (same path, size, modification time and content).',
    }),
    'on-error': Flags.string({
      summary: 'A row that cannot be scored: fail (exit 3, nothing written) or skip (to a .rejects.csv file).',
      options: ['fail', 'skip'],
      default: 'fail',
    }),
    wait: Flags.integer({
      summary: 'Seconds to wait for another job writing the same model and destination before exiting 5.',
      min: 0,
      default: 0,
    }),
  }

  async run(): Promise<JobRecord> {
    const {args, flags} = await this.parse(PredictBatch)
    this.setQuiet(flags.quiet)
    if (flags.output === '-' && this.jsonEnabled()) {
      throw new UsageError('E_USAGE_STDOUT', '--output - and --json both write to stdout', {
        hint: 'write the predictions to a file or folder, or leave out --json',
      })
    }
    const live = process.stderr.isTTY === true && !flags.quiet
    let last = 0
    try {
      const job = await predictBatch({
        workspace: this.workspaceOptions(flags),
        model: args.model,
        input: flags.input,
        output: flags.output,
        format: flags.format as 'csv' | undefined,
        inputFormat: flags['input-format'] as 'csv' | undefined,
        keep: flags.keep?.split(',').map(k => k.trim()),
        incremental: flags.incremental,
        onError: flags['on-error'] as OnError,
        waitSeconds: flags.wait,
        onProgress: this.progress,
        onStatus: status => {
          if (live) process.stderr.write(`\r\u001b[K${statusLine(status)}`)
          else if (status.elapsedMs - last >= 10_000) {
            last = status.elapsedMs
            this.progress(statusLine(status))
          }
        },
      })
      if (live) process.stderr.write('\r\u001b[K')
      this.progress(doneLine(job))
      return job
    } catch (error) {
      if (live) process.stderr.write('\r\u001b[K')
      throw error
    }
  }
}

function statusLine(s: BatchStatus): string {
  const rate = s.elapsedMs > 0 ? (s.rows * 1000) / s.elapsedMs : 0
  const eta = rate > 0 && s.estimatedRows > s.rows ? Math.ceil((s.estimatedRows - s.rows) / rate) : 0
  return `scored ${s.rows.toLocaleString('en-US')} of ~${s.estimatedRows.toLocaleString('en-US')} rows · ${Math.round(rate).toLocaleString('en-US')} rows/s · ETA ${eta} s`
}

function doneLine(job: JobRecord): string {
  const seconds = ((job.durationMs ?? 0) / 1000).toFixed(1)
  if (job.output === null) return `job ${job.id} finished in ${seconds} s: nothing to do`
  const {rows} = job
  return `job ${job.id} finished in ${seconds} s: ${rows.out} rows written${rows.rejected ? `, ${rows.rejected} rejected` : ''} → ${job.output === '-' ? 'stdout' : job.output}`
}
