// Seeded pseudo-random numbers for shuffling, sampling and initialisation, so that a given seed reproduces
// a training run bit for bit on every platform: xoshiro128** (Blackman & Vigna, 2018) seeded via splitmix32.

/**
 * 32-bit SplitMix (after Steele, Lea & Flood 2014): a golden-ratio Weyl sequence through MurmurHash3's fmix32
 * finaliser, the seeding Vigna recommends so that nearby seeds give unrelated xoshiro states.
 */
function splitmix32(state: {s: number}): number {
  state.s = (state.s + 0x9e3779b9) | 0
  let z = state.s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

export class Rng {
  // xoshiro128** state; only 32-bit integer operations (Math.imul, >>> 0), so results never depend on the
  // platform's floating point.
  private s0: number
  private s1: number
  private s2: number
  private s3: number
  // Box–Muller yields normals in pairs; the second one is kept for the next call.
  private spareNormal = Number.NaN

  constructor(seed: number) {
    // Seeds beyond 32 bits (or negative, or fractional) are folded in, not rejected.
    const st = {s: (Math.trunc(seed) ^ Math.trunc(seed / 0x100000000)) | 0}
    this.s0 = splitmix32(st)
    this.s1 = splitmix32(st)
    this.s2 = splitmix32(st)
    this.s3 = splitmix32(st)
    // The all-zero state is the one fixed point of xoshiro; splitmix32 cannot produce it four times, but guard anyway.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** Uniform in [0, 1) with 53 random bits (two draws), as in Java's/numpy's double generation. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5 // 27 bits
    const lo = this.nextUint32() >>> 6 // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** Uniform integer in [0, n), unbiased (Lemire's rejection on the 32-bit draw). n must be in [1, 2^32]. */
  nextInt(n: number): number {
    if (!(n >= 1) || n > 0x100000000 || !Number.isInteger(n)) {
      throw new RangeError(`Rng.nextInt: n must be an integer in [1, 2^32], got ${n}`)
    }
    if (n === 0x100000000) return this.nextUint32()
    // Reject the top partial bucket so every residue is equally likely.
    const limit = 0x100000000 - (0x100000000 % n)
    let r = this.nextUint32()
    while (r >= limit) r = this.nextUint32()
    return r % n
  }

  /** Fisher–Yates (Durstenfeld) shuffle, in place. */
  shuffle(a: Int32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1)
      const tmp = a[i]!
      a[i] = a[j]!
      a[j] = tmp
    }
  }

  /**
   * Standard normal via the Box–Muller transform. Math.log/sin/cos are not bit-specified by ECMAScript, but V8
   * implements them with its own fdlibm port, so Node gives the same values on every platform.
   */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const z = this.spareNormal
      this.spareNormal = Number.NaN
      return z
    }
    // 1 - u lies in (0, 1], so the log is finite.
    const u1 = 1 - this.nextFloat()
    const u2 = this.nextFloat()
    const r = Math.sqrt(-2 * Math.log(u1))
    const theta = 2 * Math.PI * u2
    this.spareNormal = r * Math.sin(theta)
    return r * Math.cos(theta)
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
