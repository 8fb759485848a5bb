// The interactive shell of `mlproj query`: statements may span lines and end with a semicolon; .tables, .models,
// .help and .quit; arrow-key history kept across sessions in a file; Ctrl-C cancels the statement being typed or run.
import {appendFileSync, readFileSync} from 'node:fs'
import {createInterface} from 'node:readline'
import {MlprojError} from '../errors.js'
import {listModels} from '../workspace/registry.js'
import type {QuerySession} from './engine.js'
import {renderPreview} from './render.js'
import {isComplete, splitStatements} from './sql.js'

export interface ReplOptions {
  readonly session: QuerySession
  readonly input: NodeJS.ReadableStream
  readonly output: NodeJS.WritableStream
  /** Line editing and history keys: only on a real terminal. */
  readonly terminal: boolean
  /** Where history is kept between sessions; none when undefined. */
  readonly historyFile?: string
  readonly maxRows: number
  readonly width?: () => number | undefined
}

const HELP = `Statements end with ";" and may span lines. Tables: files ('data/x.csv', 'data/*.parquet'), saved tables,
and the workspace's runs, models, model_versions, evaluations. Models are functions:
  SELECT *, predict('penguins@production', p) FROM 'data/penguins.csv' p;
  .tables    tables you can query       .models   registered models and aliases
  .help      this text                  .quit     leave (or Ctrl-D)`

const HISTORY_SIZE = 1000

export async function runRepl(options: ReplOptions): Promise<{statements: number}> {
  const {session, output} = options
  const write = (text: string) => {
    if (text !== '') output.write(text.endsWith('\n') ? text : `${text}\n`)
  }
  const rl = createInterface({
    input: options.input,
    output,
    terminal: options.terminal,
    history: loadHistory(options.historyFile),
    historySize: HISTORY_SIZE,
    prompt: 'mlproj> ',
  })
  let buffer = ''
  let running = false
  let statements = 0
  rl.on('SIGINT', () => {
    if (running) session.interrupt()
    else if (buffer !== '') {
      buffer = ''
      write('(statement cleared)')
      rl.setPrompt('mlproj> ')
      rl.prompt()
    } else {
      write('(.quit or Ctrl-D to leave)')
      rl.prompt()
    }
  })
  write(`mlproj SQL shell${session.hasWorkspace ? '' : ' (no workspace here: files only)'}; .help for help`)
  rl.prompt()
  for await (const line of rl) {
    if (buffer === '' && line.trim().startsWith('.')) {
      const quit = await dotCommand(line.trim(), session, write)
      if (quit) break
    } else if (buffer !== '' || line.trim() !== '') {
      buffer += `${line}\n`
      if (isComplete(buffer)) {
        const sql = buffer
        buffer = ''
        remember(rl, options.historyFile, sql)
        running = true
        statements += await runStatements(session, sql, options, write)
        running = false
      }
    }
    rl.setPrompt(buffer === '' ? 'mlproj> ' : '   ...> ')
    rl.prompt()
  }
  rl.close()
  return {statements}
}

async function runStatements(
  session: QuerySession,
  sql: string,
  options: ReplOptions,
  write: (text: string) => void,
): Promise<number> {
  let done = 0
  for (const statement of splitStatements(sql)) {
    try {
      const prepared = await session.prepare(statement, sql)
      const preview = await session.preview(prepared, options.maxRows)
      write(renderPreview(preview, {width: options.width?.()}))
      done++
    } catch (error) {
      if (!(error instanceof MlprojError)) throw error
      write(`Error: ${error.message}${error.hint ? `\nHint: ${error.hint}` : ''}`)
      break
    }
  }
  return done
}

async function dotCommand(line: string, session: QuerySession, write: (text: string) => void): Promise<boolean> {
  const [command] = line.split(/\s+/)
  switch (command) {
    case '.quit':
    case '.exit':
      return true
    case '.help':
      write(HELP)
      return false
    case '.tables': {
      const tables = await session.tables()
      write(
        tables.length === 0
          ? '(no tables)'
          : tables.map(t => `${t.name.padEnd(20)} ${t.kind.padEnd(9)} ${t.description}`).join('\n'),
      )
      return false
    }
    case '.models': {
      if (!session.hasWorkspace) {
        write('(no workspace: no models)')
        return false
      }
      const models = listModels(session.workspace())
      write(
        models.length === 0
          ? '(no models registered: mlproj train DATA --target COL --save NAME)'
          : models
              .map(m => {
                const aliases = Object.entries(m.aliases).map(([a, v]) => `@${a}=${v}`)
                return `${m.name.padEnd(20)} v${String(m.latestVersion).padEnd(4)} ${m.task.padEnd(15)} ${m.algo ?? ''} ${aliases.join(' ')}`.trimEnd()
              })
              .join('\n'),
      )
      return false
    }
    default:
      write(`unknown command ${command}; .help lists them`)
      return false
  }
}

function loadHistory(file: string | undefined): string[] {
  if (!file) return []
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-HISTORY_SIZE).reverse()
  } catch {
    return []
  }
}

/** A statement typed over several lines is recalled as one line; the history file gets it too. */
function remember(rl: ReturnType<typeof createInterface>, file: string | undefined, sql: string): void {
  const lines = sql.trimEnd().split('\n')
  const entry = lines.map(l => l.trim()).join(' ')
  const history = (rl as unknown as {history?: string[]}).history
  if (history && lines.length > 1) {
    history.splice(0, Math.min(lines.length, history.length), entry)
  }
  if (!file) return
  try {
    appendFileSync(file, `${entry}\n`, {mode: 0o600})
  } catch {
    // History is a convenience: an unwritable file must not stop the shell.
  }
}
