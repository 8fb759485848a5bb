// predict() and predict_proba() in SQL. DuckDB fixes a scalar function's return type when it is registered, and a
// model's output type (BIGINT or VARCHAR labels, DOUBLE values, a probability or a MAP of them) is only known once the
// model is resolved. So the models a statement names are resolved before it runs, and each call is rewritten to the
// registered function of its model's output type; that function finds the model by its reference at run time.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {DuckDBConnection, DuckDBDataChunk, DuckDBStructVector, DuckDBType, DuckDBVector} from '@duckdb/node-api'
import {loadDuckDB} from '../cjs.js'
import {DataError, MlprojError, ModelError} from '../errors.js'
import {predictionColumns} from '../runtime/outputs.js'
import type {ModelOutput} from '../runtime/predictor.js'
import {isValid, SyncPredictor, validityWords} from '../runtime/udf.js'
import {type ResolvedModel, resolveModel} from '../workspace/registry.js'
import type {Workspace} from '../workspace/workspace.js'
import {at, findModelCalls, type ModelCall, type Statement} from './sql.js'

type Output = 'label_varchar' | 'label_bigint' | 'value' | 'probability' | 'probabilities'

/** The registered function for each output type; these names show in EXPLAIN and in saved view definitions. */
const FUNCTION_NAMES: Record<Output, string> = {
  label_varchar: 'mlproj_predict_varchar',
  label_bigint: 'mlproj_predict_bigint',
  value: 'mlproj_predict_double',
  probability: 'mlproj_predict_proba_double',
  probabilities: 'mlproj_predict_proba_map',
}

export interface LoadedModel {
  readonly ref: string
  /** NAME:VERSION, or run:RUN_ID for a run's model: what messages and results call it. */
  readonly label: string
  readonly resolved: ResolvedModel
  readonly predictor: SyncPredictor
}

/** A statement with its model calls rewritten, and the way back from offsets in it to offsets in the user's SQL. */
export interface Rewritten {
  readonly text: string
  readonly models: readonly LoadedModel[]
  /** The function each macro (predict, predict_proba) must stand for while the statement runs. */
  readonly macros: Readonly<Partial<Record<'predict' | 'predict_proba', string>>>
  /** Offset in `text` → offset in the whole SQL the user wrote. */
  toOriginal(offset: number): number
}

/**
 * The models of one query session: references are resolved when a statement names them (so an alias is read once
 * per statement, and moves between statements are seen) and ONNX sessions are cached per artifact for the session.
 */
export class ModelScope {
  private readonly byRef = new Map<string, LoadedModel>()
  private readonly sessions = new Map<string, SyncPredictor>()
  /** The first error a prediction raised in the running statement; DuckDB only carries its text. */
  private pending: unknown

  constructor(private readonly workspace: () => Workspace) {}

  get(ref: string): LoadedModel | undefined {
    return this.byRef.get(ref)
  }

  fail(error: unknown): void {
    this.pending ??= error
  }

  /** The error a prediction raised since the last call, if any. */
  takeError(): unknown {
    const error = this.pending
    this.pending = undefined
    return error
  }

