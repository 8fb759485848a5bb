// The SQL shell, driven through streams as a terminal would drive it: multi-line statements, dot commands, errors
// that do not end the session, and history kept in a file.
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {PassThrough} from 'node:stream'
import {beforeAll, describe, expect, it} from 'vitest'
import {repl} from '../../src/services/query.js'
import {inDir, type QueryWorkspace, queryWorkspace} from './helpers.js'

let ws: QueryWorkspace

beforeAll(async () => {
  ws = await queryWorkspace(['penguins'])
})

async function session(lines: readonly string[], historyFile: string | null = null) {
  const input = new PassThrough()
  const output = new PassThrough()
  const chunks: Buffer[] = []
  output.on('data', (c: Buffer) => chunks.push(c))
  const done = inDir(ws.dir, () =>
    repl({workspace: {explicit: ws.dir}, input, output, terminal: false, historyFile, maxRows: 10}),
  )
  input.end(lines.map(l => `${l}\n`).join(''))
  const result = await done
  return {result, text: Buffer.concat(chunks).toString()}
}

describe('the query shell', () => {
  it('runs a statement typed over several lines once its semicolon arrives', async () => {
    const {result, text} = await session([
      "SELECT predict('penguins', p) AS predicted,",
      '       count(*) AS n',
      "FROM 'data/penguins.csv' p",
      'GROUP BY ALL ORDER BY ALL;',
    ])
    expect(result.statements).toBe(1)
    expect(text).toContain('   ...> ')
    expect(text).toMatch(/Adelie\s+│ 1\d\d/)
    expect(text).toContain('3 rows')
  })

  it('lists tables and models', async () => {
    const {text} = await session(['.tables', '.models'])
    expect(text).toMatch(/runs\s+workspace/)
    expect(text).toMatch(/penguins\s+v1\s+classification\s+logistic @production=1/)
  })

  it('reports an error and keeps going', async () => {
    const {result, text} = await session(['SELECT nope;', 'SELECT 41 + 1 AS answer;'])
    expect(text).toContain('Error: Binder Error: Referenced column "nope"')
    expect(text).toContain('42')
    expect(result.statements).toBe(1)
  })

  it('stops at .quit and ignores what follows', async () => {
    const {result, text} = await session(['.quit', 'SELECT 1;'])
    expect(result.statements).toBe(0)
    expect(text).not.toContain('1 row')
  })

  it('keeps each statement as one history line in the history file', async () => {
    const file = join(ws.dir, 'history')
    await session(['SELECT 1', '  AS one;', 'SELECT 2;'], file)
    expect(await readFile(file, 'utf8')).toBe('SELECT 1 AS one;\nSELECT 2;\n')
  })
})
