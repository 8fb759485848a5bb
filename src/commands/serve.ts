import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {EXIT_CODES} from '../errors.js'
import {SERVE_DEFAULTS, type ServeResult, serve} from '../services/serve.js'

export default class Serve extends BaseCommand {
  static override summary = 'Serve models over HTTP: MLflow / SageMaker scoring, Open Inference Protocol V2, metrics'
  static override description =
    `MODEL is NAME (latest version), NAME:VERSION, NAME@ALIAS or run:RUN_ID; give several to serve several (the first also answers POST /invocations), and SERVED_NAME=MODEL to choose the name in the URLs. An alias (or a bare NAME) is followed: when it moves, the server loads the new version and switches to it without failing a request.

Routes: POST /invocations and /models/<name>/invocations (MLflow: dataframe_split, dataframe_records, instances, inputs, or text/csv), GET /models, POST /v2/models/<name>/infer, GET /v2/models/<name>[/ready], GET /v2/health/live, /v2/health/ready, /ping, /health, /version, /metrics (Prometheus).

It listens on 127.0.0.1 unless --host says otherwise. SIGTERM or SIGINT stops it after the requests in flight are answered (exit 0). A model that cannot be loaded exits ${EXIT_CODES.model}; a port in use exits ${EXIT_CODES.environment}.`

  static override examples = [
    {
      description: 'Serve the production version of penguins on port 8080, following the alias',
      command: '<%= config.bin %> <%= command.id %> penguins@production',
    },
    {
      description: 'Then score a row (in another terminal)',
      command: `curl -s localhost:8080/invocations -H 'Content-Type: application/json' -d '{"dataframe_records": [{"island": "Biscoe", "bill_length_mm": 45.1, "bill_depth_mm": 14.5, "flipper_length_mm": 215, "body_mass_g": 5000, "sex": "female", "year": 2008}]}'`,
    },
    {
      description: 'Two versions side by side for an A/B test, on every interface, with a token',
      command:
        '<%= config.bin %> <%= command.id %> champion=penguins@production challenger=penguins@candidate --host 0.0.0.0 --port 9000 --token "$(openssl rand -hex 16)"',
    },
    {
      description: 'Record every request (inputs, predictions, version, latency) in the workspace',
      command: '<%= config.bin %> <%= command.id %> penguins:2 --log-predictions --workers 2',
    },
  ]

  static override strict = false

  static override args = {
    model: Args.string({
      description:
        'Model reference (NAME, NAME:VERSION, NAME@ALIAS, run:RUN_ID), or SERVED_NAME=REFERENCE; several allowed',
      required: true,
    }),
  }

  static override flags = {
    port: Flags.integer({
      char: 'p',
      summary: 'Port to listen on (0: any free port).',
      default: SERVE_DEFAULTS.port,
      min: 0,
      max: 65535,
    }),
    host: Flags.string({summary: 'Address to listen on; 0.0.0.0 for every interface.', default: SERVE_DEFAULTS.host}),
    workers: Flags.integer({summary: 'Worker threads running ONNX Runtime (default: the number of cores).', min: 1}),
    token: Flags.string({
      summary: 'Require "Authorization: Bearer TOKEN" on every route but the health checks.',
      env: 'MLPROJ_TOKEN',
    }),
    'log-predictions': Flags.boolean({
      summary: 'Record each request (inputs, predictions, model version, latency, request id) in the workspace.',
    }),
    'max-body-mb': Flags.integer({summary: 'Largest request body, in MB (413 above).', default: 10, min: 1}),
    'max-rows': Flags.integer({
      summary: 'Most rows in one request (413 above).',
      default: SERVE_DEFAULTS.maxRows,
      min: 1,
    }),
    'watch-interval': Flags.integer({
      summary: 'Seconds between checks that followed aliases have moved (0: never).',
      default: SERVE_DEFAULTS.watchIntervalMs / 1000,
      min: 0,
    }),
  }

  async run(): Promise<ServeResult> {
    const {argv, flags} = await this.parse(Serve)
    this.setQuiet(flags.quiet)
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    try {
      const result = await serve({
        workspace: this.workspaceOptions(flags),
        models: argv as string[],
        host: flags.host,
        port: flags.port,
        workers: flags.workers,
        token: flags.token,
        logPredictions: flags['log-predictions'],
        maxBodyBytes: flags['max-body-mb'] * 1024 * 1024,
        maxRows: flags['max-rows'],
        watchIntervalMs: flags['watch-interval'] * 1000,
        signal: stop.signal,
        onProgress: this.progress,
      })
      return result
    } finally {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    }
  }
}
