// `mlproj jobs list` and `mlproj jobs show`: batch prediction jobs as plain data, dead jobs settled first.
import {getJob, type JobRecord, type JobStatus, listJobs as listJobRecords, reapStaleJobs} from '../workspace/jobs.js'
import {type LocateOptions, withWorkspace} from '../workspace/workspace.js'

export interface ListJobsOptions {
  readonly workspace: LocateOptions
  /** Only jobs of this model (a name, or NAME:VERSION / run:RUN_ID). */
  readonly model?: string
  readonly status?: JobStatus
  readonly limit?: number
}

export async function listJobs(options: ListJobsOptions): Promise<{jobs: JobRecord[]}> {
  return withWorkspace(options.workspace, ws => {
    reapStaleJobs(ws)
    return {jobs: listJobRecords(ws, {model: options.model, status: options.status, limit: options.limit})}
  })
}

export async function showJob(options: {workspace: LocateOptions; jobId: string}): Promise<JobRecord> {
  return withWorkspace(options.workspace, ws => {
    reapStaleJobs(ws)
    return getJob(ws, options.jobId)
  })
}
