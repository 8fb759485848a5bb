// CSV dialect detection and structural checks. DuckDB's sniffer silently degrades a malformed file to one
// text column (or drops quoting, or takes a later row as the header), so mlproj decides the dialect itself,
// reads strictly, and on a parse failure re-scans the file here to name the line that broke it.
import {createReadStream} from 'node:fs'
import {open} from 'node:fs/promises'
import {DataError} from '../errors.js'

export interface CsvDialect {
  readonly delimiter: string
  readonly quote: '"'
  readonly header: boolean
  /** Column names from the header line (or column0.. when there is none). */
  readonly names: readonly string[]
}

const DELIMITERS = [',', '\t', ';', '|'] as const
const SAMPLE_BYTES = 256 * 1024
const SAMPLE_RECORDS = 200

/** Splits `text` into records of fields (RFC 4180 quoting). Stops after `maxRecords`; a trailing partial record is dropped when `partial`. */
export function parseRecords(text: string, delimiter: string, maxRecords: number, partial: boolean): string[][] {
  const records: string[][] = []
  let fields: string[] = []
  let field = ''
  let inQuotes = false
  let i = 0
  while (i < text.length && records.length < maxRecords) {
    const ch = text[i]!
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i += 2
          continue
        }
        inQuotes = false
      } else field += ch
      i++
      continue
    }
    if (ch === '"' && field.trim() === '') {
      // DuckDB allows spaces before an opening quote.
      field = ''
      inQuotes = true
    } else if (ch === delimiter) {
      fields.push(field)
      field = ''
    } else if (ch === '\n' || ch === '\r') {
      fields.push(field)
      records.push(fields)
      fields = []
      field = ''
      if (ch === '\r' && text[i + 1] === '\n') i++
    } else field += ch
    i++
  }
  if (!partial && records.length < maxRecords && (field !== '' || fields.length > 0)) {
    fields.push(field)
    records.push(fields)
  }
  return records
}

function looksNumeric(s: string): boolean {
  const t = s.trim()
  return t !== '' && Number.isFinite(Number(t))
}

/**
 * Picks the delimiter whose records have the most fields with a consistent count, and decides whether the
 * first record is a header: it is, unless every field of it looks like a value of a numeric column.
 */
export function detectDialect(sample: string, complete: boolean): CsvDialect | undefined {
  let best: {delimiter: string; records: string[][]; score: number} | undefined
  for (const delimiter of DELIMITERS) {
    const records = parseRecords(sample, delimiter, SAMPLE_RECORDS, !complete).filter(r => r.length > 1 || r[0] !== '')
    if (records.length === 0) continue
    const width = records[0]!.length
    if (width < 2) continue
    const consistent = records.filter(r => r.length === width).length / records.length
    const score = width * consistent
    if (!best || score > best.score) best = {delimiter, records, score}
  }
  if (!best) {
    const records = parseRecords(sample, ',', 2, !complete)
    if (records.length === 0) return undefined
    best = {delimiter: ',', records, score: 1}
  }
  const first = best.records[0]!
  const rest = best.records.slice(1)
  const numericColumns = first.map(
    (_, j) => rest.length > 0 && rest.every(r => r[j] === undefined || r[j] === '' || looksNumeric(r[j]!)),
  )
  const header = !(first.every((v, j) => looksNumeric(v) && numericColumns[j]) && rest.length > 0)
  const names = header ? first.map(n => n.trim()) : first.map((_, j) => `column${j}`)
  return {delimiter: best.delimiter, quote: '"', header, names}
}

/**
 * Reads the start of a CSV file and detects its dialect; refuses empty files and duplicate column names.
 * `label` names the file in messages (`stdin` for data piped in).
 */
export async function sniffCsvFile(path: string, label = path): Promise<CsvDialect> {
  const handle = await open(path, 'r')
  let text: string
  let complete: boolean
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES)
    const {bytesRead} = await handle.read(buffer, 0, SAMPLE_BYTES, 0)
    complete = bytesRead < SAMPLE_BYTES
    text = buffer
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
  } finally {
    await handle.close()
  }
  if (text.trim() === '') {
    throw new DataError('E_DATA_EMPTY', `${label} is empty`, {
      hint: 'give a CSV file with a header line and at least one row',
      details: {file: label},
    })
  }
  const dialect = detectDialect(text, complete)
  if (!dialect) {
    throw new DataError('E_DATA_EMPTY', `${label} has no CSV records`, {
      hint: 'give a CSV file with a header line and rows',
      details: {file: label},
    })
  }
  checkDuplicateNames(dialect.names, label)
  return dialect
}

/**
 * Refuses repeated column names. DuckDB compares names without case and silently renames the second of
 * `a,a` (or `A,a`) to `a_1`, so a model would quietly train on a column the user never named.
 */
