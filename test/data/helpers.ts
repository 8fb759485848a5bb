// Shared by the data-layer tests: real temporary folders, a DuckDB COPY for Parquet / JSON fixtures, and
// shortcuts to open a file and load all of its usable columns.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {expect} from 'vitest'
import {duckdb, literal} from '../../src/data/duckdb.js'
import {type LoadColumn, loadFrame} from '../../src/data/load.js'
import {type DataSource, type OpenOptions, openSource} from '../../src/data/source.js'
import {DataError} from '../../src/errors.js'
import type {Column, Frame} from '../../src/ml/frame.js'

/** The example datasets shipped in the repository (copies of /work/shared/data). */
export const SHARED_DATA = resolve(import.meta.dirname, '..', '..', 'data')

/** A fresh folder under the OS temp dir; `cleanup` removes it. */
export async function tempDir(): Promise<{
  dir: string
  file: (name: string, content: string | Buffer) => Promise<string>
  cleanup: () => Promise<void>
}> {
  const dir = await mkdtemp(join(tmpdir(), 'mlproj-data-test-'))
  return {
    dir,
    file: async (name, content) => {
      const path = join(dir, name)
      await writeFile(path, content)
      return path
    },
    cleanup: () => rm(dir, {recursive: true, force: true}),
  }
}

/** Writes the result of `select` to `path` with DuckDB itself (FORMAT parquet or json). */
export async function copyTo(select: string, path: string, format: 'parquet' | 'json'): Promise<string> {
  const con = await duckdb()
  await con.run(`COPY (${select}) TO ${literal(path)} (FORMAT ${format})`)
  return path
}

/** Every column DuckDB typed as numeric or categorical, with that kind. */
export function usableColumns(source: DataSource): LoadColumn[] {
  return source.columns.flatMap(c => (c.kind === 'unsupported' ? [] : [{name: c.name, kind: c.kind}]))
}

/** Opens `spec`, loads every usable column (or the ones given), releases the source. */
export async function readAll(
  spec: string,
  options: OpenOptions = {},
  columns?: readonly LoadColumn[],
): Promise<{source: DataSource; frame: Frame}> {
  const source = await openSource(spec, options)
  try {
    return {source, frame: await loadFrame(source, columns ?? usableColumns(source))}
  } finally {
    await source.release()
  }
}

export function column(frame: Frame, name: string): Column {
  const found = frame.columns.find(c => c.name === name)
  if (!found) throw new Error(`no column "${name}" in the frame`)
  return found
}

export function numbers(frame: Frame, name: string): number[] {
  const c = column(frame, name)
  if (c.kind !== 'numeric') throw new Error(`column "${name}" is ${c.kind}`)
  return Array.from(c.values)
}

/** The column's values as strings, null for missing. */
export function texts(frame: Frame, name: string): Array<string | null> {
  const c = column(frame, name)
  if (c.kind !== 'categorical') throw new Error(`column "${name}" is ${c.kind}`)
  return Array.from(c.codes, code => (code < 0 ? null : c.levels[code]!))
}

/** Awaits `promise`, expects it to reject with a DataError, and returns that error. */
export async function dataError(promise: Promise<unknown>): Promise<DataError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(DataError)
  const dataErr = error as DataError
  expect(dataErr.exitCode).toBe(3)
  expect(dataErr.hint).toBeTruthy()
  return dataErr
}
