/**
 * A minimal DER reader: just enough to walk a certificate to its extensions without building an
 * object model (fast, and independent of ASN.1 libraries that mishandle large OID arcs).
 * Throws `RangeError` on malformed input; callers translate that into their own error.
 */

export interface Tlv {
  /** Offset of the tag byte. */
  readonly offset: number
  readonly tag: number
  /** Offset of the first content byte. */
  readonly start: number
  /** Offset just past the last content byte. */
  readonly end: number
}

/** Reads the TLV at `offset` of `buf`, bounded by `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new RangeError('truncated DER')
  const tag = buf[offset] as number
  let len = buf[offset + 1] as number
  let start = offset + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4 || start + n > limit) throw new RangeError('bad DER length')
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] as number)
    start += n
  }
  const end = start + len
  if (end > limit) throw new RangeError('truncated DER')
  return { offset, tag, start, end }
}

/** The children of a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = []
  for (let at = parent.start; at < parent.end; ) {
    const child = readTlv(buf, at, parent.end)
    out.push(child)
    at = child.end
  }
  return out
}

/**
 * The content of the extnValue OCTET STRING of the extension whose DER-encoded OID is
 * `oidDer`, or `undefined` when the certificate has no such extension.
 */
export function findExtensionValue(certDer: Uint8Array, oidDer: Uint8Array): Uint8Array | undefined {
  const cert = readTlv(certDer, 0)
  const tbs = readTlv(certDer, cert.start, cert.end)
  const wrapper = children(certDer, tbs).find((c) => c.tag === 0xa3)
  if (!wrapper) return undefined
  const list = readTlv(certDer, wrapper.start, wrapper.end)
  for (const ext of children(certDer, list)) {
    const [id, ...rest] = children(certDer, ext)
    if (!id || !Buffer.from(certDer.subarray(id.offset, id.end)).equals(Buffer.from(oidDer))) continue
    const value = rest.find((c) => c.tag === 0x04)
    return value && certDer.subarray(value.start, value.end)
  }
  return undefined
}
