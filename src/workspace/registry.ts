// The model registry: named models, numbered versions and movable aliases (@production), as MLflow 2.9+
// and BigQuery do. Registering a version and moving its aliases is one transaction.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {ModelError, UsageError} from '../errors.js'
import type {Signature} from '../onnx/signature.js'
import {getRun, now} from './runs.js'
import type {Workspace} from './workspace.js'

export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
export const ALIAS_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

export interface ModelVersion {
  readonly name: string
  readonly version: number
  readonly runId: string | null
  readonly source: 'run' | 'import'
  /** Folder of model.onnx and signature.json, relative to `.mlproj`. */
  readonly artifactDir: string
  readonly sha256: string
  readonly task: string
  readonly algo: string | null
  readonly createdAt: string
  readonly aliases: readonly string[]
  readonly signature: Signature
}

export interface ModelSummary {
  readonly name: string
  readonly latestVersion: number
  readonly versions: number
  readonly aliases: Record<string, number>
  readonly task: string
  readonly algo: string | null
  readonly createdAt: string
  readonly updatedAt: string
}

/** What a model reference resolves to: the exact artifact any command will run. */
export interface ResolvedModel {
  readonly ref: string
  readonly name: string | null
  readonly version: number | null
  readonly runId: string | null
  readonly artifactDir: string
  readonly signature: Signature
  readonly algo: string | null
  readonly task: string
}

export function checkModelName(name: string): void {
  if (!MODEL_NAME_PATTERN.test(name)) {
    throw new UsageError('E_USAGE_MODEL_NAME', `"${name}" is not a valid model name`, {
      hint: 'use letters, digits, ".", "_" and "-", starting with a letter or digit (e.g. churn, iris-v2)',
    })
  }
}

export function checkAlias(alias: string): void {
  if (!ALIAS_PATTERN.test(alias) || alias === 'latest') {
    throw new UsageError('E_USAGE_ALIAS', `"${alias}" is not a valid alias`, {
      hint: 'aliases start with a letter and use letters, digits, "_" and "-" (e.g. production, candidate); "latest" is reserved',
    })
  }
}

export interface RegisterVersion {
  readonly name: string
  readonly runId: string | null
  readonly source: 'run' | 'import'
  readonly artifactDir: string
  readonly sha256: string
  readonly signature: Signature
  readonly algo: string | null
  readonly aliases: readonly string[]
}

