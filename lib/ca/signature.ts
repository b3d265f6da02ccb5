/**
 * Conversions between ECDSA signature encodings: X.509 and KMS use DER `Ecdsa-Sig-Value`
 * (SEQUENCE { r INTEGER, s INTEGER }), JWS (RFC 7518 §3.4) and SSH want r and s as numbers.
 */

/** DER `Ecdsa-Sig-Value` → fixed-width `r || s` (each `size` bytes: 32 for P-256). */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Buffer {
  const buf = Buffer.from(der)
  let offset = 0
  const expect = (tag: number) => {
    if (buf[offset++] !== tag) throw new TypeError('malformed ECDSA signature')
    let len = buf[offset++] as number
    if (len & 0x80) {
      const n = len & 0x7f
      len = 0
      for (let i = 0; i < n; i++) len = len * 256 + (buf[offset++] as number)
    }
    return len
  }
  expect(0x30)
  const out = Buffer.alloc(size * 2)
  for (let part = 0; part < 2; part++) {
    const len = expect(0x02)
    let value = buf.subarray(offset, offset + len)
    offset += len
    while (value.length > size && value[0] === 0) value = value.subarray(1)
    if (value.length > size) throw new TypeError('malformed ECDSA signature')
    value.copy(out, part * size + size - value.length)
  }
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
