// The base of every mlproj command: the global flags, progress lines on stderr, and one place that turns
// any error into a message with a hint (or a JSON error document) and the exit code of its class.
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'
import {EXIT_CODES, MlprojError, UsageError} from '../errors.js'
import type {LocateOptions} from '../workspace/workspace.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>

/** An error that is not an MlprojError: a bug, reported with exit code 1. */
class InternalError extends MlprojError {
  readonly exitCode = EXIT_CODES.bug
  readonly httpStatus = 500
}

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    workspace: Flags.string({
      char: 'w',
      summary: 'Workspace folder (the one holding .mlproj); default: found by walking up from here.',
      env: 'MLPROJ_WORKSPACE',
      helpGroup: 'GLOBAL',
    }),
    quiet: Flags.boolean({char: 'q', summary: 'Print no progress lines on stderr.', helpGroup: 'GLOBAL'}),
  }

  private quiet = false

  protected workspaceOptions(flags: {workspace?: string}): LocateOptions {
    return {explicit: flags.workspace}
  }

  protected setQuiet(quiet: boolean | undefined): void {
    this.quiet = quiet ?? false
  }

  /** A progress or warning line on stderr (never stdout: scripts read stdout). */
  protected progress = (message: string): void => {
    if (!this.quiet) process.stderr.write(`${message}\n`)
  }

  protected print(text: string): void {
    if (!this.jsonEnabled()) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  override async catch(error: Error & {oclif?: {exit?: number | false}}): Promise<void> {
    if (error instanceof Errors.ExitError) throw error
    const err = normalize(error, this.id ?? '')
    process.exitCode = err.exitCode
    if (this.jsonEnabled()) {
      this.logJson({error: err.toJSON()})
      return
    }
    const lines = [`Error: ${err.message}`]
    if (err.hint) lines.push(`Hint: ${err.hint}`)
    if (err instanceof InternalError && process.env.DEBUG && error.stack) lines.push(error.stack)
    process.stderr.write(`${lines.join('\n')}\n`)
    throw new Errors.ExitError(err.exitCode)
  }
}

function normalize(error: Error & {oclif?: {exit?: number | false}}, id: string): MlprojError {
  if (error instanceof MlprojError) return error
  if (error instanceof Errors.CLIError && error.oclif?.exit === 2) {
    return new UsageError('E_USAGE', usageMessage(error.message), {
      hint: `see: mlproj ${id.replaceAll(':', ' ')} --help`,
    })
  }
  return new InternalError('E_INTERNAL', `internal error: ${error.message}`, {
    hint: 'this is a bug in mlproj; please report it with the command you ran (set DEBUG=1 to print the stack)',
    cause: error,
  })
}

/** oclif's parse errors wrap the reason in boilerplate lines and ANSI codes; keep the reason. */
function usageMessage(message: string): string {
  return message
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map(line => line.trim())
    .filter(
      line => line !== '' && !/^The following errors? occurred:$/.test(line) && line !== 'See more help with --help',
    )
    .join(': ')
    .replace(/^Missing required flag ([\w-]+)/, 'missing required flag --$1')
}
