/** X.501 distinguished names for certificate subjects and issuers (RFC 5280 §4.1.2.4). */
import { oid, sequence, setOf, utf8String } from '../der.ts'

/** Attribute types used in credbroker names. */
export const NameAttribute = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  locality: '2.5.4.7',
} as const

export type NameAttributeOid = (typeof NameAttribute)[keyof typeof NameAttribute]

/** One attribute per relative distinguished name, in order, each as a UTF8String. */
export type Name = ReadonlyArray<readonly [NameAttributeOid, string]>

/** DER encoding of a Name. */
export function encodeName(name: Name): Buffer {
  return sequence(...name.map(([type, value]) => setOf(sequence(oid(type), utf8String(value)))))
}
