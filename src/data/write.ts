// Writing batch outputs: DuckDB's COPY options per format, temporary names beside the destination, fsync, the
// rejects file (rows a model could not score, with where and why), and copying a finished file to stdout.
import {createReadStream, createWriteStream, type WriteStream} from 'node:fs'
import {open, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {stringify} from 'csv-stringify/sync'
import {literal} from './duckdb.js'
import type {DataFormat} from './source.js'
import type {BadRow} from './stream.js'

export const OUTPUT_EXTENSIONS: Readonly<Record<DataFormat, string>> = {csv: 'csv', parquet: 'parquet', jsonl: 'jsonl'}

/** The hidden temporary file a job writes before renaming it to `path`; `tag` (the job id) makes it unique. */
export function tempPathFor(path: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${tag}`)
}

/** DuckDB COPY options for `format`; compression follows the final file name (.gz, .zst), not the temporary one. */
export function copyOptions(format: DataFormat, finalPath: string): string {
  if (format === 'parquet') return 'FORMAT parquet'
  const compression = /\.gz$/i.test(finalPath)
    ? ', COMPRESSION gzip'
    : /\.zst$/i.test(finalPath)
      ? ', COMPRESSION zstd'
      : ''
  if (format === 'jsonl') return `FORMAT json${compression}`
  return `FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"'${compression}`
}

/** `COPY (query) TO 'path' (options)`. */
export function copySql(query: string, path: string, format: DataFormat, finalPath = path): string {
  return `COPY (${query}) TO ${literal(path)} (${copyOptions(format, finalPath)})`
}

/** Flushes a file's data to disk (DuckDB's COPY does not), so a rename cannot publish a file still in the page cache. */
export async function fsyncFile(path: string): Promise<number> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
    return (await handle.stat()).size
  } finally {
    await handle.close()
  }
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size
}

/** Copies a finished file to `out` (stdout), resolving when it has been handed over completely. */
export async function copyToStream(path: string, out: NodeJS.WritableStream): Promise<void> {
  await pipeline(createReadStream(path, {highWaterMark: 1 << 20}), out, {end: false})
}

/** The columns of a rejects file before the input's own. */
export const REJECT_COLUMNS = [
  'input_file',
  'input_row',
  'input_line',
  'reject_column',
  'reject_value',
  'reject_reason',
]

/** Writes rejected rows as CSV: where each came from, why, then its values as read. */
export class RejectsWriter {
  rows = 0
  private readonly out: WriteStream

  constructor(
    readonly path: string,
    columns: readonly string[],
  ) {
    this.out = createWriteStream(path)
    this.out.write(stringify([[...REJECT_COLUMNS, ...columns]]))
  }

  async write(bad: BadRow, file: string): Promise<void> {
    const line = stringify([[file, bad.row, bad.line ?? '', bad.column, bad.value, bad.reason, ...bad.values]])
    this.rows++
    if (!this.out.write(line)) await new Promise<void>(resolve => this.out.once('drain', () => resolve()))
  }

  /** Closes the file and flushes it to disk; returns its size. */
  async close(): Promise<number> {
    await new Promise<void>((resolve, reject) =>
      this.out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    )
    return fsyncFile(this.path)
  }
}
