// The process-wide DuckDB connection, loaded lazily (cjs.ts): loading DuckDB costs ~0.15 s, which `--help`,
// `--version` and commands that never read data must not pay.
import type {DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'
import {loadDuckDB} from '../cjs.js'

let connection: Promise<{instance: DuckDBInstance; connection: DuckDBConnection}> | undefined

export async function duckdb(): Promise<DuckDBConnection> {
  connection ??= (async () => {
    const {DuckDBInstance} = loadDuckDB()
    const instance = await DuckDBInstance.create(':memory:')
    return {instance, connection: await instance.connect()}
  })()
  return (await connection).connection
}

/**
 * A connection of its own, for a streamed result: any other statement on a connection ends the stream it has
 * open, and the process-wide connection is shared by whatever runs concurrently. Close it after use.
 */
export async function ownConnection(): Promise<DuckDBConnection> {
  await duckdb()
  return (await connection!).instance.connect()
}

/** Quotes an identifier for DuckDB SQL: column names may hold spaces, quotes and slashes. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Quotes a string literal for DuckDB SQL. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

export function literalList(values: readonly string[]): string {
  return `[${values.map(literal).join(', ')}]`
}

/**
 * Quotes a file path for DuckDB's readers, which expand every path as a glob: `data[1].csv` would read
 * `data1.csv`. Each glob character is escaped as a one-character class (`[[]`, `[*]`, `[?]`).
 */
export function pathLiteral(path: string): string {
  return literal(path.replace(/[*?[]/g, c => `[${c}]`))
}
