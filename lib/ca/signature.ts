import { children, readTlv, type Tlv } from './der-reader.ts'

/**
 * Conversions between ECDSA signature encodings: X.509 and KMS use DER `Ecdsa-Sig-Value`
 * (SEQUENCE { r INTEGER, s INTEGER }), JWS (RFC 7518 §3.4) and SSH want r and s as numbers.
 */

/**
 * DER `Ecdsa-Sig-Value` → fixed-width `r || s` (each `size` bytes: 32 for P-256).
 * @throws TypeError unless the input is exactly one SEQUENCE of two INTEGERs that fit `size`
 *   (signatures may come from a remote key service: never reinterpret a damaged one).
 */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Buffer {
  const malformed = () => new TypeError('malformed ECDSA signature')
  let parts: Tlv[]
  try {
    const seq = readTlv(der, 0)
    if (seq.tag !== 0x30 || seq.end !== der.length) throw malformed()
    parts = children(der, seq)
  } catch {
    throw malformed()
  }
  if (parts.length !== 2 || parts.some((p) => p.tag !== 0x02 || p.end === p.start)) throw malformed()
  const out = Buffer.alloc(size * 2)
  parts.forEach((part, index) => {
    let value = Buffer.from(der.subarray(part.start, part.end))
    while (value.length > size && value[0] === 0) value = value.subarray(1)
    if (value.length > size) throw malformed()
    value.copy(out, index * size + size - value.length)
  })
  return out
}

/** Fixed-width `r || s` → DER `Ecdsa-Sig-Value`. */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  const size = raw.length / 2
  const int = (bytes: Uint8Array) => {
    let start = 0
    while (start < bytes.length - 1 && bytes[start] === 0) start++
    let v = Buffer.from(bytes.subarray(start))
    if ((v[0] as number) & 0x80) v = Buffer.concat([Buffer.from([0]), v])
    return Buffer.concat([Buffer.from([0x02, v.length]), v])
  }
  const body = Buffer.concat([int(raw.subarray(0, size)), int(raw.subarray(size))])
  return Buffer.concat([Buffer.from([0x30, body.length]), body])
}
