// Error classes and the one exit-code table. The class of an error decides the exit code (and, for the
// server, the HTTP status); every user-fixable error carries a stable code and a hint saying what to do next.

export const EXIT_CODES = {
  ok: 0,
  bug: 1,
  usage: 2,
  data: 3,
  model: 4,
  environment: 5,
  gate: 6,
} as const

/** The exit-code table as printed in the README and `mlproj --help`. */
export const EXIT_CODE_TABLE: ReadonlyArray<{code: number; meaning: string}> = [
  {code: 0, meaning: 'success'},
  {code: 1, meaning: 'internal error (a bug in mlproj: please report it)'},
  {code: 2, meaning: 'usage error: unknown flag, bad flag value, unknown --algo or --param, a --save-as name taken'},
  {
    code: 3,
    meaning:
      'bad data or input: missing/empty/malformed file, missing column, unusable target, a row predict-batch cannot score, a SQL error',
  },
  {
    code: 4,
    meaning:
      'model problem: model or run not found, signature mismatch (input lacks a column the model needs), unreadable ONNX',
  },
  {
    code: 5,
    meaning: 'environment: workspace not found or not writable, locked (another predict-batch job), port in use',
  },
  {code: 6, meaning: 'a quality gate failed (evaluate --fail-if)'},
]

export interface ErrorOptions {
  /** What the user can do about it. */
  hint?: string
  /** Structured facts for `--json` consumers (file, line, column, ...). */
  details?: Record<string, unknown>
  cause?: unknown
}

export abstract class MlprojError extends Error {
  abstract readonly exitCode: number
  abstract readonly httpStatus: number
  readonly code: string
  readonly hint?: string
  readonly details?: Record<string, unknown>

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.code = code
    this.hint = options.hint
    this.details = options.details
  }

  /** oclif reads `oclif.exit` outside `--json` mode and `exitCode` inside it. */
  get oclif(): {exit: number} {
    return {exit: this.exitCode}
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? {hint: this.hint} : {}),
      ...(this.details ? {details: this.details} : {}),
      exitCode: this.exitCode,
    }
  }
}

/** Bad flags or arguments: the command line itself is wrong. */
export class UsageError extends MlprojError {
  readonly exitCode = EXIT_CODES.usage
  readonly httpStatus = 400
}

/** The data given cannot be used: missing file, malformed CSV, absent column, unusable target. */
export class DataError extends MlprojError {
  readonly exitCode = EXIT_CODES.data
  readonly httpStatus = 400
}

/** The model cannot be found, loaded or fed: unknown reference, signature mismatch, bad ONNX. */
export class ModelError extends MlprojError {
  readonly exitCode = EXIT_CODES.model
  readonly httpStatus = 404
}

/** The machine is in the way: workspace missing or read-only, lock held, port in use. */
export class EnvironmentError extends MlprojError {
  readonly exitCode = EXIT_CODES.environment
  readonly httpStatus = 503
}

/** A quality gate (`evaluate --fail-if`) did not hold. */
export class GateError extends MlprojError {
  readonly exitCode = EXIT_CODES.gate
  readonly httpStatus = 422
}

/** Node's errno codes that mean "the environment refused", not "mlproj has a bug". */
export function isEnvironmentErrno(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOSPC' || code === 'EDQUOT'
}
