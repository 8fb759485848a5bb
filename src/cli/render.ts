// Rendering for humans: aligned tables and compact numbers. Colours only when stdout is a terminal.
import Table from 'cli-table3'

export function table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const tty = process.stdout.isTTY === true
  const t = new Table({
    head: [...head],
    style: {head: tty ? ['cyan'] : [], border: tty ? ['grey'] : [], compact: true},
    chars: {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''},
  })
  for (const row of rows) t.push(row.map(v => (typeof v === 'number' ? formatNumber(v) : v)))
  return t.toString()
}

/** Four significant decimals for metrics; integers as they are. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v)
  if (Math.abs(v) >= 1000) return v.toFixed(1)
  return v
    .toPrecision(4)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '')
}

/** A metrics table with one column per split (test first). */
export function metricsTable(metrics: Record<string, Record<string, number>>): string {
  const splits = Object.keys(metrics).sort((a, b) => (a === 'test' ? -1 : b === 'test' ? 1 : a.localeCompare(b)))
  const names = [...new Set(splits.flatMap(s => Object.keys(metrics[s]!)))]
  return table(
    ['metric', ...splits],
    names.map(n => [n, ...splits.map(s => metrics[s]![n] ?? '')]),
  )
}

/** The most important input columns of a tree model (total split gain, split count). */
export function importanceTable(
  importance: ReadonlyArray<{feature: string; gain: number; splits: number}>,
  limit = 10,
): string {
  const total = importance.reduce((a, f) => a + f.gain, 0) || 1
  const rows = importance
    .slice(0, limit)
    .map(f => [f.feature, `${((100 * f.gain) / total).toFixed(1)}%`, f.gain, f.splits])
  const more = importance.length > limit ? `\n(${importance.length - limit} more in --json)` : ''
  return `${table(['feature', 'share of gain', 'gain', 'splits'], rows)}${more}`
}