export function registerVersion(ws: Workspace, options: RegisterVersion): ModelVersion {
  checkModelName(options.name)
  for (const alias of options.aliases) checkAlias(alias)
  const version = ws.db
    .transaction(() => {
      const at = now()
      let model = ws.db.prepare('SELECT id FROM models WHERE name = ?').get(options.name) as {id: number} | undefined
      if (!model) {
        const id = ws.db
          .prepare('INSERT INTO models (name, created_at, updated_at) VALUES (?, ?, ?)')
          .run(options.name, at, at).lastInsertRowid
        model = {id: Number(id)}
      } else ws.db.prepare('UPDATE models SET updated_at = ? WHERE id = ?').run(at, model.id)
      const {next} = ws.db
        .prepare('SELECT coalesce(max(version), 0) + 1 AS next FROM model_versions WHERE model_id = ?')
        .get(model.id) as {
        next: number
      }
      ws.db
        .prepare(
          `INSERT INTO model_versions (model_id, version, run_id, source, artifact_dir, model_sha256, signature, task, algo, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          model.id,
          next,
          options.runId,
          options.source,
          options.artifactDir,
          options.sha256,
          JSON.stringify(options.signature),
          options.signature.task,
          options.algo,
          at,
        )
      const setAlias = ws.db.prepare(
        `INSERT INTO aliases (model_id, alias, version, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
      )
      for (const alias of options.aliases) setAlias.run(model.id, alias, next, at)
      return next
    })
    .immediate()
  return getVersion(ws, options.name, version)
}

/** A model_versions row with its model's name, as VERSION_SELECT reads it. */
export interface VersionRow {
  name: string
  model_id: number
  version: number
  run_id: string | null
  source: 'run' | 'import'
  artifact_dir: string
  model_sha256: string
  signature: string
  task: string
  algo: string | null
  created_at: string
}

export const VERSION_SELECT = `SELECT m.name, v.* FROM model_versions v JOIN models m ON m.id = v.model_id`

function toVersion(ws: Workspace, row: VersionRow): ModelVersion {
  const aliases = (
    ws.db
      .prepare('SELECT alias FROM aliases WHERE model_id = ? AND version = ? ORDER BY alias')
      .all(row.model_id, row.version) as Array<{
      alias: string
    }>
  ).map(a => a.alias)
  return {
    name: row.name,
    version: row.version,
    runId: row.run_id,
    source: row.source,
    artifactDir: row.artifact_dir,
    sha256: row.model_sha256,
    task: row.task,
    algo: row.algo,
    createdAt: row.created_at,
    aliases,
    signature: JSON.parse(row.signature) as Signature,
  }
}

function modelNotFound(ws: Workspace, name: string): ModelError {
  const names = listModelNames(ws)
  return new ModelError('E_MODEL_NOT_FOUND', `no model named "${name}" in ${ws.dir}`, {
    hint:
      names.length > 0
        ? `registered models: ${names.join(', ')}`
        : 'register one with: mlproj train DATA --target COL --save NAME',
  })
}

export function getVersion(ws: Workspace, name: string, version: number): ModelVersion {
  const row = ws.db.prepare(`${VERSION_SELECT} WHERE m.name = ? AND v.version = ?`).get(name, version) as
    | VersionRow
    | undefined
  if (!row) {
    if (!modelExists(ws, name)) throw modelNotFound(ws, name)
    const versions = listVersions(ws, name).map(v => v.version)
    throw new ModelError('E_MODEL_NOT_FOUND', `model "${name}" has no version ${version}`, {
      hint: `versions: ${versions.join(', ')}`,
    })
  }
  return toVersion(ws, row)
}

export function listVersions(ws: Workspace, name: string): ModelVersion[] {
  const rows = ws.db.prepare(`${VERSION_SELECT} WHERE m.name = ? ORDER BY v.version DESC`).all(name) as VersionRow[]
  if (rows.length === 0) throw modelNotFound(ws, name)
  return rows.map(r => toVersion(ws, r))
}

function modelExists(ws: Workspace, name: string): boolean {
  return ws.db.prepare('SELECT 1 FROM models WHERE name = ?').get(name) !== undefined
}

function listModelNames(ws: Workspace): string[] {
  return (ws.db.prepare('SELECT name FROM models ORDER BY name').all() as Array<{name: string}>).map(r => r.name)
}

export function listModels(ws: Workspace): ModelSummary[] {
  const rows = ws.db
    .prepare(
      `SELECT m.id, m.name, m.created_at, m.updated_at, count(v.version) AS versions, max(v.version) AS latest
       FROM models m JOIN model_versions v ON v.model_id = m.id GROUP BY m.id ORDER BY m.name`,
    )
    .all() as Array<{
    id: number
    name: string
    created_at: string
    updated_at: string
    versions: number
    latest: number
  }>
  return rows.map(r => {
    const latest = getVersion(ws, r.name, r.latest)
    const aliases = Object.fromEntries(
      (
        ws.db.prepare('SELECT alias, version FROM aliases WHERE model_id = ? ORDER BY alias').all(r.id) as Array<{
          alias: string
          version: number
        }>
      ).map(a => [a.alias, a.version]),
    )
    return {
      name: r.name,
      latestVersion: r.latest,
      versions: r.versions,
      aliases,
      task: latest.task,
      algo: latest.algo,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }
  })
}

/** Parses NAME, NAME:VERSION, NAME@ALIAS or run:RUN_ID. */
export function parseModelRef(
  ref: string,
):
  | {kind: 'run'; runId: string}
  | {kind: 'version'; name: string; version: number}
  | {kind: 'alias'; name: string; alias: string}
  | {kind: 'latest'; name: string} {
  if (ref.startsWith('run:')) return {kind: 'run', runId: ref.slice(4)}
  const at = ref.lastIndexOf('@')
  if (at > 0) {
    const name = ref.slice(0, at)
    const alias = ref.slice(at + 1)
    checkModelName(name)
    return alias === 'latest' ? {kind: 'latest', name} : {kind: 'alias', name, alias}
  }
  const colon = ref.lastIndexOf(':')
  if (colon > 0) {
    const name = ref.slice(0, colon)
    const version = ref.slice(colon + 1)
    checkModelName(name)
    if (!/^[1-9][0-9]*$/.test(version)) {
      throw new UsageError('E_USAGE_MODEL_REF', `"${ref}": version "${version}" is not a positive whole number`, {
        hint: 'model references are NAME, NAME:VERSION, NAME@ALIAS or run:RUN_ID',
      })
    }
    return {kind: 'version', name, version: Number(version)}
  }
  if (!MODEL_NAME_PATTERN.test(ref)) {
    throw new UsageError('E_USAGE_MODEL_REF', `"${ref}" is not a model reference`, {
      hint: 'model references are NAME, NAME:VERSION, NAME@ALIAS or run:RUN_ID',
    })
  }
  return {kind: 'latest', name: ref}
}

/** Resolves a model reference to the exact artifact it names now (an alias is read once, here). */
export function resolveModel(ws: Workspace, ref: string): ResolvedModel {
  const parsed = parseModelRef(ref)
  if (parsed.kind === 'run') {
    const run = getRun(ws, parsed.runId)
    if (run.status !== 'finished' || !run.artifactDir) {
      throw new ModelError('E_MODEL_NOT_FOUND', `run ${run.id} is ${run.status} and has no model`, {
        hint: 'use a finished run (mlproj runs list --status finished)',
      })
    }
    const signature = readRunSignature(ws, run.artifactDir)
    return {
      ref,
      name: null,
      version: null,
      runId: run.id,
      artifactDir: run.artifactDir,
      signature,
      algo: run.algo,
      task: signature.task,
    }
  }
  let version: ModelVersion
  if (parsed.kind === 'version') version = getVersion(ws, parsed.name, parsed.version)
  else if (parsed.kind === 'latest') version = listVersions(ws, parsed.name)[0]!
  else {
    const row = ws.db
      .prepare('SELECT a.version FROM aliases a JOIN models m ON m.id = a.model_id WHERE m.name = ? AND a.alias = ?')
      .get(parsed.name, parsed.alias) as {version: number} | undefined
    if (!row) {
      if (!modelExists(ws, parsed.name)) throw modelNotFound(ws, parsed.name)
      const aliases = (
        ws.db
          .prepare('SELECT a.alias FROM aliases a JOIN models m ON m.id = a.model_id WHERE m.name = ? ORDER BY a.alias')
          .all(parsed.name) as Array<{
          alias: string
        }>
      ).map(a => `@${a.alias}`)
      throw new ModelError('E_MODEL_NOT_FOUND', `model "${parsed.name}" has no alias @${parsed.alias}`, {
        hint:
          aliases.length > 0
            ? `aliases: ${aliases.join(', ')}`
            : `set one with: mlproj save RUN_ID --name ${parsed.name} --alias ${parsed.alias}`,
      })
    }
    version = getVersion(ws, parsed.name, row.version)
  }
  return {
    ref,
    name: version.name,
    version: version.version,
    runId: version.runId,
    artifactDir: version.artifactDir,
    signature: version.signature,
    algo: version.algo,
    task: version.task,
  }
}

function readRunSignature(ws: Workspace, artifactDir: string): Signature {
  return JSON.parse(readFileSync(join(ws.dir, artifactDir, 'signature.json'), 'utf8')) as Signature
}
