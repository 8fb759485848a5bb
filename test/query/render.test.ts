// query's terminal table: types under the names, long values and long types shortened alike, the middle rows of a
// long result left out, and the columns that do not fit the terminal named in the footer.
import {describe, expect, it} from 'vitest'
import type {Preview} from '../../src/query/engine.js'
import {renderPreview} from '../../src/query/render.js'

const struct = `STRUCT(${Array.from({length: 8}, (_, i) => `"probability_class_${i}" DOUBLE`).join(', ')})`

function preview(rows: number): Preview {
  const row = (i: number) => [String(i), `{'probability_class_0': 0.${i}, 'probability_class_1': 0.5, '…': 0}`]
  return {
    kind: 'rows',
    columns: [
      {name: 'id', type: 'INTEGER'},
      {name: 'p', type: struct},
    ],
    head: Array.from({length: Math.min(rows, 2)}, (_, i) => row(i)),
    tail: rows > 4 ? [row(rows - 2), row(rows - 1)] : [],
    rowCount: rows,
  }
}

describe('renderPreview', () => {
  it('shortens a long nested type to the width of a long value, with an ellipsis', () => {
    const text = renderPreview(preview(2), {maxValue: 40})
    expect(text).toContain('struct("probability_class_0" double, "p…')
    expect(text).not.toContain('probability_class_7')
    const widest = Math.max(...text.split('\n').map(l => l.length))
    expect(widest).toBeLessThan(60)
  })

  it('keeps the first and last rows of a long result and says how many there were', () => {
    const text = renderPreview(preview(1000))
    expect(text).toContain('1,000 rows (4 shown: the first 2 and last 2)')
    expect(text).toContain('·')
  })

  it('names the columns a narrow terminal cannot show', () => {
    const text = renderPreview(preview(2), {width: 20})
    expect(text).toContain('1 more column not shown: p')
  })
})
