/**
 * Issues the pair of user certificates an identity travels in: an X.509 client certificate and
 * an OpenSSH user certificate, both for the caller's own public key, both carrying the identity,
 * both valid over the same window and sharing one serial number (for audit correlation).
 */
import type { Identity } from '../identity/identity.ts'
import { sshIdentityExtensions } from '../identity/ssh-encoding.ts'
import { identityExtension, identitySubject } from '../identity/x509-encoding.ts'
import type { Random } from '../random.ts'
import type { LoadedCa } from './authorities.ts'
import type { SpkiKey } from './spki.ts'
import { signSshCertificate } from './ssh/certificate.ts'
import { certificatePem, signCertificate } from './x509/certificate.ts'
import {
  authorityKeyIdentifier,
  basicConstraints,
  type Extension,
  extendedKeyUsage,
  KeyUsage,
  keyUsage,
} from './x509/extensions.ts'

/** NotBefore is backdated so peers whose clocks run a little behind accept new certificates. */
export const BACKDATE_MS = 60_000

export interface UserCertificateRequest {
  readonly identity: Identity
  /** The caller's public key (one key for both certificates). */
  readonly publicKey: SpkiKey
  /** The instant of issuance; the certificates are valid from `now − BACKDATE_MS`. */
  readonly now: Date
  readonly notAfter: Date
}

export interface UserCertificates {
  readonly tlsCertDer: Buffer
  readonly tlsCertPem: string
  /** The `-cert.pub` line. */
  readonly sshCert: string
  /** Hex serial shared by both certificates. */
  readonly serial: string
  readonly notBefore: Date
  readonly notAfter: Date
}

const LEAF_EXTENSIONS = [
  basicConstraints(false),
  keyUsage([KeyUsage.digitalSignature]),
  extendedKeyUsage('clientAuth'),
]

const akiByCa = new WeakMap<object, Extension>()

/** The CA's authorityKeyIdentifier extension, built once per CA (its encoding is cached too). */
function authorityKeyOf(tls: NonNullable<LoadedCa['tls']>): Extension {
  let ext = akiByCa.get(tls)
  if (!ext) {
    ext = authorityKeyIdentifier(tls.keyId)
    akiByCa.set(tls, ext)
  }
  return ext
}

export async function issueUserCertificates(
  ca: LoadedCa,
  req: UserCertificateRequest,
  random: Random,
): Promise<UserCertificates> {
  if (!ca.tls || !ca.ssh) throw new TypeError(`the ${ca.type} CA cannot issue user certificates`)
  const serialBytes = random.bytes(16)
  serialBytes[0] = (serialBytes[0] ?? 0) & 0x7f // positive, and never a 17-byte DER integer
  const notBefore = new Date(req.now.getTime() - BACKDATE_MS)
  const [tlsCertDer, ssh] = await Promise.all([
    signCertificate(
      {
        serial: serialBytes,
        issuer: ca.tls.subject,
        subject: identitySubject(req.identity),
        notBefore,
        notAfter: req.notAfter,
        publicKey: req.publicKey.spki,
        extensions: [...LEAF_EXTENSIONS, authorityKeyOf(ca.tls), identityExtension(req.identity)],
      },
      ca.tls.signer,
    ),
    signSshCertificate(
      {
        type: 'user',
        publicKey: req.publicKey,
        keyId: req.identity.user,
        principals: req.identity.logins,
        serial: Buffer.from(serialBytes).readBigUInt64BE(0),
        validAfter: notBefore,
        validBefore: req.notAfter,
        extensions: sshIdentityExtensions(req.identity),
        nonce: random.bytes(32),
      },
      ca.ssh.signer,
    ),
  ])
  return {
    tlsCertDer,
    tlsCertPem: certificatePem(tlsCertDer),
    sshCert: ssh.line,
    serial: Buffer.from(serialBytes).toString('hex'),
    notBefore,
    notAfter: req.notAfter,
  }
}
