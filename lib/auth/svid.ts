/**
 * SPIFFE workload identities for a bot's `workload-identity-x509` and `workload-identity-jwt`
 * outputs. The trust domain is the cluster name; a SPIFFE ID is `spiffe://<cluster><path>`.
 *
 * The bot impersonates the output's roles as for any issuance ({@link authorizeImpersonation});
 * one of them must allow the path in `spiffe` and none deny it.
 *
 * - **X.509-SVID** (SPIFFE X.509-SVID standard): one URI SAN, the SPIFFE ID; `CA:false`;
 *   critical keyUsage `digitalSignature`; extKeyUsage server and client auth; for the caller's
 *   key; signed by the user CA, whose certificates are the trust bundle. It carries no credbroker
 *   identity extension, so it authenticates a workload to its peers, never to this API.
 * - **JWT-SVID** (SPIFFE JWT-SVID standard): ES256 with the JWT CA key, `kid` as published in
 *   the JWKS (`/.well-known/jwks.json`); claims `sub` (the SPIFFE ID), `aud` (the requested
 *   audiences, at least one), `iat`, `exp`, and a unique `jti`.
 *
 * Every issuance and refusal is an audit event.
 */

import { BACKDATE_MS } from '../ca/issue-user-certificates.ts'
import { newSerial } from '../ca/serial.ts'
import { ecdsaDerToRaw } from '../ca/signature.ts'
import { certificatePem, signCertificate } from '../ca/x509/certificate.ts'
import {
  authorityKeyIdentifier,
  basicConstraints,
  extendedKeyUsage,
  KeyUsage,
  keyUsage,
  subjectAltName,
} from '../ca/x509/extensions.ts'
import { encodeName, NameAttribute } from '../ca/x509/name.ts'
import { AccessDeniedError, BadRequestError } from '../errors.ts'
import { canUseSpiffePath } from '../rbac/index.ts'
import { recordAudit } from './audit.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'
import { type AuthorizedImpersonation, authorizeImpersonation } from './impersonate.ts'
import type { CallerPublicKey } from './public-key.ts'

/** A SPIFFE ID path: segments of the characters SPIFFE allows, no empty, `.` or `..` segment. */
const PATH = /^(\/(?!\.{1,2}(\/|$))[A-Za-z0-9._-]+)+$/
const MAX_AUDIENCES = 16

export interface SvidRequest {
  readonly roles: readonly string[]
  readonly path: string
  readonly ttlMs: number
}

export interface X509SvidResponse {
  readonly spiffe_id: string
  readonly svid: string
  readonly serial: string
  readonly not_before: string
  readonly not_after: string
}

export interface JwtSvidResponse {
  readonly spiffe_id: string
  readonly token: string
  readonly audiences: readonly string[]
  readonly not_after: string
  readonly serial: string
}

export async function issueX509Svid(
  deps: AuthDeps,
  caller: Caller,
  req: SvidRequest & { readonly publicKey: CallerPublicKey },
): Promise<X509SvidResponse> {
  const { spiffeId, granted } = await authorize(deps, caller, req, 'x509')
  const tls = deps.cas.user.tls
  if (!tls) throw new TypeError('the user CA has no X.509 key')
  const serial = newSerial(deps.random)
  const notBefore = new Date(granted.now.getTime() - BACKDATE_MS)
  const der = await signCertificate(
    {
      serial,
      issuer: tls.subject,
      subject: encodeName([[NameAttribute.organization, 'SPIFFE']]),
      notBefore,
      notAfter: granted.notAfter,
      publicKey: req.publicKey.spki,
      extensions: [
        basicConstraints(false),
        keyUsage([KeyUsage.digitalSignature]),
        extendedKeyUsage('serverAuth', 'clientAuth'),
        authorityKeyIdentifier(tls.keyId),
        subjectAltName({ uris: [spiffeId] }),
      ],
    },
    tls.signer,
  )
  const serialHex = Buffer.from(serial).toString('hex')
  await audit(deps, caller, granted, { kind: 'x509', spiffe_id: spiffeId, serial: serialHex })
  return {
    spiffe_id: spiffeId,
    svid: certificatePem(der),
    serial: serialHex,
    not_before: notBefore.toISOString(),
    not_after: granted.notAfter.toISOString(),
  }
}

export async function issueJwtSvid(
  deps: AuthDeps,
  caller: Caller,
  req: SvidRequest & { readonly audiences: readonly string[] },
): Promise<JwtSvidResponse> {
  const audiences = [...new Set(req.audiences)]
  if (audiences.length === 0 || audiences.length > MAX_AUDIENCES || audiences.some((a) => a.length === 0)) {
    throw new BadRequestError(`a JWT-SVID needs 1 to ${MAX_AUDIENCES} non-empty audiences`)
  }
  const { spiffeId, granted } = await authorize(deps, caller, req, 'jwt')
  const jwt = deps.cas.jwt.jwt
  if (!jwt) throw new TypeError('the JWT CA has no key')
  const jti = Buffer.from(deps.random.bytes(16)).toString('hex')
  const header = { alg: 'ES256', typ: 'JWT', kid: jwt.kid }
  const claims = {
    sub: spiffeId,
    aud: audiences,
    iat: Math.floor(granted.now.getTime() / 1000),
    exp: Math.floor(granted.notAfter.getTime() / 1000),
    jti,
  }
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const signingInput = `${encode(header)}.${encode(claims)}`
  const signature = ecdsaDerToRaw(await jwt.signer.sign(Buffer.from(signingInput)), 32)
  await audit(deps, caller, granted, { kind: 'jwt', spiffe_id: spiffeId, serial: jti, audiences })
  return {
    spiffe_id: spiffeId,
    token: `${signingInput}.${signature.toString('base64url')}`,
    audiences,
    not_after: granted.notAfter.toISOString(),
    serial: jti,
  }
}

async function authorize(
  deps: AuthDeps,
  caller: Caller,
  req: SvidRequest,
  kind: 'x509' | 'jwt',
): Promise<{ spiffeId: string; granted: AuthorizedImpersonation }> {
  if (!PATH.test(req.path))
    throw new BadRequestError(`"${req.path}" is not a SPIFFE ID path such as /svc/web`)
  try {
    const granted = await authorizeImpersonation(deps, caller, req)
    const decision = canUseSpiffePath(granted.roles, req.path)
    if (!decision.allowed) throw new AccessDeniedError(`${granted.requested.join(', ')}: ${decision.reason}`)
    return { spiffeId: `spiffe://${deps.clusterName}${req.path}`, granted }
  } catch (err) {
    if (err instanceof AccessDeniedError) {
      await recordAudit(deps, {
        type: 'svid.issued',
        user: caller.identity.user,
        success: false,
        fields: { kind, roles: req.roles, path: req.path, reason: err.message },
      })
    }
    throw err
  }
}

function audit(
  deps: AuthDeps,
  caller: Caller,
  granted: AuthorizedImpersonation,
  fields: { kind: string; spiffe_id: string; serial: string; audiences?: readonly string[] },
) {
  return recordAudit(deps, {
    type: 'svid.issued',
    user: caller.identity.user,
    success: true,
    fields: { ...fields, roles: granted.requested, expires: granted.notAfter.toISOString() },
  })
}
