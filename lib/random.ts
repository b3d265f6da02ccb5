import { randomBytes, randomUUID } from 'node:crypto'

/**
 * Randomness as a dependency: revisions, instance ids, token names and serial numbers come from
 * here, so tests can make them predictable where a golden output needs it.
 */
export interface Random {
  /** `n` cryptographically strong random bytes. */
  bytes(n: number): Uint8Array
  /** A random (version 4) UUID. */
  uuid(): string
}

/** The operating system's CSPRNG. */
export const cryptoRandom: Random = Object.freeze({
  bytes: (n: number) => new Uint8Array(randomBytes(n)),
  uuid: () => randomUUID(),
})

/** Hex encoding of `n` random bytes: the usual shape of a secret token name. */
export function randomHex(random: Random, n: number): string {
  return Buffer.from(random.bytes(n)).toString('hex')
}

/**
 * A deterministic generator for tests and golden files. Not random at all: never use it
 * outside tests.
 */
export function sequenceRandom(seed = 1): Random {
  let counter = seed
  const next = (): number => {
    // xorshift32: cheap, deterministic, good enough to make distinct test values.
    counter ^= counter << 13
    counter ^= counter >>> 17
    counter ^= counter << 5
    return counter >>> 0
  }
  const bytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = next() & 0xff
    return out
  }
  return {
    bytes,
    uuid: () => {
      const b = bytes(16)
      b[6] = ((b[6] ?? 0) & 0x0f) | 0x40
      b[8] = ((b[8] ?? 0) & 0x3f) | 0x80
      const h = Buffer.from(b).toString('hex')
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
    },
  }
}
