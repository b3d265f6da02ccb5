/**
 * A minimal DER (X.690 Distinguished Encoding Rules) writer for the per-request parts of a leaf
 * certificate.
 *
 * Why not the ASN.1 object model of `@peculiar/asn1-schema` for everything: building a leaf
 * through it costs about 1.1 ms (measured, see docs/BENCHMARKS.md), 40 times the ECDSA signature
 * itself. The issuer name, algorithm identifiers and constant extensions are still produced by
 * that library once per CA (see `x509/profile.ts`); only the fields that change per certificate
 * are written here, and tests check every certificate with OpenSSL and `@peculiar/x509`.
 *
 * Every function returns the complete TLV (tag, length, value) as a Buffer.
 */

/** Universal tags used by certificates. */
export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
} as const

/** Encodes a definite length (X.690 §8.1.3): short form below 128, long form otherwise. */
function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

/**
 * One TLV with the given tag byte over the concatenated contents. The header and the contents are
 * copied once, into one buffer (nested encodings would otherwise copy every byte twice per level).
 */
export function tlv(tag: number, ...contents: readonly Uint8Array[]): Buffer {
  let length = 0
  for (const c of contents) length += c.length
  const header = lengthBytes(length)
  const out = Buffer.allocUnsafe(1 + header.length + length)
  out[0] = tag
  header.copy(out, 1)
  let offset = 1 + header.length
  for (const c of contents) {
    out.set(c, offset)
    offset += c.length
  }
  return out
}

export const sequence = (...items: readonly Uint8Array[]): Buffer => tlv(Tag.sequence, ...items)

/** A SET OF, with elements sorted by their encoding as DER requires (X.690 §11.6). */
export function setOf(...items: readonly Uint8Array[]): Buffer {
  const sorted = [...items].map((i) => Buffer.from(i)).sort(Buffer.compare)
  return tlv(Tag.set, ...sorted)
}

/** Context-specific constructed tag `[n]` (EXPLICIT tagging). */
export const explicit = (n: number, ...items: readonly Uint8Array[]): Buffer => tlv(0xa0 | n, ...items)

export const boolean = (value: boolean): Buffer => tlv(Tag.boolean, Buffer.from([value ? 0xff : 0x00]))

/**
 * A non-negative INTEGER from big-endian magnitude bytes: leading zeros are stripped and a zero
 * byte is prepended when the high bit is set, so the value stays positive (X.690 §8.3).
 */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++
  const trimmed = Buffer.from(magnitude.subarray(start))
  const needsPad = trimmed.length === 0 || ((trimmed[0] as number) & 0x80) !== 0
  return tlv(Tag.integer, needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed)
}

/** A small non-negative INTEGER. */
export function smallInteger(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new TypeError(`smallInteger needs a non-negative safe integer, got ${n}`)
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return unsignedInteger(Uint8Array.from(bytes.length ? bytes : [0]))
}

const oidCache = new Map<string, Buffer>()

/** An OBJECT IDENTIFIER from dotted text (X.690 §8.19). Encodings are cached. */
export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted)
  if (cached) return cached
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new TypeError(`bad OID ${dotted}`)
    return BigInt(a)
  })
  if (arcs.length < 2) throw new TypeError(`bad OID ${dotted}`)
  const [first, second, ...rest] = arcs as [bigint, bigint, ...bigint[]]
  // X.660: the first arc is 0, 1 or 2; under 0 and 1 the second is below 40.
  if (first > 2n || (first < 2n && second >= 40n)) throw new TypeError(`bad OID ${dotted}`)
  const bytes: number[] = []
  for (const arc of [first * 40n + second, ...rest]) {
    const chunk: number[] = [Number(arc & 0x7fn)]
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80)
    bytes.push(...chunk)
  }
  const encoded = tlv(Tag.oid, Uint8Array.from(bytes))
  oidCache.set(dotted, encoded)
  return encoded
}

export const utf8String = (text: string): Buffer => tlv(Tag.utf8String, Buffer.from(text, 'utf8'))
export const ia5String = (text: string): Buffer => tlv(Tag.ia5String, Buffer.from(text, 'ascii'))
export const octetString = (bytes: Uint8Array): Buffer => tlv(Tag.octetString, bytes)

/** A BIT STRING with no unused bits (signatures, public keys). */
export const bitString = (bytes: Uint8Array): Buffer => tlv(Tag.bitString, Buffer.from([0]), bytes)

/**
 * A certificate validity instant (RFC 5280 §4.1.2.5): UTCTime (YYMMDDHHMMSSZ) through 2049,
 * GeneralizedTime (YYYYMMDDHHMMSSZ) from 2050. Milliseconds are dropped.
 */
export function time(at: Date): Buffer {
  const iso = at.toISOString() // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`
  const year = at.getUTCFullYear()
  if (year < 1950 || year > 9999) throw new TypeError(`certificate time out of range: ${iso}`)
  return year < 2050
    ? tlv(Tag.utcTime, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(Tag.generalizedTime, Buffer.from(digits, 'ascii'))
}
