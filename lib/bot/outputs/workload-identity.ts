/**
 * SPIFFE workload identity outputs, with the file names SPIFFE tooling (and tbot) uses.
 *
 * | output                    | artifacts                                                      |
 * |---------------------------|----------------------------------------------------------------|
 * | `workload-identity-x509`  | `svid.pem` (X.509-SVID), `svid.key` (PKCS #8), `bundle.pem` (trust bundle) |
 * | `workload-identity-jwt`   | `jwt_svid` (the token), `jwt_bundle.json` (the JWKS that verifies it) |
 */
import type { CaBundleResponse, JwtSvidResponse, X509SvidResponse } from '../auth-client.ts'
import type { ClientKey } from '../keys.ts'

export function x509SvidArtifacts(input: {
  readonly key: ClientKey
  readonly svid: X509SvidResponse
  readonly cas: CaBundleResponse
}): Map<string, string> {
  return new Map([
    ['svid.pem', input.svid.svid],
    ['svid.key', input.key.privatePem],
    ['bundle.pem', input.cas.tls.user.join('')],
  ])
}

export function jwtSvidArtifacts(input: {
  readonly svid: JwtSvidResponse
  readonly cas: CaBundleResponse
}): Map<string, string> {
  return new Map([
    ['jwt_svid', input.svid.token],
    ['jwt_bundle.json', `${JSON.stringify({ keys: input.cas.jwks.keys })}\n`],
  ])
}