  /** Resolves the models `statement` names and rewrites its calls; `sql` is the whole text, for messages. */
  async rewrite(statement: Statement, sql: string): Promise<Rewritten> {
    let calls: ModelCall[]
    try {
      calls = findModelCalls(statement.text)
    } catch (error) {
      throw shiftError(error, statement, sql)
    }
    // Each distinct reference is resolved once per statement.
    const models: LoadedModel[] = []
    for (const call of calls) {
      if (models.some(m => m.ref === call.ref)) continue
      try {
        models.push(await this.load(call.ref))
      } catch (error) {
        if (error instanceof MlprojError) throw withPlace(error, sql, statement.start + call.refStart)
        throw error
      }
    }
    // predict and predict_proba are temporary macros standing for the function of the statement's most common output
    // type, so that positions and the names DuckDB gives unnamed columns stay as written; calls of another type
    // (a statement mixing, say, a classifier and a regressor) are renamed in the text.
    const outputs = calls.map(call => outputOf(this.byRef.get(call.ref)!, call, sql, statement))
    const macros: Partial<Record<ModelCall['fn'], string>> = {}
    for (const fn of ['predict', 'predict_proba'] as const) {
      const counts = new Map<Output, number>()
      calls.forEach((call, i) => {
        if (call.fn === fn) counts.set(outputs[i]!, (counts.get(outputs[i]!) ?? 0) + 1)
      })
      const common = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0]
      if (common) macros[fn] = FUNCTION_NAMES[common]
    }
    let text = ''
    let from = 0
    const edits: Array<{at: number; original: number; length: number; delta: number}> = []
    calls.forEach((call, i) => {
      const name = FUNCTION_NAMES[outputs[i]!]
      if (name === macros[call.fn]) return
      text += statement.text.slice(from, call.start)
      edits.push({
        at: text.length,
        original: call.start,
        length: name.length,
        delta: name.length - (call.end - call.start),
      })
      text += name
      from = call.end
    })
    text += statement.text.slice(from)
    return {
      text,
      models,
      macros,
      toOriginal(offset: number): number {
        let shift = 0
        for (const edit of edits) {
          if (offset < edit.at) break
          if (offset < edit.at + edit.length) return statement.start + edit.original
          shift += edit.delta
        }
        return statement.start + offset - shift
      },
    }
  }

  private async load(ref: string): Promise<LoadedModel> {
    const ws = this.workspace()
    const resolved = resolveModel(ws, ref)
    const dir = join(ws.dir, resolved.artifactDir)
    let predictor = this.sessions.get(dir)
    if (!predictor) {
      predictor = await SyncPredictor.load(readFileSync(join(dir, 'model.onnx')), resolved.signature, ref)
      this.sessions.set(dir, predictor)
    }
    const label = resolved.name ? `${resolved.name}:${resolved.version}` : `run:${resolved.runId}`
    const model = {ref, label, resolved, predictor}
    this.byRef.set(ref, model)
    return model
  }
}

function outputOf(model: LoadedModel, call: ModelCall, sql: string, statement: Statement): Output {
  const {signature} = model.resolved
  if (call.fn === 'predict') {
    if (signature.task === 'regression') return 'value'
    return signature.labelType === 'integer' ? 'label_bigint' : 'label_varchar'
  }
  const where = at(sql, statement.start + call.start)
  if (signature.task === 'regression') {
    throw new ModelError(
      'E_MODEL_TASK',
      `predict_proba('${call.ref}', ...): model ${model.label} is a regression model, which has no probabilities${where}`,
      {hint: `use predict('${call.ref}', ...) for its predicted value`},
    )
  }
  const classes = signature.classes ?? []
  if (!signature.outputs.probabilities || classes.length < 2) {
    throw new ModelError(
      'E_MODEL_TASK',
      `predict_proba('${call.ref}', ...): model ${model.label} outputs labels but no class probabilities${where}`,
      {hint: `use predict('${call.ref}', ...), or export the model with a probability output (skl2onnx: zipmap=False)`},
    )
  }
  return classes.length === 2 ? 'probability' : 'probabilities'
}

function withPlace(error: MlprojError, sql: string, offset: number): MlprojError {
  const place = at(sql, offset)
  const Class = error.constructor as new (code: string, message: string, options: object) => MlprojError
  return new Class(error.code, `${error.message}${place}`, {
    hint: error.hint,
    details: {...error.details, ...positionDetails(sql, offset)},
    cause: error,
  })
}

function positionDetails(sql: string, offset: number): Record<string, number> {
  const before = sql.slice(0, offset)
  return {offset, line: before.split('\n').length, column: offset - before.lastIndexOf('\n')}
}

/** findModelCalls reports offsets in its statement; move them into the whole SQL. */
function shiftError(error: unknown, statement: Statement, sql: string): unknown {
  if (!(error instanceof DataError) || typeof error.details?.offset !== 'number') return error
  const offset = statement.start + error.details.offset
  const message = error.message.replace(/ \(line \d+, column \d+\)\n[\s\S]*$/, '')
  return new DataError(error.code, `${message}${at(sql, offset)}`, {
    hint: error.hint,
    details: positionDetails(sql, offset),
  })
}

const registered = new WeakSet<DuckDBConnection>()
let current: ModelScope | undefined

/** Makes `scope` the one whose models the SQL functions use (statements run one at a time on the connection). */
export function activate(scope: ModelScope): void {
  current = scope
}

