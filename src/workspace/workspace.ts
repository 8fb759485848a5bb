// Finding, creating and opening a `.mlproj` workspace. Found like git finds `.git`: walking up from the
// current directory, unless `--workspace DIR` or MLPROJ_WORKSPACE names one.
import {constants} from 'node:fs'
import {access, copyFile, mkdir, readdir, stat} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {EnvironmentError, isEnvironmentErrno} from '../errors.js'
import {type Db, openDb} from './db.js'

export const WORKSPACE_DIR = '.mlproj'
export const DB_FILE = 'mlproj.db'

export interface Workspace {
  /** The project folder holding `.mlproj`. */
  readonly root: string
  /** The `.mlproj` folder. */
  readonly dir: string
  readonly db: Db
  /** Whether this command created the workspace. */
  readonly created: boolean
}

export interface LocateOptions {
  /** `--workspace` or MLPROJ_WORKSPACE: the project folder or its `.mlproj` folder. */
  readonly explicit?: string
  readonly cwd?: string
  /** Create `.mlproj` in cwd when none is found (train). */
  readonly create?: boolean
  /** The command only reads: do not insist on write permission. */
  readonly readOnly?: boolean
}

const TEMPLATES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates', 'workspace')

async function isWorkspaceDir(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, WORKSPACE_DIR))).isDirectory()
  } catch {
    return false
  }
}

/** The project folder named by `explicit` (which may also be the `.mlproj` folder itself). */
function projectFolder(explicit: string, cwd: string): string {
  const path = resolve(cwd, explicit)
  return path.endsWith(`/${WORKSPACE_DIR}`) || path === WORKSPACE_DIR ? dirname(path) : path
}

export async function findWorkspaceRoot(options: LocateOptions = {}): Promise<string | undefined> {
  const cwd = options.cwd ?? process.cwd()
  if (options.explicit) {
    const root = projectFolder(options.explicit, cwd)
    return (await isWorkspaceDir(root)) ? root : undefined
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (await isWorkspaceDir(dir)) return dir
    if (dirname(dir) === dir) return undefined
  }
}

/** Creates `.mlproj` under `root` from templates/workspace; harmless when it already exists. */
export async function initWorkspace(root: string): Promise<{dir: string; created: boolean}> {
  const dir = join(root, WORKSPACE_DIR)
  const existed = await isWorkspaceDir(root)
  try {
    await mkdir(join(dir, 'artifacts'), {recursive: true})
    await mkdir(join(dir, 'predictions'), {recursive: true})
    await mkdir(join(dir, 'tables'), {recursive: true})
    for (const name of await readdir(TEMPLATES)) {
      await copyFile(join(TEMPLATES, name), join(dir, name), constants.COPYFILE_EXCL).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error
        },
      )
    }
    openDb(join(dir, DB_FILE)).close()
  } catch (error) {
    if (
      isEnvironmentErrno(error) ||
      /^(ENOENT|ENOTDIR|EEXIST|EISDIR)$/.test((error as NodeJS.ErrnoException).code ?? '')
    ) {
      throw new EnvironmentError(
        'E_ENV_WORKSPACE_UNWRITABLE',
        `cannot create a workspace in ${root}: ${(error as Error).message}`,
        {
          hint: 'choose a folder you can write to (mlproj init DIR), or fix its permissions',
          cause: error,
        },
      )
    }
    throw error
  }
  return {dir, created: !existed}
}

/** Opens the workspace, runs `body` with it, and closes its database however `body` ends. */
export async function withWorkspace<T>(options: LocateOptions, body: (ws: Workspace) => T | Promise<T>): Promise<T> {
  const ws = await openWorkspace(options)
  try {
    return await body(ws)
  } finally {
    ws.db.close()
  }
}

export async function openWorkspace(options: LocateOptions = {}): Promise<Workspace> {
  const cwd = options.cwd ?? process.cwd()
  let root = await findWorkspaceRoot(options)
  let created = false
  if (!root) {
    if (options.explicit && !options.create) {
      throw new EnvironmentError(
        'E_ENV_NO_WORKSPACE',
        `no ${WORKSPACE_DIR} workspace in ${projectFolder(options.explicit, cwd)}`,
        {
          hint: `create one with: mlproj init ${options.explicit}`,
        },
      )
    }
    if (!options.create) {
      throw new EnvironmentError('E_ENV_NO_WORKSPACE', `no ${WORKSPACE_DIR} workspace in ${cwd} or any parent folder`, {
        hint: 'run "mlproj init" here, train a model (which creates one), or pass --workspace DIR',
      })
    }
    root = options.explicit ? projectFolder(options.explicit, cwd) : cwd
    created = (await initWorkspace(root)).created
  }
  const dir = join(root, WORKSPACE_DIR)
  if (!options.readOnly) await checkWritable(dir)
  const db = openDb(join(dir, DB_FILE))
  return {root, dir, db, created}
}

async function checkWritable(dir: string): Promise<void> {
  for (const path of [dir, join(dir, 'artifacts'), join(dir, DB_FILE)]) {
    try {
      await access(path, constants.W_OK)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && path.endsWith(DB_FILE)) continue
      throw new EnvironmentError('E_ENV_WORKSPACE_UNWRITABLE', `the workspace ${dir} is not writable (${path})`, {
        hint: 'fix the permissions (chmod u+w), or pass --workspace to use another workspace',
        cause: error,
      })
    }
  }
}

export function artifactPath(ws: Workspace, artifactDir: string, file = ''): string {
  return join(ws.dir, artifactDir, file)
}
