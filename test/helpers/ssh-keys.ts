/**
 * SSH user key files for tests, written with node:crypto only (no `ssh-keygen` process).
 *
 * Why the `openssh-key-v1` format and not PKCS #8 PEM: OpenSSH 9.2 reads ECDSA keys from PKCS #8
 * PEM but refuses Ed25519 ones (`Load key "…": invalid format`, checked with `ssh-keygen -y`), so
 * both key types are written the way `ssh-keygen` itself writes them: unencrypted
 * `-----BEGIN OPENSSH PRIVATE KEY-----` (PROTOCOL.key in the OpenSSH sources).
 *
 * @example
 * ```ts
 * const user = writeKeyPair(dir, 'ed25519', 'alice')
 * const cert = await signSshCertificate({ ...template, publicKey: user.publicKey }, ca)
 * writeFileSync(join(dir, 'alice-ok-cert.pub'), `${cert.line}\n`)
 * ```
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { authorizedKeyLine, publicKeyBlob } from '../../lib/ca/ssh/public-key.ts'
import { SshWriter } from '../../lib/ca/ssh/wire.ts'

export type SshUserKeyType = 'ed25519' | 'ecdsa-p256'

export interface SshKeyPairFiles {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** The private key in `openssh-key-v1` format, mode 0600 (`ssh` refuses group/world-readable keys). */
  readonly keyFile: string
  /** `<keyFile>.pub`: the authorized_keys line of the public key. */
  readonly publicKeyFile: string
}

/**
 * Generates a key pair and writes `<dir>/<name>` and `<dir>/<name>.pub`.
 *
 * No `<name>-cert.pub` is written on purpose: `ssh -i <name>` also offers that file on its own,
 * which would let a negative test pass through a certificate it did not mean to offer. Write
 * certificates under names of their own and pass them as `certFile`.
 */
export function writeKeyPair(
  dir: string,
  type: SshUserKeyType = 'ed25519',
  name = `id_${type}`,
): SshKeyPairFiles {
  const { privateKey, publicKey } =
    type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const keyFile = join(dir, name)
  const publicKeyFile = `${keyFile}.pub`
  writeFileSync(keyFile, openSshPrivateKeyPem(privateKey, name), { mode: 0o600 })
  writeFileSync(publicKeyFile, `${authorizedKeyLine(publicKey, name)}\n`)
  return { privateKey, publicKey, keyFile, publicKeyFile }
}

/** An unencrypted `openssh-key-v1` private key file (Ed25519 or ECDSA P-256). */
export function openSshPrivateKeyPem(privateKey: KeyObject, comment = ''): string {
  if (privateKey.type !== 'private') throw new TypeError('openSshPrivateKeyPem needs a private key')
  const check = randomBytes(4) // two equal check words: a decryption check, meaningless unencrypted
  const section = new SshWriter()
    .raw(check)
    .raw(check)
    .raw(privateFields(privateKey))
    .string(comment)
    .toBuffer()
  // The private section is padded with 1, 2, 3, … to the cipher block size (8 for "none").
  const padding = Buffer.from(Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1))
  const body = new SshWriter()
    .raw(Buffer.from('openssh-key-v1\0', 'latin1'))
    .string('none') // cipher
    .string('none') // KDF
    .string('') // KDF options
    .uint32(1) // number of keys
    .string(publicKeyBlob(privateKey))
    .string(Buffer.concat([section, padding]))
    .toBuffer()
  const lines = body.toString('base64').match(/.{1,70}/g) ?? []
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`
}

/** The public key blob followed by the private fields, as in OpenSSH's `sshkey_private_serialize`. */
function privateFields(privateKey: KeyObject): Buffer {
  const jwk = privateKey.export({ format: 'jwk' })
  const b64 = (v: string | undefined) => Buffer.from(v ?? '', 'base64url')
  const w = new SshWriter().raw(publicKeyBlob(privateKey))
  switch (privateKey.asymmetricKeyType) {
    case 'ed25519':
      // OpenSSH stores the 64-byte "secret key" of the reference implementation: seed || public.
      return w.string(Buffer.concat([b64(jwk.d), b64(jwk.x)])).toBuffer()
    case 'ec':
      return w.mpint(b64(jwk.d)).toBuffer()
    default:
      throw new TypeError(`unsupported SSH user key type: ${privateKey.asymmetricKeyType}`)
  }
}
