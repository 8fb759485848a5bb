// Evaluation records: which model version was scored on which data (by fingerprint), with what metrics
// and quality gates. They let CI history and `query` answer "how did @production do last week?".
import {newId, now} from './runs.js'
import type {Workspace} from './workspace.js'

export interface EvaluationRecord {
  readonly id: string
  readonly modelRef: string
  readonly modelName: string | null
  readonly modelVersion: number | null
  readonly runId: string | null
  readonly dataset: Record<string, unknown>
  readonly metrics: Record<string, number>
  readonly gates: readonly unknown[]
  readonly passed: boolean
  readonly createdAt: string
}

export function recordEvaluation(
  ws: Workspace,
  evaluation: Omit<EvaluationRecord, 'id' | 'createdAt'>,
): EvaluationRecord {
  const record = {...evaluation, id: newId(), createdAt: now()}
  ws.db
    .prepare(
      `INSERT INTO evaluations (id, model_ref, model_name, model_version, run_id, dataset, metrics, gates, passed, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      record.id,
      record.modelRef,
      record.modelName,
      record.modelVersion,
      record.runId,
      JSON.stringify(record.dataset),
      JSON.stringify(record.metrics),
      JSON.stringify(record.gates),
      record.passed ? 1 : 0,
      record.createdAt,
    )
  return record
}

export function listEvaluations(ws: Workspace, modelName: string, version?: number): EvaluationRecord[] {
  const rows = ws.db
    .prepare(
      `SELECT * FROM evaluations WHERE model_name = ? AND (? IS NULL OR model_version = ?) ORDER BY created_at DESC, rowid DESC`,
    )
    .all(modelName, version ?? null, version ?? null) as Array<Record<string, unknown>>
  return rows.map(r => ({
    id: r.id as string,
    modelRef: r.model_ref as string,
    modelName: r.model_name as string | null,
    modelVersion: r.model_version as number | null,
    runId: r.run_id as string | null,
    dataset: JSON.parse(r.dataset as string) as Record<string, unknown>,
    metrics: JSON.parse(r.metrics as string) as Record<string, number>,
    gates: JSON.parse(r.gates as string) as unknown[],
    passed: r.passed === 1,
    createdAt: r.created_at as string,
  }))
}
