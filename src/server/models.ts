// The models a server answers for, by served name, and the version each runs now. A reference that follows
// something movable (NAME@ALIAS, NAME = latest) is re-resolved every few seconds; when it moves, the new version is
// loaded into every worker first, then swapped in, and the old one is unloaded once its last request finished —
// so a swap never fails a request.
import {ModelError} from '../errors.js'
import {type PredictionColumn, predictionColumns} from '../runtime/outputs.js'
import type {ModelOutput} from '../runtime/predictor.js'
import {parseModelRef, type ResolvedModel} from '../workspace/registry.js'
import {RequestError} from './errors.js'
import type {WorkerPool} from './pool.js'
import {type InputSpec, inputSpecs, type RowBlock} from './rows.js'

/** Where models come from: the workspace registry and artifact files. */
export interface ModelSource {
  resolve(ref: string): ResolvedModel
  read(resolved: ResolvedModel): Promise<Uint8Array>
}

export interface ServedVersion {
  /** The pool's key for this version's sessions (unique per load). */
  readonly key: string
  readonly resolved: ResolvedModel
  readonly inputs: readonly InputSpec[]
  readonly outputs: readonly PredictionColumn[]
  readonly nClasses: number
  inflight: number
  retired: boolean
}

export interface ServedModel {
  /** The route name: /models/<name>/invocations, /v2/models/<name>/infer. */
  readonly name: string
  readonly ref: string
  /** Whether the reference can move (alias or latest), so it is watched. */
  readonly follows: boolean
  current?: ServedVersion
}

export interface ModelSpec {
  readonly name: string
  readonly ref: string
  readonly resolved: ResolvedModel
}

export interface HostEvents {
  onSwap?(model: ServedModel, from: ServedVersion, to: ServedVersion): void
  onWarning?(message: string): void
}

export function versionLabel(resolved: ResolvedModel): string {
  return resolved.name ? `${resolved.name}:${resolved.version}` : resolved.ref
}

export class ModelHost {
  private readonly models: ServedModel[]
  private readonly byName: Map<string, ServedModel>
  private readonly initial: Map<string, ResolvedModel>
  private seq = 0
  private timer?: NodeJS.Timeout
  private refreshing?: Promise<void>
  private readonly warned = new Set<string>()
  stopping = false

  constructor(
    private readonly pool: WorkerPool,
    private readonly source: ModelSource,
    specs: readonly ModelSpec[],
    private readonly events: HostEvents = {},
  ) {
    this.models = specs.map(s => ({name: s.name, ref: s.ref, follows: follows(s.ref)}))
    this.byName = new Map(this.models.map(m => [m.name, m]))
    this.initial = new Map(specs.map(s => [s.name, s.resolved]))
  }

  /** Ready when every model has a version loaded, and the server is not draining (requests still run then). */
  get ready(): boolean {
    return !this.stopping && this.models.every(m => m.current !== undefined)
  }

  list(): readonly ServedModel[] {
    return this.models
  }

  get(name: string): ServedModel | undefined {
    return this.byName.get(name)
  }

  /** The model /invocations answers for: the first one given. */
  get default(): ServedModel {
    return this.models[0]!
  }

  /** Loads the first version of every model (in parallel); the first failure is thrown. */
  async loadAll(): Promise<void> {
    await Promise.all(
      this.models.map(async model => {
        model.current = await this.loadVersion(model, this.initial.get(model.name)!)
      }),
    )
  }

  private async loadVersion(model: ServedModel, resolved: ResolvedModel): Promise<ServedVersion> {
    const key = `${model.name}#${++this.seq}#${resolved.artifactDir}`
    await this.pool.load(key, {
      bytes: await this.source.read(resolved),
      signature: resolved.signature,
      where: `model ${versionLabel(resolved)} (${resolved.artifactDir}/model.onnx)`,
    })
    return {
      key,
      resolved,
      inputs: inputSpecs(resolved.signature),
      outputs: predictionColumns(resolved.signature),
      nClasses: resolved.signature.classes?.length ?? 0,
      inflight: 0,
      retired: false,
    }
  }

  /** The version a request runs on, held until release (so a swap waits for it before unloading). */
  acquire(model: ServedModel): ServedVersion {
    const version = model.current
    if (!version) {
      throw new RequestError(503, 'E_NOT_READY', `model "${model.name}" is still loading`, {
        hint: 'retry in a moment; GET /v2/health/ready answers 200 once every model is loaded',
      })
    }
    version.inflight++
    return version
  }

  release(version: ServedVersion): void {
    version.inflight--
    if (version.retired && version.inflight === 0) this.pool.unload(version.key)
  }

  predict(version: ServedVersion, block: RowBlock): Promise<ModelOutput> {
    return this.pool.predict(version.key, block)
  }

  /** Re-resolves the followed references; loads and swaps in any that moved. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  private async refreshOnce(): Promise<void> {
    for (const model of this.models) {
      const current = model.current
      if (!model.follows || !current || this.stopping) continue
      let resolved: ResolvedModel
      try {
        resolved = this.source.resolve(model.ref)
      } catch (error) {
        this.warnOnce(
          `cannot re-resolve ${model.ref}: ${(error as Error).message}; still serving ${versionLabel(current.resolved)}`,
        )
        continue
      }
      if (sameVersion(resolved, current.resolved)) continue
      let next: ServedVersion
      try {
        next = await this.loadVersion(model, resolved)
      } catch (error) {
        this.warnOnce(
          `cannot load ${versionLabel(resolved)} for ${model.ref}: ${(error as Error).message}; still serving ${versionLabel(current.resolved)}`,
        )
        continue
      }
      if (this.stopping) {
        this.pool.unload(next.key)
        return
      }
      model.current = next
      current.retired = true
      if (current.inflight === 0) this.pool.unload(current.key)
      this.events.onSwap?.(model, current, next)
    }
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return
    this.warned.add(message)
    this.events.onWarning?.(message)
  }

  /** Re-resolves every `intervalMs` (0: never). */
  watch(intervalMs: number): void {
    if (intervalMs <= 0 || !this.models.some(m => m.follows)) return
    this.timer = setInterval(() => void this.refresh(), intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopping = true
    if (this.timer) clearInterval(this.timer)
    await this.refreshing
  }
}

/** Two versions sharing an artifact (saved from one run) are still two versions: the reported one must change. */
function sameVersion(a: ResolvedModel, b: ResolvedModel): boolean {
  return a.artifactDir === b.artifactDir && a.name === b.name && a.version === b.version
}

function follows(ref: string): boolean {
  const parsed = parseModelRef(ref)
  return parsed.kind === 'alias' || parsed.kind === 'latest'
}

/** `NAME=REF` serves REF under NAME; a bare REF is served under its model name (or its run id). */
export function parseServedRef(spec: string): {name?: string; ref: string} {
  const eq = spec.indexOf('=')
  if (eq > 0 && !spec.startsWith('run:')) return {name: spec.slice(0, eq), ref: spec.slice(eq + 1)}
  return {ref: spec}
}

export function defaultServedName(resolved: ResolvedModel): string {
  if (resolved.name) return resolved.name
  if (resolved.runId) return resolved.runId
  throw new ModelError('E_MODEL_NOT_FOUND', `cannot name ${resolved.ref}`, {hint: 'serve it as NAME=REF'})
}
