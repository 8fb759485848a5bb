// The target column: which task it implies and how its values become class indices or numbers.
// Class order follows scikit-learn (sorted unique values), so "positive class" means the same thing in both.
import {DataError} from '../errors.js'
import type {Column} from './frame.js'

export type Task = 'classification' | 'regression'
export const TASKS: readonly Task[] = ['classification', 'regression']

/** How class labels look outside mlproj: ONNX emits int64 labels for integer classes, strings otherwise. */
export type LabelType = 'integer' | 'string'

export interface ClassificationTarget {
  readonly task: 'classification'
  readonly name: string
  readonly classes: readonly string[]
  readonly labelType: LabelType
  /** Class index per row, -1 where the target is missing. */
  readonly y: Int32Array
}

export interface RegressionTarget {
  readonly task: 'regression'
  readonly name: string
  /** NaN where the target is missing. */
  readonly y: Float64Array
}

export type Target = ClassificationTarget | RegressionTarget

/** Text or booleans, or a number column with exactly two distinct values → classification; other numbers → regression. */
export function inferTask(column: Column): Task {
  if (column.kind === 'categorical') return 'classification'
  const seen = new Set<number>()
  for (const v of column.values) {
    if (Number.isNaN(v)) continue
    seen.add(v)
    if (seen.size > 2) return 'regression'
  }
  return seen.size === 2 ? 'classification' : 'regression'
}

export function encodeTarget(column: Column, task: Task, where: string): Target {
  if (task === 'regression') {
    if (column.kind === 'categorical') {
      const example = column.levels[0]
      throw new DataError(
        'E_DATA_TARGET_TYPE',
        `target "${column.name}" in ${where} holds text${example === undefined ? '' : ` (e.g. "${example}")`}, so it cannot be a regression target`,
        {hint: 'use --task classification, or pick a numeric target column'},
      )
    }
    return {task, name: column.name, y: column.values}
  }
  if (column.kind === 'numeric') {
    const unique = [...new Set(Array.from(column.values).filter(v => !Number.isNaN(v)))].sort((a, b) => a - b)
    const index = new Map(unique.map((v, i) => [v, i]))
    const y = new Int32Array(column.values.length)
    column.values.forEach((v, i) => {
      y[i] = Number.isNaN(v) ? -1 : index.get(v)!
    })
    const labelType: LabelType = unique.every(Number.isInteger) ? 'integer' : 'string'
    return {task, name: column.name, classes: unique.map(String), labelType, y}
  }
  const classes = [...column.levels].sort()
  const remap = Int32Array.from(column.levels, level => classes.indexOf(level))
  const y = new Int32Array(column.codes.length)
  column.codes.forEach((c, i) => {
    y[i] = c < 0 ? -1 : remap[c]!
  })
  return {task, name: column.name, classes, labelType: 'string', y}
}

/** Rows whose target is present. */
export function labelledRows(target: Target): Int32Array {
  const labelled = (i: number) => {
    const v = target.y[i]!
    return target.task === 'classification' ? v >= 0 : !Number.isNaN(v)
  }
  let n = 0
  for (let i = 0; i < target.y.length; i++) if (labelled(i)) n++
  const rows = new Int32Array(n)
  for (let i = 0, at = 0; i < target.y.length; i++) if (labelled(i)) rows[at++] = i
  return rows
}

export function takeTarget<T extends Target>(target: T, rows: Int32Array): T {
  if (target.task === 'classification') {
    const y = new Int32Array(rows.length)
    for (let i = 0; i < rows.length; i++) y[i] = target.y[rows[i]!]!
    return {...target, y}
  }
  const y = new Float64Array(rows.length)
  for (let i = 0; i < rows.length; i++) y[i] = target.y[rows[i]!]!
  return {...target, y}
}
