// Reading a labelled or unlabelled table for a command: open the source, pick and check columns, load
// them and fingerprint the bytes in parallel. Shared by train, evaluate and the prediction commands.
import {type Fingerprint, fingerprint} from '../data/fingerprint.js'
import {type LoadColumn, loadFrame} from '../data/load.js'
import {type DataFormat, type DataSource, openSource, requireColumns} from '../data/source.js'
import {DataError} from '../errors.js'
import type {Frame} from '../ml/frame.js'
import type {DatasetRecord} from '../workspace/runs.js'

export interface TableInput {
  readonly source: DataSource
  readonly frame: Frame
  readonly fingerprint: Fingerprint
}

export interface ReadTableOptions {
  readonly format?: DataFormat
  readonly stdin?: NodeJS.ReadableStream
}

export async function withSource<T>(
  spec: string,
  options: ReadTableOptions,
  use: (source: DataSource) => Promise<T>,
): Promise<T> {
  const source = await openSource(spec, options)
  try {
    return await use(source)
  } finally {
    await source.release()
  }
}

/** Loads `columns` and hashes the files at the same time (DuckDB parses on its own threads). */
export async function loadTable(source: DataSource, columns: readonly LoadColumn[]): Promise<TableInput> {
  const [frame, print] = await Promise.all([loadFrame(source, columns), fingerprint(source.files)])
  if (frame.nRows === 0) {
    throw new DataError('E_DATA_NO_ROWS', `${source.spec} has a header but no rows`, {
      hint: 'add data rows under the header line',
      details: {file: source.spec},
    })
  }
  return {source, frame, fingerprint: print}
}

/** The feature columns: --features as given, else every column but the target and --ignore'd ones. */
export function chooseFeatures(
  source: DataSource,
  target: string | undefined,
  options: {features?: readonly string[]; ignore?: readonly string[]},
  warn: (message: string) => void,
): LoadColumn[] {
  if (options.features && options.features.length > 0) {
    requireColumns(source, options.features, options.features.length === 1 ? 'feature column' : 'feature columns')
    if (target && options.features.includes(target)) {
      throw new DataError('E_DATA_TARGET_AS_FEATURE', `--features lists the target "${target}"`, {
        hint: 'a model cannot learn its target from itself: remove it from --features',
      })
    }
    return options.features.map(name => {
      const column = source.columns.find(c => c.name === name)!
      if (column.kind === 'unsupported') {
        throw new DataError(
          'E_DATA_TYPE',
          `feature column "${name}" has type ${column.type}, which mlproj cannot use`,
          {
            hint: 'features must be numbers, text or booleans: convert the column, or leave it out of --features',
          },
        )
      }
      return {name, kind: column.kind}
    })
  }
  if (options.ignore && options.ignore.length > 0) requireColumns(source, options.ignore, '--ignore column')
  const ignored = new Set(options.ignore ?? [])
  const chosen: LoadColumn[] = []
  for (const column of source.columns) {
    if (column.name === target || ignored.has(column.name)) continue
    if (column.kind === 'unsupported') {
      warn(`column "${column.name}" has type ${column.type}, which mlproj cannot use as a feature: left out`)
      continue
    }
    chosen.push({name: column.name, kind: column.kind})
  }
  if (chosen.length === 0) {
    throw new DataError('E_DATA_NO_FEATURES', `${source.spec} has no usable feature columns besides the target`, {
      hint: 'add feature columns, or check --features / --ignore',
    })
  }
  return chosen
}

export function datasetRecord(input: TableInput, extra: Partial<DatasetRecord> = {}): DatasetRecord {
  return {
    path: input.source.spec,
    files: input.source.files.length === 1 && input.source.spec === 'stdin' ? [] : input.source.files,
    format: input.source.format,
    rows: input.frame.nRows,
    bytes: input.fingerprint.bytes,
    sha256: input.fingerprint.sha256,
    schema: input.source.columns.map(c => ({name: c.name, type: c.type, kind: c.kind})),
    ...extra,
  }
}
