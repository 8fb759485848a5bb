// `mlproj runs list` and `mlproj runs show`: training runs as plain data, stale "running" runs reaped first.
import {UsageError} from '../errors.js'
import {METRIC_NAMES, metricDirection} from '../ml/metrics.js'
import {
  experimentExists,
  experimentNames,
  getRun,
  listRuns as listRunRecords,
  type RunRecord,
  type RunStatus,
  reapStaleRuns,
} from '../workspace/runs.js'
import {type LocateOptions, withWorkspace} from '../workspace/workspace.js'

export interface ListRunsOptions {
  readonly workspace: LocateOptions
  readonly experiment?: string
  /** Metric to sort by (test split), best first; "-metric" or "+metric" force the direction. */
  readonly sort?: string
  readonly status?: RunStatus
  readonly limit?: number
}

export async function listRuns(options: ListRunsOptions): Promise<{runs: RunRecord[]}> {
  const sort = options.sort ? parseSort(options.sort) : undefined
  return withWorkspace(options.workspace, ws => {
    reapStaleRuns(ws)
    if (options.experiment && !experimentExists(ws, options.experiment)) {
      throw new UsageError('E_USAGE_EXPERIMENT', `no experiment named "${options.experiment}"`, {
        hint: `experiments: ${experimentNames(ws).join(', ') || '(none yet)'}`,
      })
    }
    return {
      runs: listRunRecords(ws, {experiment: options.experiment, sort, status: options.status, limit: options.limit}),
    }
  })
}

function parseSort(sort: string): {metric: string; direction: 'higher' | 'lower'} {
  const forced = sort[0] === '-' ? 'higher' : sort[0] === '+' ? 'lower' : undefined
  const metric = forced ? sort.slice(1) : sort
  const direction = forced ?? metricDirection(metric)
  if (!direction) {
    throw new UsageError('E_USAGE_SORT', `cannot sort by unknown metric "${metric}"`, {
      hint: `metrics: ${Object.keys(METRIC_NAMES).join(', ')}`,
    })
  }
  return {metric, direction}
}

export async function showRun(options: {workspace: LocateOptions; runId: string}): Promise<RunRecord> {
  return withWorkspace(options.workspace, ws => {
    reapStaleRuns(ws)
    return getRun(ws, options.runId)
  })
}
