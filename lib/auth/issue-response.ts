/** The response shape shared by join, renewal and impersonated issuance. */
import type { CertAuthorities } from '../ca/authorities.ts'
import type { UserCertificates } from '../ca/issue-user-certificates.ts'
import type { Identity } from '../identity/identity.ts'

export interface IssueResponse {
  readonly tls_cert: string
  readonly ssh_cert: string
  readonly serial: string
  readonly not_before: string
  readonly not_after: string
  readonly identity: {
    readonly user: string
    readonly roles: readonly string[]
    readonly logins: readonly string[]
    readonly bot_name?: string
    readonly bot_instance_id?: string
    readonly generation: number
    readonly renewable: boolean
    readonly disallow_reissue: boolean
    readonly impersonator?: string
  }
  /** PEM CA certificates a client needs to trust or present: user, host and database CAs. */
  readonly tls_ca_certs: {
    readonly user: readonly string[]
    readonly host: readonly string[]
    readonly db: readonly string[]
  }
  /** `authorized_keys` lines of the SSH CAs. */
  readonly ssh_ca_keys: { readonly user: readonly string[]; readonly host: readonly string[] }
}

export function issueResponse(
  cas: CertAuthorities,
  identity: Identity,
  certs: UserCertificates,
): IssueResponse {
  return {
    tls_cert: certs.tlsCertPem,
    ssh_cert: certs.sshCert,
    serial: certs.serial,
    not_before: certs.notBefore.toISOString(),
    not_after: certs.notAfter.toISOString(),
    identity: {
      user: identity.user,
      roles: identity.roles,
      logins: identity.logins,
      ...(identity.botName !== undefined && { bot_name: identity.botName }),
      ...(identity.botInstanceId !== undefined && { bot_instance_id: identity.botInstanceId }),
      generation: identity.generation,
      renewable: identity.renewable,
      disallow_reissue: identity.disallowReissue,
      ...(identity.impersonator !== undefined && { impersonator: identity.impersonator }),
    },
    tls_ca_certs: { user: cas.user.trustedTlsPems, host: cas.host.trustedTlsPems, db: cas.db.trustedTlsPems },
    ssh_ca_keys: { user: cas.user.trustedSshKeys, host: cas.host.trustedSshKeys },
  }
}