export function checkDuplicateNames(names: readonly string[], where: string): void {
  const seen = new Map<string, number>()
  const duplicates: string[] = []
  let caseOnly = false
  names.forEach((name, j) => {
    const first = seen.get(name.toLowerCase())
    if (first === undefined) {
      seen.set(name.toLowerCase(), j)
      return
    }
    const firstName = names[first]!
    caseOnly ||= firstName !== name
    duplicates.push(
      `${firstName === name ? `"${name}"` : `"${firstName}" and "${name}"`} (columns ${first + 1} and ${j + 1})`,
    )
  })
  if (duplicates.length > 0) {
    throw new DataError('E_DATA_DUPLICATE_COLUMN', `${where} has duplicate column names: ${duplicates.join(', ')}`, {
      hint: `rename the columns so that every name is unique${caseOnly ? ' (names that differ only in case count as the same)' : ''}, then run the command again`,
      details: {file: where, duplicates},
    })
  }
}

export interface CsvProblem {
  line: number
  message: string
}

/**
 * Streams the file and returns the first structural problem: a quoted field that never closes (reported at
 * the line where it opened), text after a closing quote, or a record whose field count differs from the
 * header's. Used on the error path, after DuckDB refused the file.
 */
export async function findCsvProblem(path: string, dialect: CsvDialect): Promise<CsvProblem | undefined> {
  return scanCsv(path, dialect, () => false)
}

/**
 * The line on which data row `row` (1-based, header not counted) starts. Differs from row + 1 when quoted
 * fields span lines or blank lines are skipped. Undefined when the file has fewer rows or is malformed before it.
 */
export async function csvRowLine(path: string, dialect: CsvDialect, row: number): Promise<number | undefined> {
  const target = dialect.header ? row + 1 : row
  let records = 0
  let found: number | undefined
  await scanCsv(path, dialect, line => {
    records++
    if (records !== target) return false
    found = line
    return true
  })
  return found
}

// States of scanCsv.
const FIELD_START = 0
const UNQUOTED = 1
const QUOTED = 2
const QUOTE_IN_QUOTED = 3
const AFTER_QUOTE = 4

/**
 * Walks the file record by record the way DuckDB's strict reader does (RFC 4180 quotes with "" escapes, blank
 * lines skipped, spaces allowed around a quoted field) and calls `visit` with the line each record starts on;
 * `visit` returns true to stop. Returns the first structural problem, if any comes before the stop.
 */
async function scanCsv(
  path: string,
  dialect: CsvDialect,
  visit: (line: number) => boolean,
): Promise<CsvProblem | undefined> {
  const width = dialect.names.length
  const delimiter = dialect.delimiter
  let state = FIELD_START
  let line = 1
  let recordLine = 1
  let quoteLine = 1
  let fields = 1
  let blank = true
  let lastWasCR = false
  let first = true
  const endRecord = (): CsvProblem | 'stop' | undefined => {
    if (blank) return undefined
    if (fields !== width) return {line: recordLine, message: `has ${fields} fields where the header has ${width}`}
    return visit(recordLine) ? 'stop' : undefined
  }
  for await (const chunk of createReadStream(path, {encoding: 'utf8', highWaterMark: 1 << 20})) {
    const text = chunk as string
    let i = 0
    if (first) {
      first = false
      if (text.charCodeAt(0) === 0xfeff) i = 1
    }
    for (; i < text.length; i++) {
      const ch = text[i]!
      if (ch === '\n' && lastWasCR) {
        lastWasCR = false
        continue
      }
      lastWasCR = ch === '\r'
      const newline = ch === '\n' || ch === '\r'
      if (state === QUOTED) {
        if (ch === '"') state = QUOTE_IN_QUOTED
        else if (newline) line++
        continue
      }
      if (state === QUOTE_IN_QUOTED) {
        if (ch === '"') {
          state = QUOTED
          continue
        }
        state = AFTER_QUOTE
      }
      if (ch === delimiter) {
        fields++
        blank = false
        state = FIELD_START
      } else if (newline) {
        const end = endRecord()
        if (end === 'stop') return undefined
        if (end) return end
        line++
        recordLine = line
        fields = 1
        blank = true
        state = FIELD_START
      } else if (state === AFTER_QUOTE) {
        if (ch !== ' ' && ch !== '\t') return {line, message: 'has text after the closing quote of a field'}
      } else if (state === FIELD_START) {
        blank = false
        if (ch === '"') {
          state = QUOTED
          quoteLine = line
        } else if (ch !== ' ' && ch !== '\t') state = UNQUOTED
      }
    }
  }
  if (state === QUOTED) return {line: quoteLine, message: 'opens a quoted field that is never closed'}
  const end = endRecord()
  return end === 'stop' ? undefined : end
}
