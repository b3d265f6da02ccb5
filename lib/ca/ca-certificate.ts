/** Self-signed CA certificates for the X.509 side of each certificate authority. */
import type { Signer } from '../ports/signer.ts'
import { signCertificate } from './x509/certificate.ts'
import {
  basicConstraints,
  KeyUsage,
  keyIdentifier,
  keyUsage,
  subjectKeyIdentifier,
} from './x509/extensions.ts'
import { encodeName, NameAttribute } from './x509/name.ts'

/** CA certificates live ten years; rotation, not expiry, is how CA keys are replaced. */
export const CA_CERT_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000

export interface CaCertificateRequest {
  readonly clusterName: string
  /** Human name of the CA, e.g. `user`. */
  readonly caName: string
  readonly serial: Uint8Array
  readonly now: Date
}

/** The DER subject of a CA: `O=<cluster>, CN=<cluster> <caName> CA`. */
export function caSubject(clusterName: string, caName: string): Buffer {
  return encodeName([
    [NameAttribute.organization, clusterName],
    [NameAttribute.commonName, `${clusterName} ${caName} CA`],
  ])
}

/** A self-signed CA certificate (basicConstraints CA:TRUE, pathlen 0: it signs only leaves). */
export async function createCaCertificate(signer: Signer, req: CaCertificateRequest): Promise<Buffer> {
  const subject = caSubject(req.clusterName, req.caName)
  return signCertificate(
    {
      serial: req.serial,
      issuer: subject,
      subject,
      notBefore: new Date(req.now.getTime() - 60_000),
      notAfter: new Date(req.now.getTime() + CA_CERT_VALIDITY_MS),
      publicKey: signer.publicKey,
      extensions: [
        basicConstraints(true),
        keyUsage([KeyUsage.digitalSignature, KeyUsage.keyCertSign, KeyUsage.cRLSign]),
        subjectKeyIdentifier(keyIdentifier(signer.publicKey)),
      ],
    },
    signer,
  )
}
