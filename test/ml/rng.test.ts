import {describe, expect, it} from 'vitest'
import {Rng} from '../../src/ml/rng.js'

describe('Rng', () => {
  it('reproduces the reference xoshiro128** stream seeded by splitmix32', () => {
    // Golden values from an independent Python transcription of the C reference (xoshiro128starstar.c) with the
    // same splitmix32 seeding; they pin the stream so a seed means the same run on every platform and version.
    const cases: Array<[number, number[]]> = [
      [0, [3809008728, 1133695204, 53579671, 2891528803, 139681546]],
      [42, [2837322924, 544945897, 479756282, 3500138142, 339756180]],
      [123456789, [4284103975, 1001954530, 2701803082, 2658065534, 3104308804]],
    ]
    for (const [seed, expected] of cases) {
      const rng = new Rng(seed)
      expect(expected.map(() => rng.nextUint32())).toEqual(expected)
    }
    // Two draws (27 + 26 high bits) make one double; same Python reference.
    expect(new Rng(42).nextFloat()).toBe(0.6606157208001621)
  })

  it('gives identical sequences for the same seed and different ones for different seeds', () => {
    const a = new Rng(7)
    const b = new Rng(7)
    const c = new Rng(8)
    const sa = Array.from({length: 100}, () => a.nextFloat())
    const sb = Array.from({length: 100}, () => b.nextFloat())
    const sc = Array.from({length: 100}, () => c.nextFloat())
    expect(sb).toEqual(sa)
    expect(sc).not.toEqual(sa)
  })

  it('keeps nextFloat in [0, 1) with a mean near one half', () => {
    const rng = new Rng(1)
    const n = 100_000
    let sum = 0
    let outside = 0
    for (let i = 0; i < n; i++) {
      const u = rng.nextFloat()
      if (!(u >= 0 && u < 1)) outside++
      sum += u
    }
    expect(outside).toBe(0)
    // Standard error of the mean of U(0,1) is sqrt(1/12/n) ≈ 0.0009; 0.005 is over 5 standard errors.
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005)
  })

  it('keeps nextInt in [0, n) and hits every value roughly equally often', () => {
    const rng = new Rng(2)
    const n = 7
    const counts = new Array<number>(n).fill(0)
    const draws = 70_000
    let outside = 0
    for (let i = 0; i < draws; i++) {
      const k = rng.nextInt(n)
      if (Number.isInteger(k) && k >= 0 && k < n) counts[k] = counts[k]! + 1
      else outside++
    }
    expect(outside).toBe(0)
    // Each count is Binomial(70000, 1/7): mean 10000, sd ≈ 93; ±500 is over 5 sd.
    for (const count of counts) expect(Math.abs(count - draws / n)).toBeLessThan(500)
    expect(new Rng(3).nextInt(1)).toBe(0)
    expect(() => rng.nextInt(0)).toThrow(RangeError)
    expect(() => rng.nextInt(2.5)).toThrow(RangeError)
  })

  it('shuffles in place into a permutation, reproducibly', () => {
    const a = Int32Array.from({length: 50}, (_, i) => i)
    new Rng(11).shuffle(a)
    const b = Int32Array.from({length: 50}, (_, i) => i)
    new Rng(11).shuffle(b)
    expect(b).toEqual(a)
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({length: 50}, (_, i) => i))
    // 50! orderings: staying sorted would mean the shuffle did nothing.
    expect(Array.from(a)).not.toEqual(Array.from({length: 50}, (_, i) => i))
  })

  it('shuffles uniformly: each of the 6 orders of 3 items is about equally likely', () => {
    const rng = new Rng(5)
    const counts = new Map<string, number>()
    const trials = 60_000
    for (let t = 0; t < trials; t++) {
      const a = Int32Array.of(0, 1, 2)
      rng.shuffle(a)
      const key = a.join('')
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    expect(counts.size).toBe(6)
    // Each count is Binomial(60000, 1/6): mean 10000, sd ≈ 91; ±500 is over 5 sd.
    for (const count of counts.values()) expect(Math.abs(count - trials / 6)).toBeLessThan(500)
  })

  it('draws standard normals with mean 0 and variance 1', () => {
    const rng = new Rng(9)
    const n = 100_000
    let sum = 0
    let sumSq = 0
    for (let i = 0; i < n; i++) {
      const z = rng.normal()
      sum += z
      sumSq += z * z
    }
    // Non-finite draws would poison the sums and fail the checks below.
    const mean = sum / n
    // Standard errors: mean sd/sqrt(n) ≈ 0.0032, variance sqrt(2/n) ≈ 0.0045; bounds are over 4 standard errors.
    expect(Math.abs(mean)).toBeLessThan(0.015)
    expect(Math.abs(sumSq / n - mean * mean - 1)).toBeLessThan(0.02)
  })
})
