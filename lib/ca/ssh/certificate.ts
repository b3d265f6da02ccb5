/**
 * OpenSSH certificates (PROTOCOL.certkeys in the OpenSSH sources), encoded with node:crypto.
 *
 * Field order of the signed part, for every key type:
 *   string  "<key type>-cert-v01@openssh.com"
 *   string  nonce
 *   ...     the subject key's public fields
 *   uint64  serial
 *   uint32  type (1 user, 2 host)
 *   string  key id
 *   string  valid principals (a packed list of strings)
 *   uint64  valid after, uint64 valid before (seconds since the epoch)
 *   string  critical options, string extensions (packed name/data pairs, sorted by name)
 *   string  reserved (empty)
 *   string  signature key (the CA's public key blob)
 * followed by `string signature` over all of the above.
 */
import type { KeyObject } from 'node:crypto'
import type { Signer } from '../../ports/signer.ts'
import { ecdsaDerToRaw } from '../signature.ts'
import type { SpkiKey } from '../spki.ts'
import {
  publicKeyBlob,
  spkiSshType,
  sshKeyType,
  toPublicKey,
  writePublicFields,
  writeSpkiPublicKey,
} from './public-key.ts'
import { SshWriter } from './wire.ts'

export type SshCertType = 'user' | 'host'

export interface SshCertificateTemplate {
  readonly type: SshCertType
  /**
   * The subject's public key (the caller's own key; the CA never generates it): a KeyObject, or a
   * parsed P-256/Ed25519 SPKI (the fast path used by issuance).
   */
  readonly publicKey: KeyObject | SpkiKey
  readonly keyId: string
  readonly principals: readonly string[]
  readonly serial: bigint
  readonly validAfter: Date
  readonly validBefore: Date
  /** Name → value; OpenSSH wraps non-empty values as strings. */
  readonly criticalOptions?: Readonly<Record<string, string>>
  /** Name → value; `''` for flag extensions such as `permit-pty`. */
  readonly extensions?: Readonly<Record<string, string>>
  /** 32 random bytes; makes the signed data unpredictable (defeats chosen-prefix attacks). */
  readonly nonce: Uint8Array
}

export interface SshCertificate {
  /** The certificate blob (what is base64-encoded in a `-cert.pub` file). */
  readonly blob: Buffer
  /** The `-cert.pub` line: `<cert type> <base64>`. */
  readonly line: string
}

/** Signs an OpenSSH certificate with the CA behind `ca`. */
export async function signSshCertificate(
  template: SshCertificateTemplate,
  ca: Signer,
): Promise<SshCertificate> {
  const w = new SshWriter()
  let certType: string
  if (isSpkiKey(template.publicKey)) {
    certType = `${spkiSshType(template.publicKey)}-cert-v01@openssh.com`
    // The SPKI writer emits the plain key type first; the certificate starts with the cert type.
    const fields = new SshWriter()
    writeSpkiPublicKey(fields, template.publicKey)
    w.string(certType).string(template.nonce).raw(skipFirstString(fields.toBuffer()))
  } else {
    const subject = toPublicKey(template.publicKey)
    certType = `${sshKeyType(subject)}-cert-v01@openssh.com`
    w.string(certType).string(template.nonce)
    writePublicFields(w, subject)
  }
  w.uint64(template.serial)
    .uint32(template.type === 'user' ? 1 : 2)
    .string(template.keyId)
    .string(packStrings(template.principals))
    .uint64(BigInt(Math.floor(template.validAfter.getTime() / 1000)))
    .uint64(BigInt(Math.floor(template.validBefore.getTime() / 1000)))
    .string(packOptions(template.criticalOptions ?? {}))
    .string(packOptions(template.extensions ?? {}))
    .string('')
    .string(caKeyBlob(ca))
  const signed = w.toBuffer()
  const signature = await ca.sign(signed)
  const blob = new SshWriter().raw(signed).string(signatureBlob(ca, signature)).toBuffer()
  return { blob, line: `${certType} ${blob.toString('base64')}` }
}

function isSpkiKey(key: KeyObject | SpkiKey): key is SpkiKey {
  return (key as SpkiKey).point !== undefined && (key as SpkiKey).spki !== undefined
}

/** Drops the leading SSH string (the key type name) of a public key blob. */
function skipFirstString(blob: Buffer): Buffer {
  return blob.subarray(4 + blob.readUInt32BE(0))
}

const caBlobs = new WeakMap<Signer, Buffer>()

/** The CA's public key blob, computed once per signer: it is the same in every certificate. */
function caKeyBlob(ca: Signer): Buffer {
  let blob = caBlobs.get(ca)
  if (!blob) {
    blob = publicKeyBlob(ca.publicKey)
    caBlobs.set(ca, blob)
  }
  return blob
}

/** The SSH signature blob for a signature produced by `ca` (RFC 5656 §3.1.2, RFC 8709 §6). */
function signatureBlob(ca: Signer, signature: Uint8Array): Buffer {
  switch (ca.algorithm) {
    case 'ed25519':
      return new SshWriter().string('ssh-ed25519').string(signature).toBuffer()
    case 'ecdsa-p256-sha256': {
      const raw = ecdsaDerToRaw(signature, 32)
      const rs = new SshWriter().mpint(raw.subarray(0, 32)).mpint(raw.subarray(32)).toBuffer()
      return new SshWriter().string('ecdsa-sha2-nistp256').string(rs).toBuffer()
    }
    case 'rsa-pkcs1-sha256':
      return new SshWriter().string('rsa-sha2-256').string(signature).toBuffer()
  }
}

function packStrings(values: readonly string[]): Buffer {
  const w = new SshWriter()
  for (const v of values) w.string(v)
  return w.toBuffer()
}

/** Options and extensions must be sorted by name and unique (PROTOCOL.certkeys). */
function packOptions(options: Readonly<Record<string, string>>): Buffer {
  const w = new SshWriter()
  for (const name of Object.keys(options).sort()) {
    const value = options[name] as string
    w.string(name).string(value === '' ? Buffer.alloc(0) : new SshWriter().string(value).toBuffer())
  }
  return w.toBuffer()
}
