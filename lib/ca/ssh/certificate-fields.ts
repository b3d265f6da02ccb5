/**
 * Reading back what an OpenSSH certificate line says (type, key id, principals, validity), for
 * diagnostics (`credbroker doctor`). Parses the fields that precede the extensions; verifies
 * nothing — sshd verifies.
 */
import { SshReader } from './wire.ts'

export interface SshCertificateFields {
  readonly certType: 'user' | 'host'
  readonly keyId: string
  readonly principals: readonly string[]
  readonly validAfter: Date
  readonly validBefore: Date
}

/** Key fields after the nonce, by certificate key type (RFC 4253 / PROTOCOL.certkeys). */
const KEY_FIELD_COUNT: Readonly<Record<string, number>> = {
  'ecdsa-sha2-nistp256-cert-v01@openssh.com': 2, // curve, Q
  'ssh-ed25519-cert-v01@openssh.com': 1, // pk
  'ssh-rsa-cert-v01@openssh.com': 2, // e, n
}

/** @throws TypeError when the line is not an OpenSSH certificate of a supported key type. */
export function sshCertificateFields(line: string): SshCertificateFields {
  const [type, blob] = line.trim().split(/\s+/)
  const fields = type === undefined ? undefined : KEY_FIELD_COUNT[type]
  if (fields === undefined || blob === undefined) throw new TypeError('not an OpenSSH certificate line')
  const r = new SshReader(Buffer.from(blob, 'base64'))
  if (r.text() !== type) throw new TypeError('certificate type does not match its line')
  r.string() // nonce
  for (let i = 0; i < fields; i++) r.string()
  r.uint64() // serial
  const certType = r.uint32() === 2 ? 'host' : 'user'
  const keyId = r.text()
  const packed = new SshReader(r.string())
  const principals: string[] = []
  while (!packed.done) principals.push(packed.text())
  const validAfter = new Date(Number(r.uint64()) * 1000)
  const validBefore = new Date(Number(r.uint64()) * 1000)
  return { certType, keyId, principals, validAfter, validBefore }
}
