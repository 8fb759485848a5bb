// A query result as a terminal table: the column types under the names, long values shortened, the middle rows of a
// long result left out (first and last rows kept, as DuckDB's shell does), columns that do not fit the terminal
// named in the footer, and the total row count.
import Table from 'cli-table3'
import type {Preview} from './engine.js'

export interface RenderOptions {
  /** Terminal width in characters; undefined: no limit (not a terminal). */
  readonly width?: number
  /** Longest value shown, in characters. */
  readonly maxValue?: number
}

export function renderPreview(preview: Preview, options: RenderOptions = {}): string {
  if (preview.kind === 'nothing') return ''
  if (preview.kind === 'changed') return `${count(preview.rowCount)} changed`
  const maxValue = options.maxValue ?? 40
  const shorten = (text: string) => (text.length > maxValue ? `${text.slice(0, maxValue - 1)}…` : text)
  const show = (v: string | null) => shorten((v ?? 'NULL').replace(/\n/g, '\\n'))
  const head = preview.head.map(r => r.map(show))
  const tail = preview.tail.map(r => r.map(show))
  // Nested types (a STRUCT of every class's probability, say) are shortened like values.
  const types = preview.columns.map(c => shorten(c.type.toLowerCase()))
  const names = preview.columns.map((c, j) => `${c.name}\n${types[j]}`)
  // Each column takes its widest cell plus a border and two spaces of padding.
  const widths = preview.columns.map((c, j) =>
    Math.max(c.name.length, types[j]!.length, ...[...head, ...tail].map(r => r[j]!.length)),
  )
  let shown = widths.length
  if (options.width !== undefined && options.width > 0) {
    let used = 1
    shown = 0
    for (const w of widths) {
      if (used + w + 3 > options.width && shown > 0) break
      used += w + 3
      shown++
    }
  }
  const keep = (row: readonly string[]) => row.slice(0, shown)
  const gap = tail.length > 0 ? [names.slice(0, shown).map(() => '·')] : []
  const body = [...head.map(keep), ...gap, ...tail.map(keep)]
  const tty = process.stdout.isTTY === true
  const grid = new Table({
    head: names.slice(0, shown),
    style: {head: tty ? ['cyan'] : [], border: tty ? ['grey'] : [], compact: true},
  })
  for (const row of body) grid.push(row)
  const lines = [grid.toString()]
  const shownRows = head.length + tail.length
  let footer = count(preview.rowCount)
  if (shownRows < preview.rowCount) footer += ` (${shownRows} shown: the first ${head.length} and last ${tail.length})`
  if (shown < preview.columns.length) {
    const hidden = preview.columns.slice(shown).map(c => c.name)
    footer += `; ${hidden.length} more column${hidden.length > 1 ? 's' : ''} not shown: ${hidden.join(', ')}`
  }
  lines.push(footer)
  return lines.join('\n')
}

function count(n: number): string {
  return `${n.toLocaleString('en-US')} row${n === 1 ? '' : 's'}`
}
