// Helpers of the predict-batch tests: a workspace with trained models, CSV files written and read back, and a
// generated table large enough for a job to take a few seconds.
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {parse} from 'csv-parse/sync'
import {expect} from 'vitest'
import type {JobRecord} from '../../src/workspace/jobs.js'
import {dataset, mlproj, mlprojJson, tempDir} from '../helpers/cli.js'

export type {JobRecord}

export interface ErrorDoc {
  error: {code: string; message: string; hint?: string; exitCode: number; details?: Record<string, unknown>}
}

/** A temporary workspace with penguins (logistic, species) saved as penguins:1 with alias @production. */
export async function penguinsWorkspace(): Promise<string> {
  const dir = await tempDir('mlproj-batch-')
  expect((await mlproj(['init'], {cwd: dir})).code).toBe(0)
  const train = await mlproj(
    ['train', dataset('penguins.csv'), '--target', 'species', '--save', 'penguins', '--alias', 'production', '--quiet'],
    {cwd: dir},
  )
  expect(train.code, train.stderr).toBe(0)
  return dir
}

/** Runs predict-batch with --json and returns the job document (and the process result). */
export async function predictBatch(args: readonly string[], cwd: string, input?: string) {
  return mlprojJson<JobRecord & ErrorDoc>(['predict-batch', ...args], {cwd, input})
}

export async function readCsv(path: string): Promise<Record<string, string>[]> {
  return parse(await readFile(path, 'utf8'), {columns: true, skip_empty_lines: true}) as Record<string, string>[]
}

export async function csvHeader(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n')[0]!.split(',')
}

/** Writes `header` and `rows` (already-formatted CSV lines) to dir/name. */
export async function writeCsv(dir: string, name: string, header: string, rows: readonly string[]): Promise<string> {
  await mkdir(dir, {recursive: true})
  const path = join(dir, name)
  await writeFile(path, `${[header, ...rows].join('\n')}\n`)
  return path
}

/** The data lines of a CSV file from data/ (header dropped), `from` and `to` 0-based and exclusive. */
export async function datasetLines(name: string, from = 0, to?: number): Promise<{header: string; rows: string[]}> {
  const lines = (await readFile(dataset(name), 'utf8')).trimEnd().split('\n')
  return {header: lines[0]!, rows: lines.slice(1).slice(from, to)}
}

/**
 * A table of `n` rows: id, two numeric features, a categorical one and a binary label drawn from a fixed rule with
 * noise (deterministic), for training a model on a small file and scoring a large one.
 */
export function generatedRows(n: number, offset = 0): {header: string; rows: string[]} {
  const rows: string[] = []
  let state = 12345 + offset
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  }
  const regions = ['north', 'south', 'east', 'west']
  for (let i = 0; i < n; i++) {
    const a = Math.round(random() * 10000) / 100
    const b = Math.round((random() * 2 - 1) * 1000) / 100
    const region = regions[Math.floor(random() * 4)]!
    const label = a / 25 + b + (region === 'north' ? 1 : 0) + (random() - 0.5) * 2 > 2 ? 1 : 0
    rows.push(`${offset + i},${a},${b},${region},${label}`)
  }
  return {header: 'id,a,b,region,label', rows}
}
