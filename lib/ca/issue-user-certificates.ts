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
import { newSerial } from './serial.ts'
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
import { encodeName, NameAttribute } from './x509/name.ts'

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
  const serialBytes = newSerial(random)
  const notBefore = new Date(req.now.getTime() - BACKDATE_MS)
  const [tlsCertDer, ssh] = await Promise.all([
    signLeaf(ca.tls, req, req.publicKey.spki, identitySubject(req.identity), serialBytes, notBefore),
    signSshCertificate(
      {
        type: 'user',
        publicKey: req.publicKey,
        keyId: req.identity.user,
        principals: principalsOf(req.identity, random),
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

export interface RoutedCertificateRequest extends Omit<UserCertificateRequest, 'publicKey'> {
  /** The caller's key as a DER SubjectPublicKeyInfo (RSA allowed: database clients). */
  readonly publicKey: { readonly spki: Uint8Array }
  /** Replaces the identity's subject (`CN=<user>`, `O=<role>`…) where the target reads it. */
  readonly subject?: { readonly commonName: string; readonly organizations: readonly string[] }
}

/**
 * An X.509 client certificate alone, for a routed identity (database, Kubernetes, app): signed
 * by `ca` (the database CA for databases), carrying the identity extension, with the subject the
 * target authenticates by. No SSH certificate: routes are TLS-only.
 */
export async function issueRoutedCertificate(
  ca: LoadedCa,
  req: RoutedCertificateRequest,
  random: Random,
): Promise<Omit<UserCertificates, 'sshCert'>> {
  if (!ca.tls) throw new TypeError(`the ${ca.type} CA cannot issue X.509 certificates`)
  const serialBytes = newSerial(random)
  const notBefore = new Date(req.now.getTime() - BACKDATE_MS)
  const subject = req.subject
    ? encodeName([
        [NameAttribute.commonName, req.subject.commonName],
        ...req.subject.organizations.map((o) => [NameAttribute.organization, o] as const),
      ])
    : identitySubject(req.identity)
  const tlsCertDer = await signLeaf(ca.tls, req, req.publicKey.spki, subject, serialBytes, notBefore)
  return {
    tlsCertDer,
    tlsCertPem: certificatePem(tlsCertDer),
    serial: Buffer.from(serialBytes).toString('hex'),
    notBefore,
    notAfter: req.notAfter,
  }
}

/**
 * The certificate's principals: the identity's logins, or when it has none one placeholder no
 * account can be named. An OpenSSH certificate with an empty principal list is valid for *every*
 * principal (OpenSSH's sshd refuses it, but other verifiers such as Go's x/crypto/ssh accept it
 * for any user), so an identity without logins must never produce one.
 */
function principalsOf(identity: Identity, random: Random): readonly string[] {
  if (identity.logins.length > 0) return identity.logins
  return [`-credbroker-nologin-${Buffer.from(random.bytes(8)).toString('hex')}`]
}

function signLeaf(
  tls: NonNullable<LoadedCa['tls']>,
  req: Pick<UserCertificateRequest, 'identity' | 'notAfter'>,
  spki: Uint8Array,
  subject: Buffer,
  serial: Uint8Array,
  notBefore: Date,
): Promise<Buffer> {
  return signCertificate(
    {
      serial,
      issuer: tls.subject,
      subject,
      notBefore,
      notAfter: req.notAfter,
      publicKey: spki,
      extensions: [...LEAF_EXTENSIONS, authorityKeyOf(tls), identityExtension(req.identity)],
    },
    tls.signer,
  )
}
