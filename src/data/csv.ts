// CSV dialect detection and structural checks. DuckDB's sniffer silently degrades a malformed file to one
// text column (or drops quoting), so mlproj decides the dialect itself, reads strictly, and on a parse failure
// re-scans the file here to name the line that broke it.
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
    if (ch === '"' && field === '') inQuotes = true
    else if (ch === delimiter) {
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

/** Reads the start of a CSV file and detects its dialect; refuses empty files and duplicate column names. */
export async function sniffCsvFile(path: string): Promise<CsvDialect> {
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
    throw new DataError('E_DATA_EMPTY', `${path} is empty`, {
      hint: 'give a CSV file with a header line and at least one row',
      details: {file: path},
    })
  }
  const dialect = detectDialect(text, complete)
  if (!dialect) {
    throw new DataError('E_DATA_EMPTY', `${path} has no CSV records`, {
      hint: 'give a CSV file with a header line and rows',
    })
  }
  checkDuplicateNames(dialect.names, path)
  return dialect
}

export function checkDuplicateNames(names: readonly string[], where: string): void {
  const seen = new Map<string, number>()
  const duplicates: string[] = []
  names.forEach((name, j) => {
    const first = seen.get(name)
    if (first === undefined) seen.set(name, j)
    else duplicates.push(`"${name}" (columns ${first + 1} and ${j + 1})`)
  })
  if (duplicates.length > 0) {
    throw new DataError('E_DATA_DUPLICATE_COLUMN', `${where} has duplicate column names: ${duplicates.join(', ')}`, {
      hint: 'rename the columns so that every name is unique, then run the command again',
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
 * the line where it opened) or a record whose field count differs from the header's. Used on the error path.
 */
export async function findCsvProblem(path: string, dialect: CsvDialect): Promise<CsvProblem | undefined> {
  const width = dialect.names.length
  let line = 1
  let recordLine = 1
  let quoteLine = 0
  let fields = 1
  let inQuotes = false
  let fieldStart = true
  let prevQuote = false
  let lastWasCR = false
  let sawAny = false
  for await (const chunk of createReadStream(path, {encoding: 'utf8', highWaterMark: 1 << 20})) {
    const text = chunk as string
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!
      if (ch === '\n' && lastWasCR) {
        lastWasCR = false
        continue
      }
      lastWasCR = ch === '\r'
      if (inQuotes) {
        if (prevQuote) {
          prevQuote = false
          if (ch !== '"') {
            inQuotes = false
            // fall through to handle ch as an unquoted character
          } else continue
        } else if (ch === '"') {
          prevQuote = true
          continue
        } else {
          if (ch === '\n' || ch === '\r') line++
          continue
        }
      }
      if (ch === '"' && fieldStart) {
        inQuotes = true
        quoteLine = line
        fieldStart = false
        continue
      }
      if (ch === dialect.delimiter) {
        fields++
        fieldStart = true
        continue
      }
      if (ch === '\n' || ch === '\r') {
        const blank = fields === 1 && fieldStart
        if (!blank && fields !== width) {
          return {line: recordLine, message: `has ${fields} fields where the header has ${width}`}
        }
        line++
        recordLine = line
        fields = 1
        fieldStart = true
        continue
      }
      sawAny = true
      fieldStart = false
    }
  }
  if (inQuotes && !prevQuote) return {line: quoteLine, message: 'opens a quoted field that is never closed'}
  if (!fieldStart || fields > 1) {
    if (fields !== width && sawAny)
      return {line: recordLine, message: `has ${fields} fields where the header has ${width}`}
  }
  return undefined
}
