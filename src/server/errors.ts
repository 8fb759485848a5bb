// How the server answers errors: an mlproj error class (or one of fastify's own errors) becomes an HTTP status,
// an MLflow-style `error_code` and a message that names what is wrong; the protocol decides the body's shape.
import {type ErrorOptions, EXIT_CODES, MlprojError} from '../errors.js'

/** A request the server refuses with a specific status (413, 415, 401, 503...). */
export class RequestError extends MlprojError {
  readonly exitCode = EXIT_CODES.data

  constructor(
    readonly httpStatus: number,
    code: string,
    message: string,
    options: ErrorOptions = {},
  ) {
    super(code, message, options)
  }
}

export interface HttpError {
  readonly status: number
  /** MLflow's vocabulary where it has a word for it (BAD_REQUEST, RESOURCE_DOES_NOT_EXIST, ...). */
  readonly errorCode: string
  /** mlproj's stable code (E_DATA_MISSING_COLUMN, ...). */
  readonly code: string
  readonly message: string
  readonly hint?: string
  readonly details?: Record<string, unknown>
}

const ERROR_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  404: 'RESOURCE_DOES_NOT_EXIST',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  500: 'INTERNAL_ERROR',
  503: 'TEMPORARILY_UNAVAILABLE',
}

/** Codes of ModelError that are not "not found": the model could not run, which is the server's fault. */
const SERVER_FAULTS = new Set(['E_MODEL_RUN', 'E_MODEL_LOAD', 'E_WORKER'])

interface FastifyLikeError {
  code?: string
  statusCode?: number
  message: string
  validation?: unknown
}

export interface ErrorContext {
  readonly maxBodyBytes: number
  /** The request is an Open Inference Protocol one (JSON only). */
  readonly v2: boolean
}

export function toHttpError(error: unknown, context: ErrorContext): HttpError {
  if (error instanceof MlprojError) {
    const status = SERVER_FAULTS.has(error.code) ? 500 : error.httpStatus
    return {
      status,
      errorCode: error.code === 'E_REQUEST_JSON' ? 'MALFORMED_REQUEST' : (ERROR_CODES[status] ?? 'BAD_REQUEST'),
      code: error.code,
      message: error.message,
      ...(error.hint ? {hint: error.hint} : {}),
      ...(error.details ? {details: error.details} : {}),
    }
  }
  const e = error as FastifyLikeError
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        errorCode: ERROR_CODES[413]!,
        code: 'E_REQUEST_TOO_LARGE',
        message: `the request body is larger than the limit of ${formatBytes(context.maxBodyBytes)}`,
        hint: 'send fewer rows per request, or start serve with a larger --max-body-mb',
      }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMediaType(context.v2)
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        errorCode: 'MALFORMED_REQUEST',
        code: 'E_REQUEST_JSON',
        message: 'the request body is empty',
        hint: 'send a JSON document such as {"dataframe_records": [{"column": 1.5}]}',
      }
    case 'FST_ERR_VALIDATION':
      return {
        status: 400,
        errorCode: 'BAD_REQUEST',
        code: 'E_REQUEST_SCHEMA',
        message: `the request does not follow the protocol: ${e.message}`,
      }
  }
  const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500
  return {
    status,
    errorCode: ERROR_CODES[status] ?? 'BAD_REQUEST',
    code: status === 500 ? 'E_INTERNAL' : (e.code ?? 'E_REQUEST'),
    message: status === 500 ? `internal error: ${e.message}` : e.message,
  }
}

function unsupportedMediaType(v2: boolean): HttpError {
  return {
    status: 415,
    errorCode: ERROR_CODES[415]!,
    code: 'E_REQUEST_CONTENT_TYPE',
    message: v2
      ? 'unsupported Content-Type: Open Inference Protocol requests are application/json'
      : 'unsupported Content-Type: /invocations reads application/json and text/csv',
    hint: v2
      ? 'send the header "Content-Type: application/json"'
      : 'send the header "Content-Type: application/json" (or text/csv with a header row)',
  }
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MB` : `${n} bytes`
}
