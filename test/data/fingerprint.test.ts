import {createHash} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {fingerprint} from '../../src/data/fingerprint.js'
import {tempDir} from './helpers.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
beforeAll(async () => {
  tmp = await tempDir()
})
afterAll(() => tmp.cleanup())

describe('fingerprint', () => {
  it('is the sha256 of the bytes, whatever the path', async () => {
    const a = await tmp.file('a.csv', 'x,y\n1,2\n')
    const b = await tmp.file('somewhere-else.txt', 'x,y\n1,2\n')
    const expected = createHash('sha256').update('x,y\n1,2\n').digest('hex')
    expect(await fingerprint([a])).toEqual({sha256: expected, bytes: 8})
    expect(await fingerprint([b])).toEqual({sha256: expected, bytes: 8})
  })

  it('changes when one byte changes', async () => {
    const a = await tmp.file('one.csv', 'x,y\n1,2\n')
    const b = await tmp.file('two.csv', 'x,y\n1,3\n')
    expect((await fingerprint([a])).sha256).not.toBe((await fingerprint([b])).sha256)
  })

  it('covers every file of a multi-file input, in order', async () => {
    const a = await tmp.file('p1.csv', 'x\n1\n')
    const b = await tmp.file('p2.csv', 'x\n2\n')
    const both = await fingerprint([a, b])
    expect(both.bytes).toBe(8)
    expect(both.sha256).not.toBe((await fingerprint([a])).sha256)
    expect(both.sha256).not.toBe((await fingerprint([b, a])).sha256)
  })
})
