// serve --log-predictions: requests are appended to memory on the response path (a push, nothing more) and
// written to the workspace's predictions_log table in batches, off that path: every few hundred milliseconds,
// in transactions of a few thousand rows with the event loop free in between.
import {setImmediate as yieldToLoop} from 'node:timers/promises'
import {predictionRecord} from '../runtime/outputs.js'
import type {ModelOutput} from '../runtime/predictor.js'
import type {Db} from '../workspace/db.js'
import {insertPredictionLog, type PredictionLogRow} from '../workspace/prediction-log.js'
import type {ServedVersion} from './models.js'
import {blockRecord, type RowBlock} from './rows.js'

export interface LogEntry {
  readonly requestId: string
  /** Epoch milliseconds when the request arrived. */
  readonly receivedAt: number
  readonly servedName: string
  readonly version: ServedVersion
  readonly protocol: 'mlflow' | 'v2'
  readonly latencyMs: number
  readonly block: RowBlock
  readonly output: ModelOutput
}

export interface LogWriterOptions {
  readonly flushMs?: number
  /** Rows per transaction. */
  readonly chunkRows?: number
  /** Rows kept waiting at most when the workspace cannot take them (locked); older ones are dropped. */
  readonly maxPendingRows?: number
  readonly onDropped?: (rows: number) => void
  readonly onError?: (message: string) => void
}

function logRow(e: LogEntry, i: number): PredictionLogRow {
  const {resolved, inputs, outputs, nClasses} = e.version
  return {
    requestId: e.requestId,
    rowIndex: i,
    createdAt: new Date(e.receivedAt).toISOString(),
    servedName: e.servedName,
    modelRef: resolved.ref,
    modelName: resolved.name,
    modelVersion: resolved.version,
    runId: resolved.runId,
    protocol: e.protocol,
    latencyMs: e.latencyMs,
    inputs: JSON.stringify(blockRecord(e.block, inputs, i)),
    outputs: JSON.stringify(predictionRecord(e.output, outputs, i, nClasses)),
  }
}

export class PredictionLogWriter {
  private pending: LogEntry[] = []
  private pendingRows = 0
  private retry: PredictionLogRow[] = []
  private flushing?: Promise<void>
  private readonly timer: NodeJS.Timeout
  private readonly chunkRows: number
  private readonly maxPendingRows: number
  written = 0

  constructor(
    private readonly db: Db,
    private readonly options: LogWriterOptions = {},
  ) {
    this.chunkRows = options.chunkRows ?? 2000
    this.maxPendingRows = options.maxPendingRows ?? 200_000
    this.timer = setInterval(() => void this.flush(), options.flushMs ?? 250)
    this.timer.unref()
  }

  append(entry: LogEntry): void {
    this.pending.push(entry)
    this.pendingRows += entry.block.nRows
    if (this.pendingRows + this.retry.length > this.maxPendingRows) this.dropOldest()
  }

  private dropOldest(): void {
    let dropped = 0
    while (this.pendingRows + this.retry.length > this.maxPendingRows && this.retry.length > 0) {
      const n = Math.min(this.retry.length, this.pendingRows + this.retry.length - this.maxPendingRows)
      this.retry.splice(0, n)
      dropped += n
    }
    while (this.pendingRows + this.retry.length > this.maxPendingRows && this.pending.length > 1) {
      const e = this.pending.shift()!
      this.pendingRows -= e.block.nRows
      dropped += e.block.nRows
    }
    if (dropped > 0) this.options.onDropped?.(dropped)
  }

  /** Writes everything appended so far. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined
    })
    return this.flushing
  }

  private async flushOnce(): Promise<void> {
    const entries = this.pending
    this.pending = []
    this.pendingRows = 0
    let chunk: PredictionLogRow[] = this.retry
    this.retry = []
    let failed = false
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!
      for (let i = 0; i < e.block.nRows; i++) {
        chunk.push(logRow(e, i))
        if (chunk.length >= this.chunkRows && !failed) {
          if (this.write(chunk)) {
            chunk = []
            await yieldToLoop()
          } else failed = true
        }
      }
      if (failed) {
        // The workspace is locked: keep the rows converted so far, and the entries after this one, for later.
        this.retry = chunk
        this.pending = [...entries.slice(k + 1), ...this.pending]
        this.pendingRows = this.pending.reduce((n, p) => n + p.block.nRows, 0)
        return
      }
    }
    if (chunk.length > 0 && !this.write(chunk)) this.retry = chunk
  }

  private write(rows: PredictionLogRow[]): boolean {
    try {
      insertPredictionLog(this.db, rows)
      this.written += rows.length
      return true
    } catch (error) {
      this.options.onError?.(`cannot write the prediction log yet (${(error as Error).message}); retrying`)
      return false
    }
  }

  /** Writes what is left (retrying a locked workspace a few times) and stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.timer)
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.flush()
      if (this.pending.length === 0 && this.retry.length === 0) return
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const lost = this.pendingRows + this.retry.length
    if (lost > 0) this.options.onDropped?.(lost)
  }
}
