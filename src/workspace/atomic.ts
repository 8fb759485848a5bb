// Atomic file and directory writes: write beside the target, fsync, rename. A crash at any instant leaves
// either the old file or the new one, never a half-written file that a reader could pick up.
import {randomBytes} from 'node:crypto'
import {closeSync, fsyncSync, openSync} from 'node:fs'
import {mkdir, open, rename, rm} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** fsyncDir for code that must not yield between its steps (a rename, then its database record). */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPath(path)
  const handle = await open(temp, 'w')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(temp, {force: true})
    throw error
  }
  await handle.close()
  try {
    await rename(temp, path)
  } catch (error) {
    await rm(temp, {force: true})
    throw error
  }
  await fsyncDir(dirname(path))
}

/** Writes files into a hidden staging directory and renames it into place: all of them appear at once. */
export async function writeDirAtomic(dir: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const staging = tempPath(dir)
  await mkdir(staging, {recursive: true})
  try {
    for (const [name, data] of Object.entries(files)) {
      const handle = await open(join(staging, name), 'w')
      try {
        await handle.writeFile(data)
        await handle.sync()
      } finally {
        await handle.close()
      }
    }
    await fsyncDir(staging)
    await rename(staging, dir)
  } catch (error) {
    await rm(staging, {recursive: true, force: true})
    throw error
  }
  await fsyncDir(dirname(dir))
}
