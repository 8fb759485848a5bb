// Hyperparameter specs and `--param key=value` parsing. Names are LightGBM's vocabulary in camelCase;
// kebab-case is accepted too. Unknown keys and bad values are usage errors that list what is valid.
import {UsageError} from '../errors.js'

export type ParamValue = number | boolean | string

export interface ParamSpec {
  /** 'string': free text the algorithm parses in fit (e.g. forest's maxFeatures: sqrt, log2 or a fraction). */
  readonly type: 'float' | 'int' | 'bool' | 'enum' | 'string'
  readonly default: ParamValue
  readonly description: string
  readonly min?: number
  readonly max?: number
  /** Whether `min` itself is allowed (false for strictly positive values). */
  readonly minInclusive?: boolean
  readonly values?: readonly string[]
}

export type ParamSpecs = Readonly<Record<string, ParamSpec>>
export type Params = Readonly<Record<string, ParamValue>>

export function camelCase(key: string): string {
  return key.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** Resolves `key=value` strings against the specs: defaults for everything not given. */
export function resolveParams(algo: string, specs: ParamSpecs, assignments: readonly string[]): Params {
  const params: Record<string, ParamValue> = Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, s.default]))
  const valid = () => Object.keys(specs).join(', ')
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=')
    if (eq <= 0) {
      throw new UsageError('E_USAGE_PARAM', `--param "${assignment}" is not of the form key=value`, {
        hint: `e.g. --param ${Object.keys(specs)[0] ?? 'key'}=${String(Object.values(specs)[0]?.default ?? 'value')}; valid keys for ${algo}: ${valid()}`,
      })
    }
    const key = camelCase(assignment.slice(0, eq).trim())
    const raw = assignment.slice(eq + 1).trim()
    const spec = specs[key]
    if (!spec) {
      throw new UsageError('E_USAGE_PARAM', `unknown parameter "${assignment.slice(0, eq)}" for --algo ${algo}`, {
        hint: `valid keys for ${algo}: ${valid()}`,
        details: {param: key, valid: Object.keys(specs)},
      })
    }
    params[key] = parseValue(algo, key, spec, raw)
  }
  return params
}

function parseValue(algo: string, key: string, spec: ParamSpec, raw: string): ParamValue {
  const bad = (expected: string) =>
    new UsageError('E_USAGE_PARAM', `--param ${key}=${raw} is not valid for ${algo}: expected ${expected}`, {
      hint: `${key}: ${spec.description} (default ${String(spec.default)})`,
    })
  if (spec.type === 'bool') {
    if (/^(true|1|yes)$/i.test(raw)) return true
    if (/^(false|0|no)$/i.test(raw)) return false
    throw bad('true or false')
  }
  if (spec.type === 'string') return raw
  if (spec.type === 'enum') {
    if (!spec.values?.includes(raw)) throw bad(`one of ${spec.values?.join(', ')}`)
    return raw
  }
  const value = Number(raw)
  if (raw === '' || !Number.isFinite(value)) throw bad(spec.type === 'int' ? 'an integer' : 'a number')
  if (spec.type === 'int' && !Number.isInteger(value)) throw bad('an integer')
  const inclusive = spec.minInclusive ?? true
  if (spec.min !== undefined && (inclusive ? value < spec.min : value <= spec.min)) {
    throw bad(`a value ${inclusive ? '>=' : '>'} ${spec.min}`)
  }
  if (spec.max !== undefined && value > spec.max) throw bad(`a value <= ${spec.max}`)
  return value
}

export function num(params: Params, key: string): number {
  return params[key] as number
}

export function bool(params: Params, key: string): boolean {
  return params[key] as boolean
}