/** Registers the prediction functions on the connection, once. */
export async function registerFunctions(con: DuckDBConnection): Promise<void> {
  if (registered.has(con)) return
  const duckdb = loadDuckDB()
  const {DuckDBScalarFunction, ANY, VARCHAR, BIGINT, DOUBLE, MAP, mapValue} = duckdb
  const types: Record<Output, DuckDBType> = {
    label_varchar: VARCHAR,
    label_bigint: BIGINT,
    value: DOUBLE,
    probability: DOUBLE,
    probabilities: MAP(VARCHAR, DOUBLE),
  }
  for (const output of Object.keys(FUNCTION_NAMES) as Output[]) {
    con.registerScalarFunction(
      DuckDBScalarFunction.create({
        name: FUNCTION_NAMES[output],
        returnType: types[output],
        parameterTypes: [VARCHAR, ANY],
        mainFunction: (info, input, out) => {
          const scope = current
          try {
            if (!scope) throw new Error('no model scope is active')
            predictChunk(scope, output, input, out, mapValue)
          } catch (error) {
            scope?.fail(error)
            info.setError(error instanceof Error ? error.message : String(error))
          }
        },
      }),
    )
  }
  registered.add(con)
}

type MapValue = (entries: Array<{key: string; value: number}>) => unknown

function predictChunk(
  scope: ModelScope,
  output: Output,
  input: DuckDBDataChunk,
  out: DuckDBVector,
  mapValue: MapValue,
): void {
  const n = input.rowCount
  if (n === 0) return
  const ref = input.getColumnVector(0).getItem(0) as string | null
  const model = ref === null ? undefined : scope.get(ref)
  if (!model) throw new Error(`model ${ref} was not resolved before the statement ran`)
  const rows = input.getColumnVector(1)
  if (typeof (rows as Partial<DuckDBStructVector>).entryVectorAt !== 'function') {
    const fn = output.startsWith('prob') ? 'predict_proba' : 'predict'
    throw new DataError(
      'E_DATA_SQL',
      `${fn}('${ref}', ...) needs a row or a struct of named columns as its second argument, not a ${String(rows.type)}`,
      {
        hint: `pass a table alias (FROM 'data.csv' t ... ${fn}('${ref}', t)) or a struct such as {'age': age, 'plan': plan}`,
      },
    )
  }
  const struct = rows as DuckDBStructVector
  const output_ = model.predictor.predict(model.predictor.frameFromStruct(struct, n, model.label))
  writeOutput(output, output_, model, struct, n, out, mapValue)
  out.flush()
}

function writeOutput(
  output: Output,
  result: ModelOutput,
  model: LoadedModel,
  rows: DuckDBStructVector,
  n: number,
  out: DuckDBVector,
  mapValue: MapValue,
): void {
  const set = out.setItem.bind(out) as (i: number, value: unknown) => void
  const classes = model.resolved.signature.classes ?? []
  const k = classes.length
  const positive = predictionColumns(model.resolved.signature).find(c => c.kind === 'probability')
  const empty = emptyRows(rows, n)
  for (let i = 0; i < n; i++) {
    if (empty(i)) {
      set(i, null)
      continue
    }
    switch (output) {
      case 'value':
        set(i, result.values![i]!)
        break
      case 'label_varchar':
        set(i, result.labels![i]!)
        break
      case 'label_bigint':
        set(i, BigInt(result.labels![i]!))
        break
      case 'probability':
        set(i, result.probabilities![i * k + (positive?.kind === 'probability' ? positive.classIndex : 1)]!)
        break
      case 'probabilities': {
        const entries: Array<{key: string; value: number}> = []
        for (let c = 0; c < k; c++) entries.push({key: classes[c]!, value: result.probabilities![i * k + c]!})
        set(i, mapValue(entries))
        break
      }
    }
  }
}

/**
 * Rows that predict NULL, as SQL functions of NULL do: a NULL struct, or one whose fields are all NULL, which is how
 * DuckDB passes the row of the missing side of an outer join (`t` of `LEFT JOIN ... t` with no match).
 */
function emptyRows(rows: DuckDBStructVector, n: number): (i: number) => boolean {
  const own = validityWords(rows)
  const fields = rows.type.entryNames.map((_, k) => validityWords(rows.entryVectorAt(k)))
  if (own === undefined || fields.some(f => f === undefined)) {
    return i => !rows.isItemValid(i) || rows.type.entryNames.every((_, k) => rows.entryVectorAt(k).getItem(i) === null)
  }
  // Bit i of `any` is set when some field of row i is not NULL; a field without a validity mask is never NULL.
  const words = Math.ceil(n / 32)
  const any = new Uint32Array(words)
  if (fields.some(f => f === null)) any.fill(0xffffffff)
  else for (const f of fields) for (let w = 0; w < words; w++) any[w]! |= f![w]!
  return i => !isValid(own, i) || !isValid(any, i)
}
