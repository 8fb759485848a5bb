// Content fingerprints of input data: what a run, an evaluation or a batch job records to say exactly which
// bytes it read. Streams the files, so a large input never has to fit in memory.
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'

export interface Fingerprint {
  /** sha256 of the file; for several files, sha256 of their hashes in path order (the data, not where it lies). */
  readonly sha256: string
  readonly bytes: number
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20})) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export async function fingerprint(files: readonly string[]): Promise<Fingerprint> {
  let bytes = 0
  const hashes: string[] = []
  for (const file of files) {
    bytes += (await stat(file)).size
    hashes.push(await fileSha256(file))
  }
  if (hashes.length === 1) return {sha256: hashes[0]!, bytes}
  const combined = createHash('sha256')
  for (const h of hashes) combined.update(`${h}\n`)
  return {sha256: combined.digest('hex'), bytes}
}
