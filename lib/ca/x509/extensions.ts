/** Standard certificate extensions (RFC 5280 §4.2), DER-encoded. */
import { createHash } from 'node:crypto'
import { boolean, octetString, oid, sequence, smallInteger, tlv, utf8String } from '../der.ts'
import { children, readTlv } from '../der-reader.ts'

export interface Extension {
  readonly oid: string
  readonly critical: boolean
  /** The DER value wrapped in the extension's OCTET STRING. */
  readonly value: Uint8Array
}

const encoded = new WeakMap<Extension, Buffer>()

/**
 * DER of one Extension. Encodings are remembered per Extension object, so the constant
 * extensions every leaf shares (basic constraints, key usage, extended key usage) are encoded once.
 */
export function encodeExtension(ext: Extension): Buffer {
  let der = encoded.get(ext)
  if (!der) {
    der = ext.critical
      ? sequence(oid(ext.oid), boolean(true), octetString(ext.value))
      : sequence(oid(ext.oid), octetString(ext.value))
    encoded.set(ext, der)
  }
  return der
}

/** basicConstraints, always critical. A CA gets pathLenConstraint 0: it signs only leaves. */
export function basicConstraints(ca: boolean): Extension {
  return {
    oid: '2.5.29.19',
    critical: true,
    value: ca ? sequence(boolean(true), smallInteger(0)) : sequence(),
  }
}

/** keyUsage bits, numbered as in RFC 5280 §4.2.1.3. */
export const KeyUsage = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const

/** keyUsage, critical, as a named bit string with trailing zero bits removed (X.690 §11.2.2). */
export function keyUsage(bits: readonly number[]): Extension {
  let mask = 0
  for (const b of bits) {
    if (b < 0 || b > 7) throw new TypeError(`keyUsage bit ${b} is not supported`)
    mask |= 0x80 >> b
  }
  const unused = mask === 0 ? 0 : trailingZeros(mask)
  return { oid: '2.5.29.15', critical: true, value: tlv(0x03, Buffer.from([unused, mask])) }
}

function trailingZeros(byte: number): number {
  let n = 0
  while (n < 8 && (byte & (1 << n)) === 0) n++
  return n
}

/** extKeyUsage (not critical). */
export function extendedKeyUsage(...purposes: ReadonlyArray<'clientAuth' | 'serverAuth'>): Extension {
  const oids = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' }
  return { oid: '2.5.29.37', critical: false, value: sequence(...purposes.map((p) => oid(oids[p]))) }
}

/** The key identifier of RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: Uint8Array): Buffer {
  return createHash('sha1').update(subjectPublicKeyBits(spki)).digest()
}

/** subjectKeyIdentifier (not critical). */
export function subjectKeyIdentifier(keyId: Uint8Array): Extension {
  return { oid: '2.5.29.14', critical: false, value: octetString(keyId) }
}

/** authorityKeyIdentifier with the keyIdentifier field `[0]` (not critical). */
export function authorityKeyIdentifier(keyId: Uint8Array): Extension {
  return { oid: '2.5.29.35', critical: false, value: sequence(tlv(0x80, keyId)) }
}

/** subjectAltName with DNS names, IP addresses and URIs (not critical: the subject is non-empty). */
export function subjectAltName(names: {
  dns?: readonly string[]
  ips?: readonly Uint8Array[]
  uris?: readonly string[]
}): Extension {
  const general = [
    ...(names.dns ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
    ...(names.ips ?? []).map((ip) => tlv(0x87, ip)),
    ...(names.uris ?? []).map((u) => tlv(0x86, Buffer.from(u, 'ascii'))),
  ]
  return { oid: '2.5.29.17', critical: false, value: sequence(...general) }
}

/** A private, non-critical extension holding a UTF8String (custom extensions stay non-critical). */
export function textExtension(extOid: string, text: string): Extension {
  return { oid: extOid, critical: false, value: utf8String(text) }
}

/** The BIT STRING contents of a DER SubjectPublicKeyInfo, without the unused-bits byte. */
function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const info = readTlv(spki, 0)
  const [algorithm, bits] = children(spki, info)
  if (!algorithm || !bits || bits.tag !== 0x03 || bits.end - bits.start < 2) {
    throw new TypeError('malformed SubjectPublicKeyInfo')
  }
  return spki.subarray(bits.start + 1, bits.end)
}
