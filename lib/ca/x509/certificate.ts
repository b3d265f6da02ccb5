/**
 * X.509 v3 certificates (RFC 5280 §4.1), assembled from DER parts and signed through the
 * {@link Signer} port.
 */
import type { SignatureAlgorithm, Signer } from '../../ports/signer.ts'
import { bitString, explicit, sequence, smallInteger, time, unsignedInteger } from '../der.ts'
import { signatureAlgorithmIdentifier } from './algorithms.ts'
import { type Extension, encodeExtension } from './extensions.ts'

export interface CertificateTemplate {
  /** Positive serial number, at most 20 bytes (RFC 5280 §4.1.2.2). */
  readonly serial: Uint8Array
  /** DER Name of the issuer: the CA certificate's subject. */
  readonly issuer: Uint8Array
  /** DER Name of the subject. */
  readonly subject: Uint8Array
  readonly notBefore: Date
  readonly notAfter: Date
  /** DER SubjectPublicKeyInfo of the subject's key. */
  readonly publicKey: Uint8Array
  readonly extensions: readonly Extension[]
}

/** The DER TBSCertificate to be signed by an issuer using `algorithm`. */
export function encodeTbsCertificate(template: CertificateTemplate, algorithm: SignatureAlgorithm): Buffer {
  if (template.serial.length === 0 || template.serial.length > 20)
    throw new TypeError('serial must be 1 to 20 bytes')
  if (template.notAfter.getTime() <= template.notBefore.getTime())
    throw new TypeError('notAfter must follow notBefore')
  return sequence(
    explicit(0, smallInteger(2)), // version v3
    unsignedInteger(template.serial),
    signatureAlgorithmIdentifier(algorithm),
    template.issuer,
    sequence(time(template.notBefore), time(template.notAfter)),
    template.subject,
    template.publicKey,
    // RFC 5280 §4.1: Extensions is SEQUENCE SIZE (1..MAX); without any, the field is absent.
    ...(template.extensions.length > 0
      ? [explicit(3, sequence(...template.extensions.map(encodeExtension)))]
      : []),
  )
}

/** Signs a certificate; returns its DER encoding. */
export async function signCertificate(template: CertificateTemplate, issuer: Signer): Promise<Buffer> {
  const tbs = encodeTbsCertificate(template, issuer.algorithm)
  const signature = await issuer.sign(tbs)
  return sequence(tbs, signatureAlgorithmIdentifier(issuer.algorithm), bitString(signature))
}

/** PEM armour for a DER certificate. */
export function certificatePem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64')
  const lines = b64.match(/.{1,64}/g) ?? []
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
}
