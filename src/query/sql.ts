// A small SQL scanner, just enough to split statements, tell a REPL when a statement is complete, and find the
// predict('model', row) calls to rewrite: it knows DuckDB's strings ('', E'', $$), quoted names and comments, and
// keeps every offset so that errors point into the SQL the user wrote.
import {DataError} from '../errors.js'

export interface Token {
  readonly kind: 'word' | 'string' | 'quoted' | 'punct' | 'other'
  readonly start: number
  readonly end: number
  /** word: the text; string: the value, unescaped; punct: the character. */
  readonly value: string
}

export interface Scan {
  readonly tokens: readonly Token[]
  /** A string, quoted name or comment runs to the end of the text. */
  readonly unterminated: boolean
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/

export function scan(sql: string): Scan {
  const tokens: Token[] = []
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    const start = i
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === '-' && sql[i + 1] === '-') {
      const eol = sql.indexOf('\n', i)
      i = eol < 0 ? n : eol + 1
      continue
    }
    if (c === '/' && sql[i + 1] === '*') {
      let depth = 1
      i += 2
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++
          i += 2
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--
          i += 2
        } else i++
      }
      if (depth > 0) return {tokens, unterminated: true}
      continue
    }
    if (c === "'" || ((c === 'E' || c === 'e') && sql[i + 1] === "'" && !WORD_PART.test(sql[i - 1] ?? ' '))) {
      const escapes = c !== "'"
      i += escapes ? 2 : 1
      let value = ''
      let closed = false
      while (i < n) {
        const d = sql[i]!
        if (escapes && d === '\\' && i + 1 < n) {
          value += sql[i + 1]
          i += 2
        } else if (d === "'" && sql[i + 1] === "'") {
          value += "'"
          i += 2
        } else if (d === "'") {
          i++
          closed = true
          break
        } else {
          value += d
          i++
        }
      }
      if (!closed) return {tokens, unterminated: true}
      tokens.push({kind: 'string', start, end: i, value})
      continue
    }
    if (c === '"') {
      i++
      let value = ''
      let closed = false
      while (i < n) {
        if (sql[i] === '"' && sql[i + 1] === '"') {
          value += '"'
          i += 2
        } else if (sql[i] === '"') {
          i++
          closed = true
          break
        } else value += sql[i++]
      }
      if (!closed) return {tokens, unterminated: true}
      tokens.push({kind: 'quoted', start, end: i, value})
      continue
    }
    if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66))
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length)
        if (close < 0) return {tokens, unterminated: true}
        tokens.push({kind: 'string', start, end: close + tag[0].length, value: sql.slice(i + tag[0].length, close)})
        i = close + tag[0].length
        continue
      }
    }
    if (WORD_START.test(c)) {
      while (i < n && WORD_PART.test(sql[i]!)) i++
      tokens.push({kind: 'word', start, end: i, value: sql.slice(start, i)})
      continue
    }
    if ('(),;.'.includes(c)) {
      tokens.push({kind: 'punct', start, end: i + 1, value: c})
      i++
      continue
    }
    i++
    tokens.push({kind: 'other', start, end: i, value: c})
  }
  return {tokens, unterminated: false}
}

export interface Statement {
  /** The statement's text, without its closing semicolon. */
  readonly text: string
  /** Offset of text in the whole SQL. */
  readonly start: number
}

/** The statements of `sql`, split on semicolons outside strings and comments; empty ones are left out. */
export function splitStatements(sql: string): Statement[] {
  const {tokens} = scan(sql)
  const statements: Statement[] = []
  let first: Token | undefined
  let last: Token | undefined
  const flush = () => {
    if (first && last) statements.push({text: sql.slice(first.start, last.end), start: first.start})
    first = undefined
    last = undefined
  }
  for (const token of tokens) {
    if (token.kind === 'punct' && token.value === ';') {
      flush()
      continue
    }
    first ??= token
    last = token
  }
  if (first) statements.push({text: sql.slice(first.start), start: first.start})
  return statements
}

/** Whether a REPL has a whole statement: the text ends with a semicolon outside strings and comments. */
export function isComplete(sql: string): boolean {
  const {tokens, unterminated} = scan(sql)
  if (unterminated) return false
  const last = tokens.at(-1)
  return last?.kind === 'punct' && last.value === ';'
}

export type ModelFunction = 'predict' | 'predict_proba'

export interface ModelCall {
  readonly fn: ModelFunction
  /** The function name's span in the statement. */
  readonly start: number
  readonly end: number
  /** The model reference, unquoted. */
  readonly ref: string
  readonly refStart: number
}

/**
 * The predict(...) and predict_proba(...) calls in a statement. The model must be a string literal: the query is
 * planned with the model's output type, which must be known before the query runs.
 */
export function findModelCalls(text: string): ModelCall[] {
  const {tokens} = scan(text)
  const calls: ModelCall[] = []
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!
    const fn = token.kind === 'word' ? token.value.toLowerCase() : ''
    if (fn !== 'predict' && fn !== 'predict_proba') continue
    const open = tokens[t + 1]
    const before = tokens[t - 1]
    if (open?.value !== '(' || open.kind !== 'punct' || (before?.kind === 'punct' && before.value === '.')) continue
    const model = tokens[t + 2]
    const comma = tokens[t + 3]
    if (model?.kind !== 'string' || comma?.kind !== 'punct' || comma.value !== ',') {
      throw new DataError(
        'E_DATA_SQL',
        `${fn}() takes the model as a quoted string, then the row: ${fn}('churn@production', t)${at(text, model?.start ?? open.end)}`,
        {
          hint: `write the model reference (NAME, NAME:VERSION, NAME@ALIAS or run:RUN_ID) in single quotes, followed by a table alias or a struct such as {'age': age}`,
          details: {...position(text, model?.start ?? open.end)},
        },
      )
    }
    calls.push({fn, start: token.start, end: token.end, ref: model.value, refStart: model.start})
  }
  return calls
}

export interface Position {
  readonly offset: number
  /** 1-based. */
  readonly line: number
  /** 1-based, in characters. */
  readonly column: number
}

export function position(text: string, offset: number): Position {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  return {offset, line, column: offset - before.lastIndexOf('\n')}
}

/** " at line L, column C:" and the line with a caret under the column, for error messages. */
export function at(text: string, offset: number): string {
  const {line, column} = position(text, offset)
  const source = text.split('\n')[line - 1] ?? ''
  // Long lines are cut around the column so the caret stays on screen.
  const from = Math.max(0, column - 60)
  const shown = `${from > 0 ? '...' : ''}${source.slice(from, from + 100)}${source.length > from + 100 ? '...' : ''}`
  const caret = column - 1 - from + (from > 0 ? 3 : 0)
  return ` (line ${line}, column ${column})\n  ${shown}\n  ${' '.repeat(Math.max(0, caret))}^`
}
