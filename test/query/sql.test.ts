// The SQL scanner: statements, completeness for the shell, predict() calls and positions, on DuckDB's lexical rules.
import {describe, expect, it} from 'vitest'
import {DataError} from '../../src/errors.js'
import {at, findModelCalls, isComplete, position, splitStatements} from '../../src/query/sql.js'

describe('splitStatements', () => {
  it('splits on semicolons and keeps each statement’s offset in the whole text', () => {
    const sql = 'SELECT 1;\n  SELECT 2 ;'
    expect(splitStatements(sql)).toEqual([
      {text: 'SELECT 1', start: 0},
      {text: 'SELECT 2', start: 12},
    ])
  })

  it('does not split on semicolons inside strings, quoted names, dollar quotes or comments', () => {
    const sql = `SELECT ';', "a;b", $$x;y$$, E'\\';' -- c;\n/* d; /* nested; */ */ FROM t; SELECT 2`
    const statements = splitStatements(sql)
    expect(statements).toHaveLength(2)
    expect(statements[0]!.text.endsWith('FROM t')).toBe(true)
    expect(statements[1]).toEqual({text: 'SELECT 2', start: sql.indexOf('SELECT 2')})
  })

  it('leaves out empty statements and comment-only ones', () => {
    expect(splitStatements(' ; -- nothing\n;SELECT 1;;')).toEqual([{text: 'SELECT 1', start: 15}])
    expect(splitStatements('  -- just a comment\n')).toEqual([])
  })
})

describe('isComplete', () => {
  it('wants a semicolon outside strings and comments at the end', () => {
    expect(isComplete('SELECT 1')).toBe(false)
    expect(isComplete('SELECT 1;\n')).toBe(true)
    expect(isComplete("SELECT ';")).toBe(false)
    expect(isComplete('SELECT 1 /* ; */')).toBe(false)
    expect(isComplete('SELECT 1; -- done')).toBe(true)
    expect(isComplete('SELECT 1; SELECT')).toBe(false)
  })
})

describe('findModelCalls', () => {
  it('finds predict and predict_proba calls with their model and the span of their name', () => {
    const text = `SELECT PREDICT('churn@production', t), predict_proba ( 'it''s:2' , {'a': 1}) FROM t`
    const calls = findModelCalls(text)
    expect(calls).toEqual([
      {fn: 'predict', start: 7, end: 14, ref: 'churn@production', refStart: 15},
      {fn: 'predict_proba', start: 39, end: 52, ref: "it's:2", refStart: 55},
    ])
  })

  it('ignores the words in strings, comments, quoted names, column names and method calls', () => {
    const text = `SELECT 'predict(x)', "predict"('a', t), predict, t.predict('m', 1) -- predict('m', t)\nFROM t`
    expect(findModelCalls(text)).toEqual([])
  })

  it('refuses a model given as an expression, pointing at it', () => {
    const text = 'SELECT\n  predict(model_name, t) FROM t'
    expect(() => findModelCalls(text)).toThrow(DataError)
    try {
      findModelCalls(text)
    } catch (error) {
      expect((error as DataError).message).toContain('(line 2, column 11)')
      expect((error as DataError).details).toMatchObject({line: 2, column: 11})
    }
  })

  it('refuses a model string that is only part of an expression', () => {
    expect(() => findModelCalls(`SELECT predict('churn' || '@production', t) FROM t`)).toThrow(/quoted string/)
  })
})

describe('positions', () => {
  it('gives 1-based lines and columns', () => {
    expect(position('ab\ncd', 4)).toEqual({offset: 4, line: 2, column: 2})
  })

  it('draws a caret under the column, cutting long lines around it', () => {
    expect(at('SELECT foo', 7)).toBe(' (line 1, column 8)\n  SELECT foo\n         ^')
    const long = `SELECT ${'x, '.repeat(50)}oops FROM t`
    const shown = at(long, long.indexOf('oops')).split('\n')
    expect(shown[1]!.startsWith('  ...')).toBe(true)
    expect(shown[1]![shown[2]!.indexOf('^')]).toBe('o')
  })
})
