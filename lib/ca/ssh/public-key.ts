/**
 * OpenSSH public key encodings (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4) from node:crypto keys.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import type { SpkiKey } from '../spki.ts'
import { SshWriter } from './wire.ts'

/** The SSH key type names this project issues and trusts. */
export type SshKeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ssh-rsa'

/** The SSH public key type of a node:crypto key. */
export function sshKeyType(key: KeyObject): SshKeyType {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'ssh-ed25519'
    case 'ec':
      if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
        throw new TypeError('only the P-256 curve is supported for SSH')
      return 'ecdsa-sha2-nistp256'
    case 'rsa':
      return 'ssh-rsa'
    default:
      throw new TypeError(`unsupported SSH key type: ${key.asymmetricKeyType}`)
  }
}

/** Writes the type name and public fields of a parsed P-256 or Ed25519 SPKI (no OpenSSL call). */
export function writeSpkiPublicKey(w: SshWriter, key: SpkiKey): void {
  if (key.type === 'ed25519') w.string('ssh-ed25519').string(key.point)
  else w.string('ecdsa-sha2-nistp256').string('nistp256').string(key.point)
}

/** The SSH key type of a parsed SPKI. */
export const spkiSshType = (key: SpkiKey): SshKeyType =>
  key.type === 'ed25519' ? 'ssh-ed25519' : 'ecdsa-sha2-nistp256'

/** Writes the type-specific public fields (without the type name) of `key`. */
export function writePublicFields(w: SshWriter, key: KeyObject): void {
  const jwk = key.export({ format: 'jwk' })
  const b64 = (v: string | undefined) => Buffer.from(v ?? '', 'base64url')
  switch (sshKeyType(key)) {
    case 'ssh-ed25519':
      w.string(b64(jwk.x))
      return
    case 'ecdsa-sha2-nistp256':
      w.string('nistp256').string(Buffer.concat([Buffer.from([4]), b64(jwk.x), b64(jwk.y)]))
      return
    case 'ssh-rsa':
      w.mpint(b64(jwk.e)).mpint(b64(jwk.n))
      return
  }
}

/** The public key blob: type name followed by the public fields. */
export function publicKeyBlob(key: KeyObject | Uint8Array): Buffer {
  const k = toPublicKey(key)
  const w = new SshWriter().string(sshKeyType(k))
  writePublicFields(w, k)
  return w.toBuffer()
}

/** An `authorized_keys` / `.pub` line: `<type> <base64 blob> [comment]`. */
export function authorizedKeyLine(key: KeyObject | Uint8Array, comment?: string): string {
  const k = toPublicKey(key)
  const line = `${sshKeyType(k)} ${publicKeyBlob(k).toString('base64')}`
  return comment ? `${line} ${comment}` : line
}

/** Accepts a KeyObject (public or private) or a DER SubjectPublicKeyInfo. */
export function toPublicKey(key: KeyObject | Uint8Array): KeyObject {
  if (key instanceof Uint8Array)
    return createPublicKey({ key: Buffer.from(key), format: 'der', type: 'spki' })
  return key.type === 'private' ? createPublicKey(key) : key
}
