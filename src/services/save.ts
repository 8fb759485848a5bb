// `mlproj save`: register a new model version, from a finished run's artifact or from an ONNX file trained
// elsewhere (its signature read off the graph and checked by loading it in ONNX Runtime).
import {readFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import {DataError, UsageError} from '../errors.js'
import {type ReadSignatureOptions, readSignature} from '../onnx/signature.js'
import {Predictor} from '../runtime/predictor.js'
import {writeDirAtomic} from '../workspace/atomic.js'
import {checkAlias, checkModelName, type ModelVersion, registerVersion} from '../workspace/registry.js'
import {getRun, newId} from '../workspace/runs.js'
import {type LocateOptions, withWorkspace} from '../workspace/workspace.js'
import {sha256} from './util.js'

export interface SaveOptions {
  readonly workspace: LocateOptions
  /** A finished run to register (exclusive with `onnx`). */
  readonly runId?: string
  /** An ONNX file to import (exclusive with `runId`). */
  readonly onnx?: string
  readonly name: string
  readonly aliases: readonly string[]
  /** For imports: names of the columns of a 2-D model input, and the target name. */
  readonly columns?: readonly string[]
  readonly target?: string
  readonly onProgress?: (message: string) => void
}

export type SaveResult = ModelVersion & {readonly artifactPath: string}

export async function save(options: SaveOptions): Promise<SaveResult> {
  if (!options.runId === !options.onnx) {
    throw new UsageError('E_USAGE_SAVE_SOURCE', 'give either a RUN_ID or --onnx FILE', {
      hint: 'mlproj save 3f9a1c2b7d4e --name churn   or   mlproj save --onnx model.onnx --name churn',
    })
  }
  checkModelName(options.name)
  for (const alias of options.aliases) checkAlias(alias)
  return withWorkspace(options.workspace, async ws => {
    let version: ModelVersion
    if (options.runId) {
      const run = getRun(ws, options.runId)
      if (run.status !== 'finished' || !run.artifactDir) {
        throw new UsageError(
          'E_USAGE_RUN_NOT_FINISHED',
          `run ${run.id} is ${run.status}: only finished runs have a model to save`,
          {
            hint: run.error ? `it failed with: ${run.error.message}` : 'wait for it to finish',
          },
        )
      }
      const bytes = await readFile(join(ws.dir, run.artifactDir, 'model.onnx'))
      const signature = readSignature(bytes, run.artifactDir)
      version = registerVersion(ws, {
        name: options.name,
        runId: run.id,
        source: 'run',
        artifactDir: run.artifactDir,
        sha256: sha256(bytes),
        signature,
        algo: run.algo,
        aliases: options.aliases,
      })
    } else {
      const path = resolve(options.onnx!)
      const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
        throw new DataError(
          'E_DATA_NOT_FOUND',
          `cannot read ${options.onnx}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
          {
            hint: 'check the path to the .onnx file',
          },
        )
      })
      const readOptions: ReadSignatureOptions = {columns: options.columns, target: options.target}
      const signature = readSignature(bytes, options.onnx!, readOptions)
      await Predictor.load(bytes, signature, options.onnx!)
      const artifactDir = join('artifacts', `import-${newId()}`)
      await writeDirAtomic(join(ws.dir, artifactDir), {
        'model.onnx': bytes,
        'signature.json': `${JSON.stringify(signature, null, 2)}\n`,
      })
      version = registerVersion(ws, {
        name: options.name,
        runId: null,
        source: 'import',
        artifactDir,
        sha256: sha256(bytes),
        signature,
        algo: null,
        aliases: options.aliases,
      })
    }
    options.onProgress?.(`registered ${version.name}:${version.version}${version.aliases.map(a => ` @${a}`).join('')}`)
    return {...version, artifactPath: join(ws.dir, version.artifactDir, 'model.onnx')}
  })
}
